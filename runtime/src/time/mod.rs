//! Time: [`sleep`](fn@sleep), [`timeout`](fn@timeout), [`interval`](fn@interval), on the
//! runtime's timer wheel, and [paused time](#paused-time) for tests.
//!
//! asyncio's `asyncio.sleep` and `asyncio.wait_for`. Timers have millisecond resolution
//! and never fire early: a deadline is rounded up to the next millisecond. Registering,
//! resetting and cancelling a timer are O(1) (see `docs/architecture.md`); a dropped
//! [`Sleep`] cancels its timer.
//!
//! [`Duration`] is `std`'s. [`Instant`] is filch's own: `std`'s, read through the runtime's
//! clock, so that it follows paused time (convert with [`Instant::from_std`] and
//! [`Instant::into_std`]).
//!
//! ```
//! use filch::time::{sleep, timeout, Duration, Instant};
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(20)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(20));
//!
//!     let slow = sleep(Duration::from_secs(60));
//!     assert!(timeout(Duration::from_millis(10), slow).await.is_err());
//! });
//! ```
//!
//! # Paused time
//!
//! A test of a one-hour timeout should not take an hour. On a current-thread runtime,
//! [`pause`] (or [`Builder::start_paused(true)`](crate::runtime::Builder::start_paused),
//! or `#[filch::test(start_paused = true)]`) freezes the runtime's clock. From then on:
//!
//! * [`Instant::now`] on the runtime's threads (the one in `block_on`, and the blocking
//!   pool's) reads the virtual clock; elsewhere it stays the real clock. So do
//!   [`sleep`](fn@sleep), [`timeout`](fn@timeout) and [`interval`](fn@interval), which
//!   count from `Instant::now()` when they are *called*: build them inside the runtime
//!   (`rt.block_on(async { sleep(d).await })`, not `rt.block_on(sleep(d))`), or they
//!   count from the real clock, which a paused one is ahead of.
//! * **Auto-advance**: when every task is waiting and a timer is pending, the clock jumps
//!   straight to the next timer, which fires. I/O comes first: before jumping, the runtime
//!   polls its sockets without blocking, and a socket that is ready wakes its task
//!   instead. While a [`spawn_blocking`](crate::task::spawn_blocking) job (or a
//!   `filch::fs` operation, which runs on the blocking pool) is queued or running, the
//!   clock does not jump: the job is real work that will wake a task in real time, and a
//!   timeout around it must not fire because nothing *else* was ready (tokio does the
//!   same). Nor does it jump for work that only other threads can deliver (a channel fed
//!   by a `std::thread`): to the runtime that is idleness, like any other.
//! * [`advance`] moves the clock forward by a duration, timer by timer, letting the woken
//!   tasks run at each step, also while other tasks are busy.
//! * [`resume`] lets the clock run at real speed again, from where it is.
//!
//! Jumps land exactly on the deadlines: a task that sleeps 10 ms in a loop sees
//! `start + 10ms`, `start + 20ms`, ... (the pause rounds the clock up to the wheel's
//! millisecond, so whole-millisecond sleeps stay on it). A multi-thread runtime cannot
//! pause: its workers share no single notion of "every task is waiting", so [`pause`]
//! panics there, saying to use the current-thread flavor. Nothing needs a feature flag
//! (tokio's `test-util`): when no runtime of the process has paused, [`Instant::now`] costs
//! one relaxed atomic load more than `std`'s.
//!
//! ```
//! use filch::time::{advance, interval, sleep, timeout, Duration, Instant};
//!
//! let rt = filch::runtime::Builder::new_current_thread()
//!     .start_paused(true)
//!     .build()
//!     .unwrap();
//! let real = std::time::Instant::now();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     // An hour-long timeout elapses at once, exactly an hour later on the virtual clock.
//!     let slow = sleep(Duration::from_secs(7200));
//!     assert!(timeout(Duration::from_secs(3600), slow).await.is_err());
//!     assert_eq!(Instant::now(), start + Duration::from_secs(3600));
//!
//!     // A ticker in a task, driven by `advance`.
//!     let ticks = filch::spawn(async {
//!         let mut every = interval(Duration::from_secs(60));
//!         let mut seen = Vec::new();
//!         for _ in 0..3 {
//!             seen.push(every.tick().await);
//!         }
//!         seen
//!     });
//!     advance(Duration::from_secs(120)).await;
//!     let at = start + Duration::from_secs(3600);
//!     let minute = Duration::from_secs(60);
//!     assert_eq!(ticks.await.unwrap(), [at, at + minute, at + 2 * minute]);
//! });
//! assert!(real.elapsed() < Duration::from_secs(60));
//! ```
pub mod error;
mod instant;
mod interval;
mod pause;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use pause::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};
