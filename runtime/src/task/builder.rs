//! [`Builder`]: spawning a task with a name, which task dumps
//! ([`Handle::dump`](crate::runtime::Handle::dump)), stall reports and panic reports show.
//!
//! The name reaches the task's header through a thread-local slot that the builder fills
//! just before it calls the ordinary spawn function and that task creation empties (a
//! guard empties it too if the spawn panics first), so that every spawn path — both
//! schedulers, `LocalSet`s, the blocking pool — carries a name without a parameter
//! threaded through each of them.
use super::JoinHandle;
use crate::runtime::Handle;
use std::cell::RefCell;
use std::future::Future;
use std::io;

thread_local! {
    /// The name for the task this thread is about to create.
    static NEXT_NAME: RefCell<Option<Box<str>>> = const { RefCell::new(None) };
}

/// Takes the name a [`Builder`] left for the task being created on this thread.
pub(crate) fn take_name() -> Option<Box<str>> {
    NEXT_NAME.try_with(|n| n.borrow_mut().take()).ok().flatten()
}

/// Empties the slot when the spawn is over, whatever happened.
struct Named;

impl Named {
    fn set(name: Option<&str>) -> Named {
        let _ = NEXT_NAME.try_with(|n| *n.borrow_mut() = name.map(Box::from));
        Named
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        let _ = take_name();
    }
}

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
        let _named = Named::set(self.name);
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
        let _named = Named::set(self.name);
        Ok(handle.spawn(future))
    }

    /// [`spawn_local`](super::spawn_local) with this builder's options.
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
        let _named = Named::set(self.name);
        Ok(super::spawn_local(future))
    }

    /// [`spawn_blocking`](super::spawn_blocking) with this builder's options.
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
        let _named = Named::set(self.name);
        Ok(super::spawn_blocking(f))
    }
}
