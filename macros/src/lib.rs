//! Macros for the [filch](https://docs.rs/filch) runtime, used through its re-exports:
//! `#[filch::main]`, `#[filch::test]`, `filch::join!`, `filch::try_join!` and
//! `filch::select!`. Depend on `filch`, not on this crate.
//!
//! # What the attributes expand to
//!
//! ```
//! #[filch::main]
//! async fn main() -> Result<(), std::io::Error> {
//!     filch::task::yield_now().await;
//!     Ok(())
//! }
//! ```
//!
//! becomes a plain `main` that keeps the `async fn` whole, nested inside it (this block is
//! the expansion, and is compiled and run as a doctest):
//!
//! ```
//! fn main() -> Result<(), std::io::Error> {
//!     async fn main() -> Result<(), std::io::Error> {
//!         filch::task::yield_now().await;
//!         Ok(())
//!     }
//!     ::filch::runtime::Builder::new_multi_thread()
//!         .build()
//!         .expect("#[filch::main]: failed to build the filch runtime")
//!         .block_on(main())
//! }
//! ```
//!
//! The nested `async fn` keeps the declared return type in charge of type inference (so `?`
//! works in the body) and keeps every error in the body pointing at the user's code.
//! `#[filch::test]` expands the same way, with `#[::core::prelude::v1::test]` added, the
//! test's other attributes (`#[should_panic]`, `#[ignore]`, ...) kept, and the
//! current-thread runtime by default.
//!
//! # What the combinators expand to
//!
//! `join!`, `try_join!` and `select!` expand to code that uses only `core` and `std` (no
//! helper from `filch`, so they work under any crate name; `filch::select!` is a
//! `macro_rules!` in `filch` that adds one: the function drawing its random start from the
//! runtime, named through `$crate`): each future is pinned on the
//! caller's stack with [`core::pin::pin!`] and polled from one [`core::future::poll_fn`].
//! Nothing is spawned and nothing is allocated: the branches run concurrently on the task
//! that awaits the macro, not in parallel. To run futures in parallel on the workers,
//! `filch::spawn` them and join the handles.
//!
//! ```text
//! // filch::join!(a, b) becomes, in outline:
//! match IntoFuture::into_future(a) { future_0 =>   // each expression is the scrutinee of
//! match IntoFuture::into_future(b) { future_1 => { // a `match`: its temporaries live as
//!     let mut future_0 = pin!(Some(future_0));     // long as the statement holding join!
//!     let mut future_1 = pin!(Some(future_1));
//!     let (mut output_0, mut output_1) = (None, None);
//!     let mut next_start: u8 = 0;                  // absent with `biased;`
//!     poll_fn(move |cx| {
//!         // poll every unfinished future, starting at `next_start` (rotated each poll;
//!         // always 0 with `biased;`); a finished future is dropped at once
//!         // (`future_0.set(None)`), its output kept in `output_0`; when all are
//!         // finished, return the tuple of outputs.
//!     })
//!     .await
//! }}}
//! ```
//!
//! The `move` closure owns the pinned references, the outputs and the counter, so the
//! future `join!` builds holds, per branch, the future, one pointer and the output slot.
//! `select!` is built the same way, with a bit mask (`u8` up to 8 branches, ..., `u128`)
//! of the disabled branches and a 32-bit random state in the closure; its futures are
//! dropped at the end of the block that pins them, before the winning handler runs.
//!
//! # Misuse is reported at the offending token
//!
//! ```compile_fail
//! #[filch::main(flavor = "single_thread")] // error: unknown runtime flavor `single_thread`;
//! async fn main() {}                       // write `flavor = "current_thread"` or ...
//! ```
//!
//! On an error the function is emitted again next to the error (with the default options
//! if only an option was wrong), so rust-analyzer keeps checking and completing its body.
#![deny(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod entry;
mod join;
mod select;

