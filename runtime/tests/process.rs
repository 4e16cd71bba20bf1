//! `filch::process`: pipes, exit statuses, kill, kill_on_drop, reaping of dropped children,
//! `output`, spawn errors, on every runtime flavor. Waits are bounded but generous: the
//! tests must pass on a loaded 2-core machine.
mod support;

use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::process::Command;
use filch::time::{timeout, Duration};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use support::{process_gone_within, process_state, runtimes, within};

/// Limit for anything that should take milliseconds.
const LONG: Duration = Duration::from_secs(60);

#[test]
fn cat_echoes_through_the_pipes() {
    for (flavor, rt) in runtimes() {
        rt.block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            // More than a pipe buffer (64 KiB), so both sides really wait on the driver.
            let data: Vec<u8> = (0..512 * 1024u32).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            let writer = filch::spawn(async move {
                stdin.write_all(&data).await.unwrap();
                stdin.close().await.unwrap();
                // A write after close fails instead of reaching a closed fd.
                assert!(stdin.write(b"late").await.is_err());
            });
            let mut got = Vec::new();
            timeout(LONG, stdout.read_to_end(&mut got))
                .await
                .expect("cat's output never ended")
                .unwrap();
            writer.await.unwrap();
            assert!(got == expected, "{flavor}: cat returned other bytes");
            let status = timeout(LONG, child.wait()).await.unwrap().unwrap();
            assert!(status.success(), "{flavor}: {status:?}");
        });
    }
}

#[test]
fn two_hundred_concurrent_children() {
    within(Duration::from_secs(300), "200 children", || {
        for (flavor, rt) in runtimes() {
            rt.block_on(async {
                let mut set = filch::task::JoinSet::new();
                for i in 0..200u32 {
                    set.spawn(async move {
                        let status = Command::new("sh")
                            .args(["-c", &format!("exit {}", i % 100)])
                            .status()
                            .await
                            .unwrap();
                        (i, status)
                    });
                }
                let mut done = 0;
                while let Some(result) = set.join_next().await {
                    let (i, status) = result.unwrap();
                    assert_eq!(status.code(), Some((i % 100) as i32), "{flavor}: child {i}");
                    done += 1;
                }
                assert_eq!(done, 200);
            });
        }
    });
}

#[test]
fn exit_codes_and_a_child_killed_by_a_signal() {
    for (flavor, rt) in runtimes() {
        rt.block_on(async {
            let ok = Command::new("true").status().await.unwrap();
            assert!(ok.success() && ok.code() == Some(0), "{flavor}");
            let seven = Command::new("sh")
                .args(["-c", "exit 7"])
                .status()
                .await
                .unwrap();
            assert_eq!(seven.code(), Some(7), "{flavor}");
            assert!(!seven.success());
            let killed = Command::new("sh")
                .args(["-c", "kill -TERM $$"])
                .status()
                .await
                .unwrap();
            assert_eq!(killed.code(), None, "{flavor}");
            assert_eq!(killed.signal(), Some(libc::SIGTERM), "{flavor}");
        });
    }
}

#[test]
fn kill_then_wait_returns_the_status() {
    for (flavor, rt) in runtimes() {
        rt.block_on(async {
            let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
            let pid = child.id().unwrap();
            assert!(
                child.try_wait().unwrap().is_none(),
                "{flavor}: exited early"
            );
            timeout(LONG, child.kill()).await.unwrap().unwrap();
            // Reaped by `kill`: no /proc entry, not even a zombie's.
            assert_eq!(process_state(pid), None, "{flavor}: not reaped");
            assert_eq!(child.id(), None);
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{flavor}");
            assert_eq!(child.try_wait().unwrap(), Some(status));
            // Killing a reaped child is a no-op, not a signal to whoever has the pid now.
            child.start_kill().unwrap();
            child.kill().await.unwrap();
        });
    }
}

