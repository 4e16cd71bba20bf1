//! Time: [`sleep`](fn@sleep), [`timeout`](fn@timeout), [`interval`](fn@interval), on the
//! runtime's timer wheel.
//!
//! asyncio's `asyncio.sleep` and `asyncio.wait_for`. Timers have millisecond resolution
//! and never fire early: a deadline is rounded up to the next millisecond. Registering,
//! resetting and cancelling a timer are O(1) (see `docs/architecture.md`); a dropped
//! [`Sleep`] cancels its timer.
//!
//! [`Instant`] and [`Duration`] are `std`'s.
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
pub mod error;
mod interval;
mod sleep;
mod timeout;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::{Duration, Instant};
pub use timeout::{timeout, timeout_at, Timeout};
