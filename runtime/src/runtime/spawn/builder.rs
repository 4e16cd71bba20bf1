//! [`Builder`]: spawning a task with a name, which task dumps
//! ([`Handle::dump`](crate::runtime::Handle::dump)), stall reports and panic reports show.
//!
//! The name reaches the task's header through the task layer's name slot
//! ([`NextName`], in `task/name.rs`), which the builder fills just before it calls the
//! ordinary spawn function.
use crate::runtime::Handle;
use crate::task::{JoinHandle, NextName};
use std::future::Future;
use std::io;

/// Spawns tasks with options: today, a name.
///
/// # Examples
///
/// ```
/// # #[filch::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let handle = filch::task::Builder::new().name("conn 42").spawn(async { 6 * 7 })?;
/// assert_eq!(handle.await.unwrap(), 42);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name set.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// The task's name, as dumps and stall reports show it.
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// [`filch::spawn`](crate::spawn) with this builder's options.
    ///
    /// # Errors
    ///
    /// None today; the `io::Result` leaves room for options whose spawn can fail (as
    /// tokio's builder does).
    ///
    /// # Panics
    ///
    /// Outside a filch runtime, as `filch::spawn`.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let _named = NextName::set(self.name);
        Ok(super::spawn(future))
    }

    /// [`Handle::spawn`] with this builder's options.
    ///
    /// # Errors
    ///
    /// None today (see [`spawn`](Self::spawn)).
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let _named = NextName::set(self.name);
        Ok(handle.spawn(future))
    }

    /// [`spawn_local`](crate::task::spawn_local) with this builder's options.
    ///
    /// # Errors
    ///
    /// None today (see [`spawn`](Self::spawn)).
    ///
    /// # Panics
    ///
    /// Where `spawn_local` panics.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _named = NextName::set(self.name);
        Ok(crate::scheduler::local_set::spawn_local(future))
    }

    /// [`spawn_blocking`](crate::task::spawn_blocking) with this builder's options.
    ///
    /// # Errors
    ///
    /// None today (see [`spawn`](Self::spawn)).
    ///
    /// # Panics
    ///
    /// Where `spawn_blocking` panics.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let _named = NextName::set(self.name);
        Ok(super::spawn_blocking(f))
    }
}