/// Runs `async fn main` on a filch runtime (multi-thread by default).
///
/// The function must be `async`, take no arguments and have no generics; it may return any
/// type `main` may return, such as `Result<(), Box<dyn Error>>`. The attribute builds the
/// runtime, blocks on the body, and drops the runtime (stopping its workers) when the body
/// returns. See the [crate docs](crate) for the exact expansion.
///
/// # Options
///
/// | option | values | default |
/// |---|---|---|
/// | `flavor` | `"multi_thread"`, `"current_thread"` | `"multi_thread"` |
/// | `worker_threads` | an integer ≥ 1 (multi-thread only) | one per CPU |
/// | `start_paused` | `true`, `false` (`true`: current-thread only) | `false` |
/// | `seed` | an integer literal (a `u64`) | none |
/// | `crate` | the path of `filch` (for crates that re-export it) | `::filch` |
///
/// `start_paused = true` builds the runtime with
/// `Builder::start_paused(true)`: its time starts paused (see `filch::time`'s "Paused
/// time"), for tests mostly. `seed = n` calls `Builder::rng_seed(n)`.
///
/// # Examples
///
/// ```
/// use std::error::Error;
///
/// #[filch::main(worker_threads = 2)]
/// async fn main() -> Result<(), Box<dyn Error>> {
///     let answer = filch::spawn(async { "42".parse::<u32>() }).await??;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
///
/// On one thread, without worker threads:
///
/// ```
/// #[filch::main(flavor = "current_thread")]
/// async fn main() {
///     let here = std::thread::current().id();
///     let there = filch::spawn(async { std::thread::current().id() }).await.unwrap();
///     assert_eq!(here, there);
/// }
/// ```
///
/// # Errors at compile time
///
/// ```compile_fail
/// #[filch::main(flavor = "current_thread", worker_threads = 4)] // `worker_threads` does
/// async fn main() {}                                             // not apply to current_thread
/// ```
///
/// ```compile_fail
/// #[filch::main]
/// fn main() {} // #[filch::main] goes on an `async fn`; write `async fn main(...)`
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own filch runtime (current-thread by default).
///
/// Adds `#[::core::prelude::v1::test]` and keeps the test's name and its other attributes,
/// such as `#[should_panic]` and `#[ignore]`. Each test gets a fresh runtime, dropped when the
/// test returns. Takes the same options as [`macro@main`]; `worker_threads` needs
/// `flavor = "multi_thread"`.
///
/// # Seeds: replaying an interleaving
///
/// `seed = n` runs the test with `Builder::rng_seed(n)`: on the current-thread runtime the
/// scheduler then picks among the ready tasks with a generator seeded by `n`, so the test
/// polls its tasks in the same order on every run, and another seed tries another order.
/// The environment variable `FILCH_SEED` overrides the seed of every `#[filch::test]`
/// (also of those without `seed`): a number, or `random` for a fresh seed per test. A test
/// that panics with a seed prints it, with the command that replays the run:
///
/// ```text
/// filch: this test ran with scheduler seed 7613 (from FILCH_SEED=random); replay it with FILCH_SEED=7613
/// ```
///
/// Look for ordering bugs with `for s in $(seq 1 200); do FILCH_SEED=$s cargo test racy || break; done`,
/// then pin the seed that failed with `seed = ...` while you fix it.
///
/// # Examples
///
/// ```no_run
/// #[filch::test]
/// async fn adds_on_one_thread() {
///     assert_eq!(filch::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// #[filch::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn adds_on_two_workers() -> Result<(), filch::task::JoinError> {
///     assert_eq!(filch::spawn(async { 2 + 2 }).await?, 4);
///     Ok(())
/// }
///
/// #[filch::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
///
/// // The same interleaving of these tasks on every run (unless FILCH_SEED says otherwise).
/// #[filch::test(seed = 7)]
/// async fn replayable() {
///     let a = filch::spawn(async { 1 });
///     let b = filch::spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// }
///
/// // An hour of virtual time, in no real time.
/// #[filch::test(start_paused = true)]
/// async fn times_out() {
///     use filch::time::{sleep, timeout, Duration};
///     let slow = sleep(Duration::from_secs(7200));
///     assert!(timeout(Duration::from_secs(3600), slow).await.is_err());
/// }
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// #[filch::test(flavor = "multi_thread", start_paused = true)] // `start_paused` needs
/// async fn paused() {}                                          // the current-thread runtime
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}

