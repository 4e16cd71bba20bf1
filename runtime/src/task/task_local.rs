//! Task-local storage: [`task_local!`](crate::task_local), [`LocalKey`] and
//! [`TaskLocalFuture`].
//!
//! # How a value follows its task
//!
//! A task-local is a thread-local slot (`RefCell<Option<T>>`) that holds the value *only
//! while the future that owns it is being polled*. [`TaskLocalFuture`] keeps the value in
//! its own field between polls; each poll swaps it into the thread-local, polls the inner
//! future and swaps it back out, also when the poll panics (a drop guard does the second
//! swap). So wherever the task is polled (any worker of a multi-thread runtime, a thread
//! inside `block_on`), the value is there, and nothing else polled on that thread in
//! between sees it. Nested scopes of the same key nest naturally: the inner swap stores
//! the outer value in the inner future's field and the guard puts it back.
//!
//! Spawned tasks do not inherit a task-local: they are polled by the scheduler, outside
//! the spawner's [`TaskLocalFuture`].
//!
//! The inner future is dropped *with its value in scope* (when the thread-local can still
//! be reached), so destructors that read the task-local keep working, as in tokio.
use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `static NAME: filch::task::LocalKey<T>`.
///
/// A task-local value is set for the duration of a future with
/// [`LocalKey::scope`] (or of a closure with [`LocalKey::sync_scope`]) and read with
/// [`LocalKey::with`], [`LocalKey::try_with`] or [`LocalKey::get`]. The value follows the
/// future across `.await` points and worker threads; tasks spawned from inside the scope
/// do not see it.
///
/// Any number of keys can be declared in one invocation; attributes and visibility are
/// kept.
///
/// # Examples
///
/// ```
/// filch::task_local! {
///     /// The id of the request this task serves.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(REQUEST_ID.scope(7, async {
///     filch::task::yield_now().await;
///     assert_eq!(REQUEST_ID.get(), 7);
///     assert!(USER.try_with(|user| user.len()).is_err());
/// }));
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

/// Expands one key of [`task_local!`](crate::task_local). Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __FILCH_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey {
                inner: &__FILCH_TASK_LOCAL,
                name: ::std::stringify!($name),
            }
        };
    };
}

/// A key for task-local data, declared with [`task_local!`](crate::task_local).
///
/// # Examples
///
/// ```
/// filch::task_local! {
///     static DEPTH: u32;
/// }
///
/// let depth = DEPTH.sync_scope(1, || DEPTH.sync_scope(2, || DEPTH.get()));
/// assert_eq!(depth, 2);
/// assert!(DEPTH.try_with(|_| ()).is_err());
/// ```
pub struct LocalKey<T: 'static> {
    /// The thread-local slot; holds the value only while a scope of this key runs on this
    /// thread. Public only for the macro.
    #[doc(hidden)]
    pub inner: &'static std::thread::LocalKey<RefCell<Option<T>>>,
    /// The key's name, for panic messages. Public only for the macro.
    #[doc(hidden)]
    pub name: &'static str,
}

/// Why a scope could not be entered.
enum ScopeError {
    /// A `with` closure of this key is running (it holds a shared borrow).
    Borrowed,
    /// The thread-local was destroyed (thread teardown).
    Destroyed,
}

impl ScopeError {
    #[track_caller]
    fn panic(self, name: &str) -> ! {
        match self {
            ScopeError::Borrowed => panic!(
                "cannot enter a scope of task-local `{name}` from inside `{name}.with(..)`: \
                 the value is borrowed; enter the scope outside the closure"
            ),
            ScopeError::Destroyed => panic!(
                "cannot enter a scope of task-local `{name}` while this thread's \
                 thread-locals are being destroyed"
            ),
        }
    }
}