#[test]
fn wait_is_cancel_safe() {
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        assert!(timeout(Duration::from_millis(50), child.wait())
            .await
            .is_err());
        child.start_kill().unwrap();
        let status = timeout(LONG, child.wait()).await.unwrap().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    for (flavor, rt) in runtimes() {
        let pid = rt.block_on(async {
            let child = Command::new("sleep")
                .arg("1000")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            child.id().unwrap()
        });
        // Gone from /proc: killed (sleep 1000 would still be there) and reaped (a zombie
        // would still be there).
        assert!(
            process_gone_within(pid, LONG),
            "{flavor}: pid {pid} still there, state {:?}",
            process_state(pid)
        );
    }
}

#[test]
fn a_child_outliving_its_dropped_child_handle_is_reaped() {
    for (flavor, rt) in runtimes() {
        let (running, exited) = rt.block_on(async {
            // Still running when dropped: goes to the orphan list.
            let running = Command::new("sleep").arg("0.3").spawn().unwrap();
            // Exited (a zombie) when dropped: reaped by the drop itself.
            let exited = Command::new("true").spawn().unwrap();
            let exited_pid = exited.id().unwrap();
            while process_state(exited_pid) != Some('Z') {
                filch::time::sleep(Duration::from_millis(5)).await;
            }
            (running.id().unwrap(), exited_pid)
        });
        // The runtime is gone too: the orphan is reaped by the signal thread.
        drop(rt);
        for pid in [running, exited] {
            assert!(
                process_gone_within(pid, LONG),
                "{flavor}: pid {pid} not reaped, state {:?}",
                process_state(pid)
            );
            // SAFETY: waitpid with WNOHANG on a pid only inspects this process's children.
            let reaped =
                unsafe { libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), libc::WNOHANG) };
            assert_eq!(reaped, -1);
            assert_eq!(
                std::io::Error::last_os_error().raw_os_error(),
                Some(libc::ECHILD),
                "{flavor}: pid {pid} is still our child"
            );
        }
    }
}

#[test]
fn output_collects_stdout_and_stderr() {
    for (flavor, rt) in runtimes() {
        rt.block_on(async {
            let out = Command::new("sh")
                .args(["-c", "echo to-out; echo to-err >&2; exit 4"])
                .output()
                .await
                .unwrap();
            assert_eq!(out.status.code(), Some(4), "{flavor}");
            assert_eq!(out.stdout, b"to-out\n", "{flavor}");
            assert_eq!(out.stderr, b"to-err\n", "{flavor}");

            // A stream set on the Command is respected; the defaults `output` fills in
            // do not stick to the Command.
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "echo quiet; echo loud >&2"])
                .stdout(Stdio::null());
            let out = cmd.output().await.unwrap();
            assert!(out.stdout.is_empty(), "{flavor}");
            assert_eq!(out.stderr, b"loud\n", "{flavor}");
            let child = cmd.spawn().unwrap();
            assert!(child.stdout.is_none() && child.stderr.is_none() && child.stdin.is_none());
            child.wait_with_output().await.unwrap();
        });
    }
}

#[test]
fn echo_output_and_the_builder() {
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let out = Command::new("echo").arg("hi").output().await.unwrap();
        assert_eq!(out.stdout, b"hi\n");

        let out = Command::new("sh")
            .args(["-c", "echo \"$FILCH_A $FILCH_B ${HOME:-nohome}\"; pwd"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("FILCH_A", "a")
            .envs([("FILCH_B", "b"), ("HOME", "h")])
            .env_remove("HOME")
            .current_dir("/")
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "a b nohome\n/\n");

        let mut std_cmd = std::process::Command::new("sh");
        std_cmd.args(["-c", "exit 9"]);
        let mut cmd = Command::from(std_cmd);
        assert_eq!(cmd.as_std().get_program(), "sh");
        assert_eq!(cmd.kill_on_drop(true).as_std_mut().get_args().len(), 2);
        assert!(cmd.get_kill_on_drop());
        assert_eq!(cmd.status().await.unwrap().code(), Some(9));
    });
}

#[test]
fn spawning_a_missing_binary_keeps_the_os_error() {
    for (flavor, rt) in runtimes() {
        rt.block_on(async {
            let err = Command::new("/no/such/filch-binary").spawn().unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{flavor}");
            assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{flavor}");
            let err = Command::new("filch-no-such-program-on-path")
                .output()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{flavor}");
        });
    }
}

