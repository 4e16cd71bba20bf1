//! Thread-local runtime context: which runtime this thread has entered, and whether it is
//! driving tasks (so blocking on a future here would deadlock).
use super::Handle;
use crate::driver::Driver;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::sync::Arc;

thread_local! {
    /// The handle `filch::spawn` and `Handle::current` use on this thread.
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// Set while this thread drives tasks: a worker, or a thread inside `block_on`.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Calls `f` with the handle of the runtime entered on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    CURRENT.with(|current| f(current.borrow().as_ref()))
}

/// The I/O driver of the runtime entered on this thread, for a new I/O object to register
/// with.
///
/// # Panics
///
/// Panics outside a filch runtime, saying where to create the object instead.
#[track_caller]
pub(crate) fn io_driver() -> Arc<Driver> {
    // The panic is outside the closure, so that `#[track_caller]` reports the caller.
    match with_current(|handle| handle.map(|handle| handle.inner.driver().clone())) {
        Some(driver) => driver,
        None => panic!(
            "filch I/O object created outside a runtime; create it inside a task, \
             `Runtime::block_on` or `#[filch::main]`, or after `Runtime::enter()`"
        ),
    }
}

/// As [`with_current`], but `None` instead of a panic where the thread-local cannot be read
/// (during thread teardown, or while it is being replaced): for `filch::time::Instant::now`,
/// which may be called from any destructor.
pub(crate) fn try_with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.try_borrow().ok().map(|handle| f(handle.as_ref())))
        .ok()
        .flatten()
}

/// Makes `handle` current until the guard drops; guards nest.
pub(crate) fn set_current(handle: &Handle) -> SetCurrentGuard {
    let previous = CURRENT.with(|current| current.replace(Some(handle.clone())));
    SetCurrentGuard {
        previous,
        _not_send: PhantomData,
    }
}

/// Restores the previously current handle on drop. `!Send`: it restores *this* thread.
#[derive(Debug)]
pub(crate) struct SetCurrentGuard {
    previous: Option<Handle>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Marks this thread as driving `handle`'s tasks (and makes it current).
///
/// # Panics
///
/// Panics if this thread already drives tasks: blocking it would stop those tasks, so a
/// nested `block_on` would deadlock.
#[track_caller]
pub(crate) fn enter_runtime(handle: &Handle) -> EnterRuntimeGuard {
    if DRIVING.with(|driving| driving.replace(true)) {
        panic!(
            "cannot block on a future from inside a filch runtime: this thread is already \
             running asynchronous tasks (it is a worker, or inside `block_on`), and blocking \
             it would deadlock them. Use `.await` instead, or call `block_on` from a thread \
             that the runtime does not own (e.g. `std::thread::spawn`)"
        );
    }
    EnterRuntimeGuard {
        _current: set_current(handle),
    }
}

/// Whether this thread drives tasks (a worker, or inside `block_on`).
pub(crate) fn is_driving() -> bool {
    DRIVING.with(Cell::get)
}

/// Marks this thread as not driving tasks until the guard drops, which restores the
/// previous state. The entered handle stays current.
pub(crate) fn leave_driving() -> LeaveDrivingGuard {
    LeaveDrivingGuard {
        was_driving: DRIVING.with(|driving| driving.replace(false)),
        _not_send: PhantomData,
    }
}

/// Restores the driving state on drop (see [`leave_driving`]).
#[derive(Debug)]
pub(crate) struct LeaveDrivingGuard {
    was_driving: bool,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LeaveDrivingGuard {
    fn drop(&mut self) {
        DRIVING.with(|driving| driving.set(self.was_driving));
    }
}

/// Leaves the driving state (and the entered handle) on drop.
#[derive(Debug)]
pub(crate) struct EnterRuntimeGuard {
    _current: SetCurrentGuard,
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        DRIVING.with(|driving| driving.set(false));
    }
}
