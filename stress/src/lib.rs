//! filch-stress: a seeded stress harness for the filch runtime.
//!
//! It runs *scenarios* — spawn storms, ping-pong chains, yield storms, abort storms,
//! panicking tasks, lock and semaphore contention with cancellation, channel floods, timer
//! churn, TCP and Unix echo storms, blocking floods, runtime create/shutdown churn, loaded
//! runtimes shut down by every path, `block_in_place` across a shutdown, far timers,
//! timeouts around budget-hungry loops, destructors that panic — at once on one
//! multi-thread runtime. Each checks its own invariants while it runs; a watchdog
//! reports a scenario that stops making progress (lost wakeup, starvation) with the seed and
//! a dump of the runtime's metrics; a probe per scenario measures wake-to-poll latency.
//!
//! The binary (`cargo run --release -p filch-stress -- --help`) runs the built-in scenarios;
//! the library lets you add your own with [`Harness`] and [`Scenario`]. `docs/stress.md`
//! describes every scenario, how to replay a seed and what the watchdog catches.
//!
//! A normal run replays a seed's *parameters*; the OS and the work-stealing scheduler pick
//! the interleaving. `--deterministic` ([`Harness::deterministic`]) replays the whole run:
//! one current-thread runtime with paused time and its scheduler seeded from the master
//! seed ([`scheduler_seed`]), the scenarios that can be deterministic
//! ([`Scenario::deterministic`]; the others are skipped, with the reason in the report),
//! run length and stall bound in virtual time, and a report that is the same byte for byte
//! for the same seed. The [`deterministic`] module describes its clock and its watchdog.
//!
//! ```
//! let report = filch_stress::Harness::new(42)
//!     .duration(std::time::Duration::from_millis(300))
//!     .workers(2)
//!     .builtin(&["yield-storm", "semaphore"])
//!     .unwrap()
//!     .run();
//! assert!(report.passed, "{}", report.to_text());
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod alarm;
mod baton;
mod config;
mod ctx;
pub mod deterministic;
mod harness;
mod ledger;
mod probe;
mod proc_fs;
mod report;
mod scenario;
pub mod scenarios;
mod watch;

pub use baton::Baton;
pub use config::{scheduler_seed, Config, Fault};
pub use ctx::Ctx;
pub use harness::{Harness, PLANNED_PANIC};
pub use ledger::{DropLedger, Tracked};
pub use report::{LatencySummary, MetricsSnapshot, Report, ScenarioReport, SkippedScenario};
pub use scenario::Scenario;
