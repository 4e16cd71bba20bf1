//! Runtime-agnostic async synchronization primitives for filch.
//!
//! Everything here works on any executor: the primitives only use `Waker`s, never a
//! runtime handle. `filch` re-exports this crate as `filch::sync`.
//!
//! | primitive | module |
//! |---|---|
//! | FIFO waiter queue (the one unsafe core) | [`waitlist`](crate) |
//! | [`Semaphore`] | `semaphore` |
//! | [`Mutex`] | `mutex` |
//! | [`RwLock`] | `rwlock` |
//! | [`Notify`] | `notify` |
//! | [`Barrier`] | `barrier` |
//! | [`OnceCell`] | `once_cell` |
//! | [`oneshot`], [`mpsc`], [`watch`], [`broadcast`] | channels |
//! | hooks a runtime installs: cooperative budget, "is this thread driving tasks" | [`runtime_hooks`] |
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

mod loom;

mod barrier;
mod chan_waiters;
mod mutex;
mod notify;
mod once_cell;
mod rwlock;
mod semaphore;
mod waitlist;

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod runtime_hooks;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
