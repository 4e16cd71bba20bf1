//! Shared by the examples' tests: running a test on its own multi-thread runtime under a
//! watchdog that turns a hang into a failure saying where it hung.
//!
//! A test that awaits sockets and servers would hang the whole run on a lost wakeup, and
//! a timeout inside the runtime would not fire if the runtime itself were stuck. The
//! watchdog is a plain thread: if the test (including the runtime's shutdown) has not
//! finished within its limit, it prints the step the test last announced, every thread's
//! backtrace (through `gdb`, where installed), the runtime's task dump and metrics, and
//! exits the process with a failure. It writes to the process's standard error directly:
//! the test harness captures what `eprintln!` prints from a test's threads, and would never
//! show it after an `exit`.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::future::Future;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Runs `test` on a new two-worker multi-thread runtime and drops the runtime, failing the
/// process if both have not finished within `limit`. `test` gets the [`Steps`] to announce
/// what it does next.
pub fn run_watched<Fut: Future>(
    name: &'static str,
    limit: Duration,
    test: impl FnOnce(Steps) -> Fut,
) -> Fut::Output {
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("failed to build the test's runtime");
    let watchdog = Watchdog::start(name, limit, rt.handle().clone());
    let output = rt.block_on(test(watchdog.steps()));
    watchdog.steps().step("dropping the runtime");
    drop(rt);
    drop(watchdog);
    output
}

/// What a watched test says it does next, for the report of a hang.
#[derive(Clone)]
pub struct Steps {
    state: Arc<(Mutex<State>, Condvar)>,
}

impl Steps {
    /// Records what the test does next.
    pub fn step(&self, step: impl Into<String>) {
        self.state.0.lock().unwrap().step = step.into();
    }
}

struct State {
    step: String,
    done: bool,
}

/// Fails the process if it is not dropped within its limit; see the module docs.
struct Watchdog {
    steps: Steps,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(name: &'static str, limit: Duration, handle: filch::runtime::Handle) -> Watchdog {
        let steps = Steps {
            state: Arc::new((
                Mutex::new(State {
                    step: "starting".into(),
                    done: false,
                }),
                Condvar::new(),
            )),
        };
        let watched = steps.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            let (lock, cvar) = &*watched.state;
            let mut state = lock.lock().unwrap();
            while !state.done {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    let step = state.step.clone();
                    drop(state);
                    report_hang(name, limit, &step, handle);
                };
                state = cvar.wait_timeout(state, left).unwrap().0;
            }
        });
        Watchdog {
            steps,
            thread: Some(thread),
        }
    }

    fn steps(&self) -> Steps {
        self.steps.clone()
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.steps.state.0.lock().unwrap().done = true;
        self.steps.state.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Prints what is known about a hang and exits the process with a failure.
fn report_hang(name: &str, limit: Duration, step: &str, handle: filch::runtime::Handle) -> ! {
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "\n{name}: did not finish within {limit:?}; last step: {step}"
    );
    print_backtraces(&mut err);
    // The dump takes the registry's locks: if a stuck thread holds one, give up on it.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(format!(
            "task dump:\n{}\nmetrics: {:#?}",
            handle.dump(),
            handle.metrics()
        ));
    });
    match receiver.recv_timeout(Duration::from_secs(10)) {
        Ok(report) => {
            let _ = writeln!(err, "{report}");
        }
        Err(_) => {
            let _ = writeln!(err, "(the task dump did not finish within 10 s)");
        }
    }
    std::process::exit(101);
}

/// Every thread's backtrace, from `gdb` attached to this process, if it is installed.
fn print_backtraces(err: &mut std::io::Stderr) {
    let gdb = Command::new("gdb")
        .args(["-nx", "-batch", "-p", &std::process::id().to_string()])
        .args(["-ex", "set pagination off", "-ex", "thread apply all bt"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut gdb) = gdb else {
        let _ = writeln!(err, "(no gdb to print the threads' backtraces)");
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = gdb.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = gdb.kill();
    let _ = writeln!(err, "(gdb did not finish within 60 s)");
}