#[test]
fn children_spawned_elsewhere_are_not_stolen() {
    // A child spawned with std, blocking-waited by its owner while filch children come
    // and go: filch's waits and sweeps only `waitpid` their own pids.
    let mut std_child = std::process::Command::new("sleep")
        .arg("0.5")
        .spawn()
        .unwrap();
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..20 {
            assert!(Command::new("true").status().await.unwrap().success());
        }
        drop(Command::new("true").spawn().unwrap());
    });
    let status = std_child
        .wait()
        .expect("std's child was reaped by someone else");
    assert!(status.success());
}

#[test]
fn wait_without_a_runtime_and_across_runtimes() {
    // Spawned (no pipes) on one runtime, waited on another, then with no runtime at all.
    let a = filch::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let b = filch::runtime::Runtime::new().unwrap();
    let mut first = a
        .block_on(async { Command::new("sh").args(["-c", "exit 5"]).spawn() })
        .unwrap();
    let mut second = a
        .block_on(async { Command::new("sh").args(["-c", "exit 6"]).spawn() })
        .unwrap();
    drop(a);
    let status = b
        .block_on(async { timeout(LONG, first.wait()).await })
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(5));
    drop(b);
    let status = futures::executor::block_on(second.wait()).unwrap();
    assert_eq!(status.code(), Some(6));
}

#[test]
fn the_public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Unpin + std::panic::UnwindSafe>() {}
    // Not UnwindSafe, as std's (it may hold `pre_exec` closures).
    fn command<T: Send + Sync + Unpin>() {}
    command::<Command>();
    send_sync::<filch::process::Child>();
    send_sync::<filch::process::ChildStdin>();
    send_sync::<filch::process::ChildStdout>();
    send_sync::<filch::process::ChildStderr>();
}

/// Set in the copy of this test binary that `a_sigchld_handler_installed_earlier_keeps_running`
/// starts, so that it runs alone in a fresh process.
const CHAIN_CHILD_ENV: &str = "FILCH_PROCESS_SIGCHLD_CHAIN_CHILD";

#[test]
fn a_sigchld_handler_installed_earlier_keeps_running() {
    if std::env::var_os(CHAIN_CHILD_ENV).is_some() {
        return sigchld_chain_child();
    }
    // Other tests here have installed filch's handler already: check in a fresh process
    // where a plain `sigaction` handler comes first.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_sigchld_handler_installed_earlier_keeps_running",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHAIN_CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("sigchld chain ok"),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sigchld_chain_child() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static HITS: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_sigchld(_: libc::c_int) {
        HITS.fetch_add(1, Ordering::SeqCst);
    }
    // SAFETY: a zeroed `sigaction` is a valid starting value; the handler only does an
    // atomic add (async-signal-safe); nothing else in this process handles SIGCHLD yet.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigchld as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut()),
            0
        );
    }
    let rt = filch::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            let status = timeout(LONG, Command::new("true").status()).await.unwrap();
            assert!(status.unwrap().success());
        }
    });
    let start = std::time::Instant::now();
    while HITS.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < LONG, "the earlier handler never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("sigchld chain ok");
}

#[test]
fn a_piped_spawn_outside_a_runtime_panics_without_leaving_the_child_running() {
    // The panic comes from registering the pipe, after the fork: the child must not be left
    // behind, running, with its pid lost (found in review).
    let dir = std::env::temp_dir().join(format!("filch-spawn-panic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("pid");
    let script = format!("echo $$ > {}; exec sleep 30", pidfile.display());
    let spawned = std::panic::catch_unwind(|| {
        Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::piped())
            .spawn()
    });
    assert!(
        spawned.is_err(),
        "a piped spawn outside a runtime must panic"
    );
    let mut pid = None;
    for _ in 0..1_000 {
        if let Some(p) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            pid = Some(p);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let Some(pid) = pid else {
        // Killed before its shell wrote the pid: nothing was left running.
        return;
    };
    let gone = support::process_gone_within(pid, Duration::from_secs(20));
    if !gone {
        // SAFETY: a plain kill of the pid we just read; cleanup for a failing test.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    assert!(
        gone,
        "child {pid} still alive: {:?}",
        support::process_state(pid)
    );
}
