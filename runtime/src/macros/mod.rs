//! Declarative macros of the `filch` crate itself (the combinators and the attributes live
//! in `filch-macros`, re-exported at the crate root).
//!
//! * [`pin!`](crate::pin): pins futures on the stack under their own names, the way tokio
//!   code writes it, built on [`core::pin::pin!`] (no `unsafe`).
//! * [`select!`](crate::select): the proc macro, handed the runtime's random source.
//! * `TestSeed`: the scheduler seed `#[filch::test]` runs with (`seed = n`, `FILCH_SEED`).
mod pin;
pub(crate) mod select;
pub(crate) mod test_seed;