impl<T: 'static> LocalKey<T> {
    /// Sets the task-local to `value` while `future` runs, and returns the future that
    /// does so.
    ///
    /// The value is in place during every poll of `future` (on whatever thread polls it)
    /// and while `future` is dropped; it is not visible anywhere else, and not in tasks
    /// spawned by `future`.
    ///
    /// # Examples
    ///
    /// ```
    /// filch::task_local! {
    ///     static NAME: &'static str;
    /// }
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let greeting = rt.block_on(NAME.scope("ferris", async {
    ///     filch::task::yield_now().await;
    ///     NAME.with(|name| format!("hello, {name}"))
    /// }));
    /// assert_eq!(greeting, "hello, ferris");
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Sets the task-local to `value` while the closure `f` runs, and returns its result.
    ///
    /// The previous value (an outer scope's) is restored afterwards, also if `f` panics.
    ///
    /// # Panics
    ///
    /// Panics if called from inside [`with`](Self::with) of the same key.
    ///
    /// # Examples
    ///
    /// ```
    /// filch::task_local! {
    ///     static LIMIT: usize;
    /// }
    ///
    /// let doubled = LIMIT.sync_scope(21, || LIMIT.with(|limit| limit * 2));
    /// assert_eq!(doubled, 42);
    /// ```
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        match self.scope_inner(&mut slot, f) {
            Ok(output) => output,
            Err(err) => err.panic(self.name),
        }
    }

    /// Swaps `slot` into the thread-local, runs `f`, and swaps it back (also on unwind).
    fn scope_inner<F, R>(&'static self, slot: &mut Option<T>, f: F) -> Result<R, ScopeError>
    where
        F: FnOnce() -> R,
    {
        /// Swaps the value back out of the thread-local, restoring the outer one.
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: `f` has returned (or unwound), so no borrow of the cell is
                // left, and the thread-local was alive when the scope was entered.
                self.key
                    .inner
                    .with(|cell| mem::swap(self.slot, &mut *cell.borrow_mut()));
            }
        }

        self.inner
            .try_with(|cell| {
                cell.try_borrow_mut()
                    .map(|mut value| mem::swap(slot, &mut *value))
                    .map_err(|_| ScopeError::Borrowed)
            })
            .map_err(|_| ScopeError::Destroyed)??;
        let _restore = Restore { key: self, slot };
        Ok(f())
    }

    /// Calls `f` with a reference to the task-local value.
    ///
    /// # Panics
    ///
    /// Panics if the value is not set: the caller is not inside a [`scope`](Self::scope)
    /// or [`sync_scope`](Self::sync_scope) of this key. Use [`try_with`](Self::try_with)
    /// to get an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// filch::task_local! {
    ///     static WORDS: Vec<&'static str>;
    /// }
    ///
    /// let count = WORDS.sync_scope(vec!["a", "b"], || WORDS.with(Vec::len));
    /// assert_eq!(count, 2);
    /// ```
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(output) => output,
            Err(_) => {
                let name = self.name;
                panic!(
                    "task-local `{name}` is not set: access it only inside \
                     `{name}.scope(value, future).await` or `{name}.sync_scope(value, || ..)` \
                     (tasks spawned inside a scope do not inherit it; set it again there), \
                     or use `{name}.try_with(..)` to handle its absence"
                )
            }
        }
    }

    /// Calls `f` with a reference to the task-local value, or returns an error if it is not
    /// set here.
    ///
    /// # Errors
    ///
    /// Returns [`AccessError`] outside any scope of this key (or during thread teardown).
    ///
    /// # Examples
    ///
    /// ```
    /// filch::task_local! {
    ///     static TRACE: bool;
    /// }
    ///
    /// assert!(TRACE.try_with(|on| *on).is_err());
    /// assert_eq!(TRACE.sync_scope(true, || TRACE.try_with(|on| *on)), Ok(true));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        self.inner
            .try_with(|cell| {
                // A failed borrow means a scope is swapping the value right now: the value
                // is in flight, so it is not accessible.
                let value = cell
                    .try_borrow()
                    .map_err(|_| AccessError { _private: () })?;
                match &*value {
                    Some(value) => Ok(f(value)),
                    None => Err(AccessError { _private: () }),
                }
            })
            .unwrap_or(Err(AccessError { _private: () }))
    }

    /// Returns a clone of the task-local value.
    ///
    /// # Panics
    ///
    /// Panics if the value is not set, like [`with`](Self::with).
    ///
    /// # Examples
    ///
    /// ```
    /// filch::task_local! {
    ///     static TENANT: String;
    /// }
    ///
    /// let tenant = TENANT.sync_scope("acme".to_string(), || TENANT.get());
    /// assert_eq!(tenant, "acme");
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A future that sets a task-local value while it polls (and drops) the inner future;
/// returned by [`LocalKey::scope`].
///
/// # Examples
///
/// ```
/// use filch::task::TaskLocalFuture;
///
/// filch::task_local! {
///     static ATTEMPT: u32;
/// }
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let future: TaskLocalFuture<u32, _> = ATTEMPT.scope(3, async { ATTEMPT.get() + 1 });
/// assert_eq!(rt.block_on(future), 4);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    /// The value, while it is not swapped into the thread-local (between polls).
    slot: Option<T>,
    /// The inner future.
    ///
    /// # Invariant
    /// Structurally pinned: never moved out; it is only polled through `Pin` and dropped in
    /// place (`Pin::set(None)`), in `poll` or `Drop`.
    future: Option<F>,
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (see its invariant) and `slot` is not
        // pinned at all; nothing here moves `future` out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `this.future` is never moved, so it may be pinned.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        let key = this.key;
        let polled = key.scope_inner(&mut this.slot, || match future.as_mut().as_pin_mut() {
            Some(future) => future.poll(cx),
            None => panic!("`TaskLocalFuture` polled after it completed"),
        });
        match polled {
            Ok(poll) => poll,
            Err(err) => err.panic(key.name),
        }
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if self.future.is_none() {
            return;
        }
        // SAFETY: `future` is structurally pinned; `set` drops it in place.
        let mut future = unsafe { Pin::new_unchecked(&mut self.future) };
        // Drop the inner future with the value in scope so its destructors can read it. If
        // the scope cannot be entered (thread teardown, or dropped inside `with`), drop it
        // without the value rather than panic in a destructor.
        let key = self.key;
        if key
            .scope_inner(&mut self.slot, || future.as_mut().set(None))
            .is_err()
        {
            future.set(None);
        }
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Shows the value only when it is not swapped in (between polls).
        struct Value<'a, T>(&'a Option<T>);
        impl<T: fmt::Debug> fmt::Debug for Value<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    Some(value) => value.fmt(f),
                    None => f.write_str("<in scope>"),
                }
            }
        }
        f.debug_struct("TaskLocalFuture")
            .field("key", &self.key.name)
            .field("value", &Value(&self.slot))
            .finish_non_exhaustive()
    }
}

