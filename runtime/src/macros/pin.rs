//! `pin!`: pin values on the stack under their own names.
//!
//! Both of tokio's forms, each a thin layer over [`core::pin::pin!`], which moves the value
//! into a temporary that lives as long as the enclosing block and hands back a
//! `Pin<&mut T>` to it; nothing here needs `unsafe`:
//!
//! * `pin!(a, b)`: each named variable is moved into the pinned place and the name is
//!   shadowed by `let mut a: Pin<&mut A>`, so the unpinned value can no longer be reached.
//! * `pin! { let a = expr; let b = expr; }`: each expression is pinned directly (there is
//!   no unpinned binding at all).

/// Pins values on the stack: `pin!(a, b)` or `pin! { let a = expr; ... }`.
///
/// Each name ends up bound (mutably) to a [`Pin<&mut T>`](core::pin::Pin) of its value,
/// pinned for the rest of the enclosing block. Use it to poll one future from several
/// places, such as across the iterations of a loop of [`select!`](crate::select), with
/// `&mut fut` (a `Pin<&mut F>` is a future, and `Unpin`). Built on [`core::pin::pin!`]; the
/// value cannot be moved or reached unpinned afterwards.
///
/// # Examples
///
/// Pin variables already bound, then select on them repeatedly:
///
/// ```
/// use std::time::Duration;
///
/// #[filch::main(flavor = "current_thread")]
/// async fn main() {
///     let work = async {
///         filch::task::yield_now().await;
///         "done"
///     };
///     let deadline = filch::time::sleep(Duration::from_secs(10));
///     filch::pin!(work, deadline);
///
///     let mut ticks = 0;
///     let result = loop {
///         filch::select! {
///             biased;
///             out = &mut work => break Ok(out),
///             () = &mut deadline => break Err("timed out"),
///             () = filch::task::yield_now(), if ticks < 3 => ticks += 1,
///         }
///     };
///     assert_eq!(result, Ok("done"));
/// }
/// ```
///
/// Pin expressions directly, with `let` statements:
///
/// ```
/// #[filch::main(flavor = "current_thread")]
/// async fn main() {
///     filch::pin! {
///         let a = async { 1 };
///         let b = async { 2 };
///     }
///     assert_eq!((&mut a).await + b.await, 3);
/// }
/// ```
#[macro_export]
macro_rules! pin {
    ($($name:ident),* $(,)?) => {
        $(
            #[allow(unused_mut)]
            let mut $name = ::core::pin::pin!($name);
        )*
    };
    ($(let $name:ident = $init:expr;)*) => {
        $(
            #[allow(unused_mut)]
            let mut $name = ::core::pin::pin!($init);
        )*
    };
}
