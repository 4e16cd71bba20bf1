//! The auto traits of every public type, asserted (a change here is an API change).
use filch::runtime::{Builder, EnterGuard, Handle, Runtime, RuntimeMetrics, TryCurrentError};
use filch::task::{Id, JoinError, JoinHandle, JoinSet, LocalSet};
use filch::time::{error::Elapsed, Interval, Sleep, Timeout};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}

#[test]
fn auto_traits() {
    send::<Runtime>();
    sync::<Runtime>();
    send::<Handle>();
    sync::<Handle>();
    send::<Builder>();
    send::<RuntimeMetrics>();
    send::<TryCurrentError>();
    sync::<TryCurrentError>();
    send::<JoinHandle<u8>>();
    sync::<JoinHandle<u8>>();
    unpin::<JoinHandle<std::rc::Rc<u8>>>();
    send::<JoinError>();
    sync::<JoinError>();
    send::<JoinSet<u8>>();
    send::<Id>();
    sync::<Id>();
    send::<Sleep>();
    sync::<Sleep>();
    unpin::<Sleep>();
    send::<Interval>();
    send::<Timeout<Sleep>>();
    send::<Elapsed>();
    // Futures of the API are Send, so they can be spawned.
    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
    let rt = Builder::new_current_thread().build().unwrap();
    let _g = rt.enter();
    spawnable(filch::time::sleep(std::time::Duration::ZERO));
    spawnable(filch::task::yield_now());
    spawnable(filch::signal::ctrl_c());
    spawnable(async {
        let mut set = JoinSet::<u8>::new();
        set.join_next().await
    });
}

#[test]
fn local_set_and_enter_guard_are_usable_without_send() {
    // Both are `!Send` by design (they belong to the thread that made them); they must
    // still be constructible and droppable there.
    let rt = Builder::new_current_thread().build().unwrap();
    let guard: EnterGuard<'_> = rt.enter();
    drop(guard);
    drop(LocalSet::new());
}