/// The error of [`LocalKey::try_with`]: the task-local is not set here.
///
/// # Examples
///
/// ```
/// filch::task_local! {
///     static KEY: u8;
/// }
///
/// let err = KEY.try_with(|_| ()).unwrap_err();
/// assert_eq!(err.to_string(), "task-local value not set");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl Error for AccessError {}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    crate::task_local! {
        static NUMBER: u32;
    }

    #[test]
    fn sync_scope_restores_outer_value_on_panic() {
        NUMBER.sync_scope(1, || {
            let result = std::panic::catch_unwind(|| NUMBER.sync_scope(2, || panic!("inner")));
            assert!(result.is_err());
            assert_eq!(NUMBER.get(), 1);
        });
        assert!(NUMBER.try_with(|_| ()).is_err());
    }

    #[test]
    fn scope_inside_with_panics_with_message() {
        let result = std::panic::catch_unwind(|| {
            NUMBER.sync_scope(1, || NUMBER.with(|_| NUMBER.sync_scope(2, || ())))
        });
        let payload = result.unwrap_err();
        let message = payload.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("from inside `NUMBER.with(..)`"),
            "{message}"
        );
        // The outer scope was unwound and restored.
        assert!(NUMBER.try_with(|_| ()).is_err());
    }

    #[test]
    fn future_dropped_with_value_in_scope() {
        thread_local! {
            static SEEN: Cell<Option<u32>> = const { Cell::new(None) };
        }
        struct ReadsOnDrop;
        impl Drop for ReadsOnDrop {
            fn drop(&mut self) {
                SEEN.with(|seen| seen.set(NUMBER.try_with(|n| *n).ok()));
            }
        }
        let guard = ReadsOnDrop;
        let future = NUMBER.scope(9, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        drop(future);
        assert_eq!(SEEN.with(Cell::get), Some(9));
        assert!(NUMBER.try_with(|_| ()).is_err());
    }
}