/// Waits for every future and returns their outputs as a tuple, in argument order.
///
/// The futures run concurrently on the current task (not in parallel: nothing is spawned).
/// Each time the task is woken, every unfinished future is polled, starting from a different
/// one each time so that none is always polled last. A future is dropped as soon as it
/// finishes. Each argument may be anything that implements [`IntoFuture`]; the arguments are
/// evaluated once, in order, before the first poll. `join!()` is `()`.
///
/// The temporaries of an argument (`fetch(&String::from("x"))`) live until the end of the
/// statement that holds the `join!`, as long as its future.
///
/// With a leading `biased;` (`join!(biased; a, b)`), every poll goes through the futures in
/// argument order instead of rotating; use it when the order matters more than fairness.
///
/// Must be used inside an `async` context. To stop at the first error, use [`try_join!`].
///
/// [`IntoFuture`]: core::future::IntoFuture
///
/// # Examples
///
/// ```
/// async fn fetch(id: u32) -> String {
///     filch::task::yield_now().await;
///     format!("item {id}")
/// }
///
/// async fn length(s: &str) -> usize {
///     filch::task::yield_now().await;
///     s.len()
/// }
///
/// #[filch::main(flavor = "current_thread")]
/// async fn main() {
///     let (a, b, n) = filch::join!(fetch(1), fetch(2), async { 3 });
///     assert_eq!((a.as_str(), b.as_str(), n), ("item 1", "item 2", 3));
///
///     // The `String` lives as long as the future that borrows it.
///     let (len,) = filch::join!(length(&String::from("four")));
///     assert_eq!(len, 4);
///
///     // In order: `first` is polled before `second` on every poll.
///     let order = std::cell::RefCell::new(Vec::new());
///     let step = |name| {
///         let order = &order;
///         async move {
///             order.borrow_mut().push(name);
///             filch::task::yield_now().await;
///             order.borrow_mut().push(name);
///         }
///     };
///     filch::join!(biased; step("first"), step("second"));
///     assert_eq!(*order.borrow(), ["first", "second", "first", "second"]);
/// }
/// ```
#[proc_macro]
pub fn join(input: TokenStream) -> TokenStream {
    join::expand(input.into(), false).into()
}

/// Waits for every future to return `Ok`, or for the first `Err`.
///
/// Like [`join!`], for futures whose outputs are `Result<T, E>` with one error type `E`.
/// Returns `Ok((t1, t2, ...))` once all have succeeded, or the first `Err(e)` as soon as it
/// is seen; the futures still running are then dropped before `try_join!` returns.
/// `try_join!()` is `Ok(())`. A leading `biased;` polls in argument order, as for `join!`.
///
/// # Examples
///
/// ```
/// async fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
///     filch::task::yield_now().await;
///     s.parse()
/// }
///
/// #[filch::main(flavor = "current_thread")]
/// async fn main() {
///     assert_eq!(filch::try_join!(parse("1"), parse("2")), Ok((1, 2)));
///
///     let never = std::future::pending::<Result<u32, std::num::ParseIntError>>();
///     // The error ends the wait; `never` is dropped.
///     assert!(filch::try_join!(parse("x"), never).is_err());
///
///     // In order: with `biased;` the first error in argument order wins when several
///     // futures fail on the same poll.
///     let first: Result<(u32, u32), &str> =
///         filch::try_join!(biased; async { Err("a") }, async { Err("b") });
///     assert_eq!(first, Err("a"));
/// }
/// ```
#[proc_macro]
pub fn try_join(input: TokenStream) -> TokenStream {
    join::expand(input.into(), true).into()
}

/// `select!` seeded from `std`'s `RandomState`; use [`filch::select!`], which is
/// documented there and draws its random starting branch from the runtime.
///
/// [`filch::select!`]: https://docs.rs/filch/latest/filch/macro.select.html
#[doc(hidden)]
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// `filch::select!`'s expansion: `RANDOM_FN; select-input` (see the `select` module).
#[doc(hidden)]
#[proc_macro]
pub fn select_with_random(input: TokenStream) -> TokenStream {
    select::expand_with_random(input.into()).into()
}
