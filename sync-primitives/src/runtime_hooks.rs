//! Hooks a runtime installs so that the primitives cooperate with its scheduler.
//!
//! This crate works on any executor and depends on none. A runtime that keeps a
//! cooperative budget per task, or that must not have its threads blocked, tells the crate
//! how to reach those with one process-wide [`RuntimeHooks`], installed once with
//! [`install`]. Without hooks every operation is unconstrained and no thread counts as
//! driving tasks, which is the right behaviour for any other executor.
//!
//! # What the crate does with the hooks
//!
//! | hook | called | effect |
//! |---|---|---|
//! | [`poll_proceed`](RuntimeHooks::poll_proceed) | first thing in every poll of every future of the crate (the list below) | `Pending`: the future returns `Pending` at once, having taken, registered and changed nothing (the hook has woken the task). `Ready`: one unit is spent and the operation runs |
//! | [`refund`](RuntimeHooks::refund) | when that operation then made no progress: it queued or refreshed its waker and returns `Pending` | the unit is given back, so waiting costs no budget |
//! | [`is_driving`](RuntimeHooks::is_driving) | first thing in every `blocking_*` method | `true`: the method panics with a message naming it and the fix, instead of blocking a thread that runs tasks |
//!
//! So a task looping over always-ready operations (a full channel's `recv`, an uncontended
//! `lock`) spends one unit per operation and is made to yield when its budget is gone, the
//! way tokio's `coop` does; a task that waits spends nothing.
//!
//! Futures that spend budget when they complete: [`Mutex::lock`](crate::Mutex::lock) and
//! `lock_owned`; [`RwLock`](crate::RwLock)'s `read`, `write` and their `_owned` forms;
//! [`Semaphore`](crate::Semaphore)'s `acquire*`; [`OnceCell`](crate::OnceCell)'s
//! `get_or_init` / `get_or_try_init` while they wait for an initializer (an initialized cell
//! answers without spending); [`Notified`](crate::Notified); [`Barrier::wait`](crate::Barrier::wait);
//! the `recv`/`poll_recv` (and `Stream`, and mpsc's `recv_many`) of [`mpsc`](crate::mpsc), [`broadcast`](crate::broadcast)
//! and [`oneshot`](crate::oneshot) receivers; the bounded `mpsc::Sender`'s `send`,
//! `reserve`, `reserve_owned` and `reserve_many`; [`watch::Receiver::changed`](crate::watch::Receiver::changed) and `wait_for`; and every
//! `closed()` / `poll_closed` of the channels.
//!
//! Never spending budget: `try_*` methods, and the synchronous operations that never wait
//! (`UnboundedSender::send`, `oneshot::Sender::send`, `watch::Sender::send*`,
//! `broadcast::Sender::send`, `Notify::notify_*`, [`Notified::enable`](crate::Notified::enable),
//! guard drops).
//!
//! Panicking when [`is_driving`](RuntimeHooks::is_driving) says so:
//! `Mutex::blocking_lock`, `RwLock::blocking_read` and `blocking_write`,
//! `Semaphore::blocking_acquire` and `blocking_acquire_many`,
//! `mpsc::Sender::blocking_send`, `mpsc::Receiver::blocking_recv`,
//! `mpsc::UnboundedReceiver::blocking_recv`, `oneshot::Receiver::blocking_recv` and
//! `broadcast::Receiver::blocking_recv`.
//!
//! # Cost
//!
//! Reading the hooks is one atomic load (of a [`OnceLock`]). With no hooks installed, an
//! operation pays that load and a branch. Counted with callgrind (with no hooks), the
//! budget point costs an uncontended `Mutex` lock + unlock 6 instructions (95 before),
//! a `Semaphore` acquire + release 17 (120 before) and a bounded `mpsc` send + receive,
//! which has two such points, 18 (287 before).
//!
//! # Example
//!
//! A runtime with a thread-local budget, set around each task poll:
//!
//! ```
//! use std::cell::Cell;
//! use std::task::{Context, Poll};
//! use filch_sync::runtime_hooks::{self, RuntimeHooks};
//!
//! thread_local! {
//!     // `None` outside a task poll: unconstrained.
//!     static BUDGET: Cell<Option<u8>> = const { Cell::new(None) };
//!     static DRIVING: Cell<bool> = const { Cell::new(false) };
//! }
//!
//! fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
//!     BUDGET.with(|b| match b.get() {
//!         Some(0) => {
//!             cx.waker().wake_by_ref();
//!             Poll::Pending
//!         }
//!         Some(n) => {
//!             b.set(Some(n - 1));
//!             Poll::Ready(())
//!         }
//!         None => Poll::Ready(()),
//!     })
//! }
//!
//! static HOOKS: RuntimeHooks = RuntimeHooks {
//!     poll_proceed,
//!     refund: || BUDGET.with(|b| b.set(b.get().map(|n| n + 1))),
//!     is_driving: || DRIVING.with(Cell::get),
//! };
//!
//! runtime_hooks::install(&HOOKS).unwrap();
//! // Installed once per process: a second install reports the hooks already there.
//! assert!(std::ptr::eq(runtime_hooks::install(&HOOKS).unwrap_err(), &HOOKS));
//!
//! // A "task poll" with a budget of 2: the third ready operation yields.
//! let mutex = filch_sync::Mutex::new(0);
//! let waker = futures::task::noop_waker();
//! let mut cx = Context::from_waker(&waker);
//! BUDGET.with(|b| b.set(Some(2)));
//! for _ in 0..2 {
//!     let mut lock = Box::pin(mutex.lock());
//!     assert!(lock.as_mut().poll(&mut cx).is_ready());
//! }
//! let mut lock = Box::pin(mutex.lock());
//! assert!(lock.as_mut().poll(&mut cx).is_pending());
//! BUDGET.with(|b| b.set(None));
//! # use std::future::Future;
//! ```
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// What a runtime tells the crate about the current thread and task; see the
/// [module docs](self) for when the crate calls each hook.
///
/// The hooks are plain functions: they find the runtime's state themselves (typically in
/// thread-locals), and must be cheap, must not panic, and must not call back into this
/// crate.
#[derive(Debug)]
pub struct RuntimeHooks {
    /// Spends one unit of the current task's cooperative budget; returns Pending (after
    /// waking cx) when it is exhausted.
    pub poll_proceed: fn(&mut Context<'_>) -> Poll<()>,
    /// Gives back the unit poll_proceed took, for an operation that then made no progress.
    pub refund: fn(),
    /// Whether the current thread is driving async tasks (a blocking call here would stall
    /// or deadlock them).
    pub is_driving: fn() -> bool,
}

static HOOKS: OnceLock<&'static RuntimeHooks> = OnceLock::new();

/// Installs `hooks` for the whole process. Only the first call installs; hooks cannot be
/// changed or removed afterwards.
///
/// # Errors
///
/// The hooks already installed, if any were (by this call's `hooks` or others). A runtime
/// that may install twice can treat `Err(h)` with `std::ptr::eq(h, hooks)` as success.
///
/// # Examples
///
/// ```
/// use filch_sync::runtime_hooks::{self, RuntimeHooks};
///
/// static HOOKS: RuntimeHooks = RuntimeHooks {
///     poll_proceed: |_| std::task::Poll::Ready(()),
///     refund: || {},
///     is_driving: || false,
/// };
/// assert!(runtime_hooks::install(&HOOKS).is_ok());
/// assert!(runtime_hooks::installed().is_some());
/// ```
pub fn install(hooks: &'static RuntimeHooks) -> Result<(), &'static RuntimeHooks> {
    let mut ours = false;
    let installed = HOOKS.get_or_init(|| {
        ours = true;
        hooks
    });
    if ours {
        Ok(())
    } else {
        Err(installed)
    }
}

/// The hooks installed, if any.
///
/// # Examples
///
/// ```
/// // A fresh process has none: every operation is unconstrained.
/// assert!(filch_sync::runtime_hooks::installed().is_none());
/// ```
pub fn installed() -> Option<&'static RuntimeHooks> {
    HOOKS.get().copied()
}

/// One unit of budget taken by [`poll_proceed`]. Dropping it gives the unit back (the
/// operation made no progress); [`Budget::made_progress`] keeps it spent.
#[must_use = "dropping the budget refunds it: call `made_progress` on completion"]
pub(crate) struct Budget {
    /// `None` once spent for good, or when no hooks are installed.
    hooks: Option<&'static RuntimeHooks>,
}

impl Budget {
    /// The operation completed: the unit stays spent.
    #[inline]
    pub(crate) fn made_progress(mut self) {
        self.hooks = None;
    }
}

impl Drop for Budget {
    #[inline]
    fn drop(&mut self) {
        if let Some(hooks) = self.hooks {
            (hooks.refund)();
        }
    }
}

/// Spends one unit of the current task's budget for an operation about to run; `Pending`
/// (the task already woken) means the caller must return `Pending` at once, untouched.
/// Use it as `let budget = ready!(runtime_hooks::poll_proceed(cx));` first in a `poll`, and
/// call `budget.made_progress()` on every path that returns `Ready`.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Budget> {
    match HOOKS.get() {
        None => Poll::Ready(Budget { hooks: None }),
        Some(&hooks) => match (hooks.poll_proceed)(cx) {
            Poll::Ready(()) => Poll::Ready(Budget { hooks: Some(hooks) }),
            Poll::Pending => Poll::Pending,
        },
    }
}

/// Panics if the current thread drives async tasks: `method` would block it. `instead` is
/// the async form to suggest.
#[track_caller]
#[inline]
pub(crate) fn assert_may_block(method: &str, instead: &str) {
    if let Some(hooks) = HOOKS.get() {
        if (hooks.is_driving)() {
            panic!(
                "`{method}` called from inside an asynchronous task: it would block the \
                 runtime's thread. Use `{instead}` instead, or call it from `spawn_blocking` \
                 or a thread the runtime does not own"
            );
        }
    }
}
