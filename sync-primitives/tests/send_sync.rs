//! The auto traits of every public type and future, both ways: what must be `Send`/`Sync`
//! is, and what must not be is not (a compile error in this file means a regression).
#![allow(dead_code, clippy::let_underscore_future)]

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use filch_sync::*;

fn send<T: Send>(_: &T) {}
fn sync<T: Sync>(_: &T) {}
fn send_sync<T: Send + Sync>(_: &T) {}
fn unpin<T: Unpin>(_: &T) {}

macro_rules! assert_impl {
    ($t:ty: $($tr:path),+) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $tr)+>() {}
            check::<$t>();
        };
    };
}

/// Fails to compile if `$t` implements `$tr`: with the impl, `some_item` would resolve
/// through two candidate impls and the call would be ambiguous.
macro_rules! assert_not_impl {
    ($t:ty: $tr:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            struct Invalid;
            impl<T: ?Sized + $tr> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

type NotSend = Rc<u8>; // neither Send nor Sync
type SendNotSync = Cell<u8>; // Send, not Sync

// Semaphore and permits.
assert_impl!(Semaphore: Send, Sync, Unpin);
assert_impl!(SemaphorePermit<'static>: Send, Sync);
assert_impl!(OwnedSemaphorePermit: Send, Sync);
assert_impl!(AcquireError: Send, Sync, std::error::Error);
assert_impl!(TryAcquireError: Send, Sync, std::error::Error);

// Mutex: shareable iff the value can move between threads.
assert_impl!(Mutex<SendNotSync>: Send, Sync);
assert_not_impl!(Mutex<NotSend>: Send);
assert_not_impl!(Mutex<NotSend>: Sync);
assert_impl!(MutexGuard<'static, SendNotSync>: Send);
assert_not_impl!(MutexGuard<'static, SendNotSync>: Sync);
assert_not_impl!(MutexGuard<'static, NotSend>: Send);
assert_impl!(MutexGuard<'static, u8>: Send, Sync);
assert_impl!(OwnedMutexGuard<SendNotSync>: Send);
assert_not_impl!(OwnedMutexGuard<SendNotSync>: Sync);
assert_not_impl!(OwnedMutexGuard<NotSend>: Send);
assert_impl!(MappedMutexGuard<'static, SendNotSync>: Send);
assert_not_impl!(MappedMutexGuard<'static, SendNotSync>: Sync);
assert_not_impl!(MappedMutexGuard<'static, NotSend>: Send);
assert_impl!(MappedMutexGuard<'static, u8>: Send, Sync);
assert_impl!(TryLockError: Send, Sync, std::error::Error);

// RwLock: readers share the value, so Sync needs T: Sync too.
assert_impl!(RwLock<u8>: Send, Sync);
assert_impl!(RwLock<SendNotSync>: Send);
assert_not_impl!(RwLock<SendNotSync>: Sync);
assert_not_impl!(RwLock<NotSend>: Send);
assert_impl!(RwLockReadGuard<'static, u8>: Send, Sync);
assert_not_impl!(RwLockReadGuard<'static, SendNotSync>: Send);
assert_not_impl!(RwLockReadGuard<'static, SendNotSync>: Sync);
assert_impl!(RwLockWriteGuard<'static, u8>: Send, Sync);
assert_not_impl!(RwLockWriteGuard<'static, SendNotSync>: Sync);
assert_impl!(RwLockMappedWriteGuard<'static, u8>: Send, Sync);
assert_impl!(RwLockMappedWriteGuard<'static, SendNotSync>: Send);
assert_not_impl!(RwLockMappedWriteGuard<'static, SendNotSync>: Sync);
assert_not_impl!(RwLockMappedWriteGuard<'static, NotSend>: Send);
assert_impl!(OwnedRwLockReadGuard<u8>: Send, Sync);
assert_not_impl!(OwnedRwLockReadGuard<SendNotSync>: Send);
assert_impl!(OwnedRwLockWriteGuard<u8>: Send, Sync);
assert_not_impl!(OwnedRwLockWriteGuard<SendNotSync>: Sync);

// Notify, Barrier, OnceCell.
assert_impl!(Notify: Send, Sync, Unpin);
assert_impl!(Notified<'static>: Send, Sync);
assert_not_impl!(Notified<'static>: Unpin);
assert_impl!(Barrier: Send, Sync);
assert_impl!(BarrierWaitResult: Send, Sync);
assert_impl!(OnceCell<u8>: Send, Sync);
assert_impl!(OnceCell<SendNotSync>: Send);
assert_not_impl!(OnceCell<SendNotSync>: Sync);
assert_not_impl!(OnceCell<NotSend>: Send);
assert_impl!(SetError<u8>: Send, Sync, std::error::Error);

// A runtime's hooks live in a `static`.
assert_impl!(runtime_hooks::RuntimeHooks: Send, Sync, Unpin);

/// The futures: `Send + Sync` whenever what they borrow allows it.
#[test]
fn futures_are_send_and_sync() {
    let sem = Arc::new(Semaphore::new(1));
    send_sync(&sem.acquire());
    send_sync(&sem.acquire_many(2));
    send_sync(&sem.clone().acquire_owned());
    send_sync(&sem.clone().acquire_many_owned(2));

    let m = Arc::new(Mutex::new(Cell::new(0u8))); // Send, not Sync, payload
    send_sync(&m.lock());
    send_sync(&m.clone().lock_owned());

    let rw = Arc::new(RwLock::new(0u8));
    send_sync(&rw.read());
    send_sync(&rw.write());
    send_sync(&rw.clone().read_owned());
    send_sync(&rw.clone().write_owned());

    let n = Notify::new();
    send_sync(&n.notified());
    let b = Barrier::new(1);
    send_sync(&b.wait());
    let cell = OnceCell::<u8>::new();
    send_sync(&cell.get_or_init(|| async { 1 }));
}

/// A `MutexGuard` held across an `.await` keeps the task `Send` when `T: Send`, even if
/// `T` is not `Sync`: what a work-stealing runtime needs to move the task.
#[test]
fn guard_held_across_await_keeps_the_task_send() {
    let m = Arc::new(Mutex::new(Cell::new(0u8)));
    let n = Arc::new(Notify::new());
    let task = {
        let (m, n) = (m.clone(), n.clone());
        async move {
            let guard = m.lock().await;
            n.notified().await;
            guard.set(1);
        }
    };
    send(&task);
    let owned = {
        let (m, n) = (m.clone(), n.clone());
        async move {
            let guard = m.lock_owned().await;
            n.notified().await;
            guard.set(2);
        }
    };
    send(&owned);
    let rw = Arc::new(RwLock::new(0u8));
    let rw_task = async move {
        let mut w = rw.write().await;
        n.notified().await;
        *w += 1;
    };
    send(&rw_task);
    sync(&Semaphore::new(0));
    unpin(&Semaphore::new(0));
}
