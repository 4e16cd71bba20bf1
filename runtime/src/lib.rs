//! filch: a multi-threaded, work-stealing async runtime.
//!
//! What Python's asyncio gives a program (an event loop, `create_task`, `gather`, locks,
//! semaphores), as a Rust runtime that runs on every core.
//!
//! ```
//! use filch::task::JoinSet;
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! let total = rt.block_on(async {
//!     let mut set = JoinSet::new();
//!     for i in 1..=100u64 {
//!         set.spawn(async move {
//!             filch::task::yield_now().await;
//!             i
//!         });
//!     }
//!     let mut total = 0;
//!     while let Some(n) = set.join_next().await {
//!         total += n.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 5050);
//! ```
//!
//! # Map of the crate
//!
//! * [`runtime`]: [`Runtime`](runtime::Runtime), [`Builder`](runtime::Builder),
//!   [`Handle`](runtime::Handle).
//! * [`task`]: [`spawn`], [`JoinHandle`](task::JoinHandle), [`JoinSet`](task::JoinSet),
//!   [`yield_now`](task::yield_now).
//! * [`sync`]: async `Mutex`, `Semaphore`, channels (the `filch-sync` crate).
//! * [`time`]: `sleep`, `timeout`, `interval`, and paused time for tests (`pause`,
//!   `advance`). [`net`]: TCP, UDP and Unix sockets.
//!   [`fs`]: files and directories. [`io`]: the `futures-io` traits, `Interest`/`Ready`, and
//!   [`io::unix::AsyncFd`] for any fd. [`process`]: subprocesses. [`signal`]: `ctrl_c`.
//!
//! `docs/architecture.md` in the repository follows a task from spawn to completion.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

mod blocking;
mod driver;
mod loom;
mod macros;
mod park;
mod scheduler;
/// Instrumentation: real `tracing` spans with the `tracing` feature, no-ops without.
#[cfg_attr(feature = "tracing", path = "trace/enabled.rs")]
#[cfg_attr(not(feature = "tracing"), path = "trace/disabled.rs")]
mod trace;

pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod net;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod task;
pub mod time;

pub use runtime::spawn::spawn;

pub use filch_macros::{join, main, test, try_join};

/// What the macros expand to call; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::macros::select::select_random;
    pub use crate::macros::test_seed::TestSeed;
    pub use filch_macros::select_with_random;
}

/// Async synchronization primitives (the `filch-sync` crate): `Mutex`, `Semaphore`,
/// `RwLock`, `Notify`, `Barrier`, `OnceCell`, and the `oneshot`, `mpsc`, `watch` and
/// `broadcast` channels. They work on any executor; on filch they need nothing more.
pub use filch_sync as sync;

/// Internals exposed to this crate's own loom models; not part of the API.
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::park::{Parker, Unparker};
    pub use crate::scheduler::multi_thread::lifo_slot::Slotted;
    pub use crate::scheduler::multi_thread::{Idle, LifoSlot, WorkerThreads};
    pub use crate::scheduler::ShutdownFlag;
}

/// Runs every `rust` block of `docs/guide.md` ("From asyncio to filch") as a doctest;
/// its chapter on crates built for tokio uses `filch::hyper`, so only with the feature
/// `hyper` (which `cargo test --workspace` turns on: the examples crate depends on it).
#[doc = include_str!("../../docs/guide.md")]
#[cfg(all(doctest, feature = "hyper"))]
pub struct GuideDoctests;
