//! [`select!`](crate::select): the `macro_rules!` face of `filch_macros::select_with_random`,
//! which adds one thing to the proc macro: the path, through `$crate` (so a renamed or
//! re-exported `filch` works), of [`select_random`], the function that seeds its random
//! starting branch from the runtime.

/// Waits for the first of several futures, runs that branch's handler, drops the others.
///
/// ```text
/// filch::select! {
///     biased;                                  // optional: poll branches in order
///     pattern = future_expr => handler,
///     pattern = future_expr, if condition => handler,
///     else => handler,                         // optional: all branches disabled
/// }
/// ```
///
/// 1. Every `if` condition is evaluated, in order; a branch whose condition is `false` is
///    disabled.
/// 2. Every future expression is evaluated once, in order (also for disabled branches, whose
///    futures are then never polled). Each may be anything that implements [`IntoFuture`];
///    pass `&mut fut` to keep a future (such as a `JoinHandle`) across several `select!`s.
/// 3. The enabled futures are polled, starting at a random branch on every poll (or in
///    source order with `biased;`), until one is ready. On a runtime's thread the random
///    start comes from the scheduler's generator, so
///    [`Builder::rng_seed`](crate::runtime::Builder::rng_seed) makes it replayable. If its output matches the branch's
///    pattern, that branch wins; if not, the branch is disabled and the others go on.
/// 4. All futures are dropped, then the winner's handler runs with the pattern's bindings.
///    If every branch is disabled, the `else` handler runs instead; without an `else`,
///    `select!` panics. `select! { else => value }`, with no branch at all, is `value`.
///
/// Patterns bind as in a `match` on the output: by value, `mut`, `ref` or `ref mut`. The
/// temporaries of a future expression (`length(&String::from("x"))`, `&mut ready(())`,
/// `Mutex::new(0).lock()`) live until the end of the statement that holds the `select!`,
/// so they outlive the futures and the handler.
///
/// The value of `select!` is the value of the handler that ran, so all handlers must have
/// one type. Handlers run in the caller's context: `break`, `continue`, `return` and `?` act
/// on the enclosing loop or function. Must be used inside an `async` context.
///
/// [`IntoFuture`]: core::future::IntoFuture
///
/// # Examples
///
/// ```
/// use futures::channel::oneshot;
///
/// #[filch::main(flavor = "current_thread")]
/// async fn main() {
///     let (tx, rx) = oneshot::channel::<u32>();
///     let (_keep_open, quiet) = oneshot::channel::<u32>();
///     tx.send(7).unwrap();
///
///     let got = filch::select! {
///         Ok(n) = rx => n,
///         Ok(n) = quiet => n + 100,
///     };
///     assert_eq!(got, 7);
///
///     // A loop that drains a task's result or gives up when told to.
///     let mut task = filch::spawn(async { 5 });
///     let mut attempts = 0;
///     let result = loop {
///         attempts += 1;
///         filch::select! {
///             biased;
///             done = &mut task => break done.unwrap(),
///             _ = filch::task::yield_now(), if attempts < 100 => continue,
///             else => panic!("the task never finished"),
///         }
///     };
///     assert_eq!(result, 5);
///
///     // A disabled branch: its future is created but never polled.
///     let cached: Option<u32> = Some(3);
///     let got = filch::select! {
///         Some(ref mut v) = async { Some(vec![1]) }, if cached.is_none() => v.len() as u32,
///         else => cached.unwrap(),
///     };
///     assert_eq!(got, 3);
/// }
/// ```
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__private::select_with_random!($crate::__private::select_random; $($input)*)
    };
}

/// The seed of one unbiased `select!`: from the generator of the scheduler that drives this
/// thread (seeded by `Builder::rng_seed`), else from `std`'s per-thread `RandomState` keys.
#[doc(hidden)]
pub fn select_random() -> u32 {
    crate::scheduler::random_u32().unwrap_or_else(|| {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(()) as u32
    })
}
