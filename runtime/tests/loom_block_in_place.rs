//! loom model of `block_in_place`'s core hand-off racing a shutdown (`WorkerThreads`,
//! `ShutdownFlag`, `Parker`): the core is freed exactly once, by the thread that owns it
//! when its loop sees the flag; the thread that handed it away never touches it again;
//! and a shutdown without a deadline returns only after every thread, the one still in
//! its blocking closure included, has run its stop hook.
//!
//! The core is a loom `UnsafeCell` (loom reports any access not ordered after the free
//! as a data race), its owning pointer travels into the new thread as the `Arc` moved
//! into the spawn, as `CorePtr` does in the worker. The hand-off and the loop follow
//! `worker::{run_thread, hand_off_core}` step for step.
#![cfg(loom)]

use filch::__loom::{Parker, ShutdownFlag, Unparker, WorkerThreads};
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// What a core holds, for the model: its parker, and whether it has been freed.
struct Core {
    parker: Parker,
    freed: bool,
}

struct Runtime {
    flag: ShutdownFlag,
    threads: WorkerThreads,
    /// The worker's unparker (the runtime keeps one per worker index).
    unparker: Unparker,
    /// Threads that ran `run_thread`, and stop hooks run.
    started: AtomicUsize,
    stop_hooks: AtomicUsize,
}

/// The single worker's core, owned by one thread at a time.
struct CoreSlot(UnsafeCell<Core>);

// SAFETY: one thread at a time uses the core: that is what the model checks (loom reports
// any two accesses of the cell that are not ordered).
unsafe impl Send for CoreSlot {}
// SAFETY: as for `Send`.
unsafe impl Sync for CoreSlot {}

impl CoreSlot {
    fn touch(&self) {
        self.0.with(|core| {
            // SAFETY: loom checks that no free races this read.
            assert!(!unsafe { &*core }.freed, "use after free of the core");
        });
    }

    fn park(&self) {
        self.0.with(|core| {
            // SAFETY: as in `touch`.
            let core = unsafe { &*core };
            assert!(!core.freed, "use after free of the core");
            core.parker.park();
        });
    }

    /// Read by the shutdown after its wait, which must order it after the free.
    fn is_freed(&self) -> bool {
        // SAFETY: loom checks that no write races this read.
        self.0.with(|core| unsafe { &*core }.freed)
    }

    fn free(&self) {
        self.0.with_mut(|core| {
            // SAFETY: loom checks that this write races no other access.
            let core = unsafe { &mut *core };
            assert!(!core.freed, "core freed twice");
            core.freed = true;
        });
    }
}

/// `worker::run_thread`: drive the core until shutdown (freeing it then) or until the task
/// it runs hands it off; then the stop hook and the accounting.
fn run_thread(rt: Arc<Runtime>, core: Arc<CoreSlot>, hand_off_in_first_poll: bool) {
    rt.started.fetch_add(1, Ordering::Relaxed);
    let handed_off = run_loop(&rt, &core, hand_off_in_first_poll);
    if !handed_off {
        core.free();
        rt.threads.loop_exited();
    }
    rt.stop_hooks.fetch_add(1, Ordering::Relaxed);
    rt.threads.finished();
}

/// `worker::run_loop` with one task, whose first poll calls `block_in_place`.
fn run_loop(rt: &Arc<Runtime>, core: &Arc<CoreSlot>, mut hand_off: bool) -> bool {
    loop {
        if rt.flag.is_raised() {
            return false;
        }
        core.touch();
        if std::mem::take(&mut hand_off) {
            block_in_place(rt, core.clone());
            // The poll returned: the thread leaves without touching the core.
            return true;
        }
        core.park();
    }
}

/// `hand_off_core` followed by the closure.
fn block_in_place(rt: &Arc<Runtime>, core: Arc<CoreSlot>) {
    core.touch();
    rt.threads.starting();
    let new_owner = rt.clone();
    loom::thread::spawn(move || run_thread(new_owner, core, false));
    // The blocking closure runs here (nothing to do in the model).
}

fn runtime() -> (Arc<Runtime>, Arc<CoreSlot>) {
    let parker = Parker::new();
    let rt = Arc::new(Runtime {
        flag: ShutdownFlag::new(),
        threads: WorkerThreads::new(),
        unparker: parker.unparker(),
        started: AtomicUsize::new(0),
        stop_hooks: AtomicUsize::new(0),
    });
    let core = Arc::new(CoreSlot(UnsafeCell::new(Core {
        parker,
        freed: false,
    })));
    (rt, core)
}

/// `Shared::shutdown` without a timeout, for the parts that concern the threads.
fn shutdown(rt: &Runtime) {
    rt.flag.raise();
    rt.unparker.unpark();
    assert!(rt.threads.wait_stopped(1, None));
}

#[test]
fn a_hand_off_racing_shutdown_frees_the_core_once_and_waits_for_both_threads() {
    loom::model(|| {
        let (rt, core) = runtime();
        rt.threads.starting();
        let worker = {
            let (rt, core) = (rt.clone(), core.clone());
            loom::thread::spawn(move || run_thread(rt, core, true))
        };
        shutdown(&rt);
        // Ordered after the free by `wait_stopped`, so no race: the core is gone.
        assert!(core.is_freed(), "core never freed");
        // Two threads if the hand-off came first, one if the worker saw the flag first.
        assert_eq!(
            rt.stop_hooks.load(Ordering::Relaxed),
            rt.started.load(Ordering::Relaxed),
            "shutdown returned before a thread's stop hook ran"
        );
        worker.join().unwrap();
    });
}

#[test]
fn a_worker_that_never_hands_off_frees_its_own_core() {
    loom::model(|| {
        let (rt, core) = runtime();
        rt.threads.starting();
        let worker = {
            let (rt, core) = (rt.clone(), core.clone());
            loom::thread::spawn(move || run_thread(rt, core, false))
        };
        shutdown(&rt);
        assert!(core.is_freed(), "core never freed");
        assert_eq!(rt.stop_hooks.load(Ordering::Relaxed), 1);
        worker.join().unwrap();
    });
}
