//! A value set once, asynchronously: a `std::sync::OnceLock` for the value plus a
//! one-permit [`Semaphore`] that lets exactly one initializer run at a time.
//!
//! # Protocol
//!
//! - The value lives in a `OnceLock<T>`, which publishes it with release/acquire ordering:
//!   once [`OnceCell::get`] returns `Some`, the value is complete.
//! - An initializer must hold the semaphore's one permit. It stores the value, then
//!   **closes** the semaphore and forgets the permit: every queued and future initializer
//!   fails to acquire and reads the value instead (the close happens after the store, and
//!   the semaphore's orderings make the store visible to whoever sees the close).
//! - If an initializer is cancelled (its future dropped) or fails, its permit goes back and
//!   the next queued initializer (FIFO) runs its own init function.
//! - [`OnceCell::take`] (with `&mut self`) empties the cell and installs a fresh semaphore.
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

use crate::loom::loom_const_fn;
use crate::semaphore::Semaphore;

/// A cell written at most once, with async initialization.
///
/// # Examples
///
/// ```
/// use filch_sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// futures::executor::block_on(async {
///     let value = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
///     assert_eq!(value, "loaded");
///     // later calls never run their initializer
///     let again = CONFIG.get_or_init(|| async { unreachable!() }).await;
///     assert_eq!(again, "loaded");
/// });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    /// One permit for the initializer; closed once `value` is set.
    init: Semaphore,
}

/// Why [`OnceCell::set`] gave the value back.
///
/// # Examples
///
/// ```
/// use filch_sync::{OnceCell, SetError};
///
/// let cell = OnceCell::new();
/// cell.set(1).unwrap();
/// assert!(matches!(cell.set(2), Err(SetError::AlreadyInitializedError(2))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// Another task is initializing the cell right now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell was already initialized.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new_with(Some(1));
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// ```
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, Self::AlreadyInitializedError(_))
    }

    /// Whether another task was initializing the cell.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// futures::executor::block_on(async {
    ///     let _ = cell
    ///         .get_or_init(|| async {
    ///             assert!(cell.set(5).unwrap_err().is_initializing_err());
    ///             1
    ///         })
    ///         .await;
    /// });
    /// ```
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, Self::InitializingError(_))
    }

    /// The value that was not stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new_with(Some(1));
    /// assert_eq!(cell.set(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::AlreadyInitializedError(v) | Self::InitializingError(v) => v,
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyInitializedError(_) => f.write_str("cell already initialized"),
            Self::InitializingError(_) => f.write_str("cell is being initialized"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell: OnceCell<u8> = OnceCell::new();
    /// assert!(cell.get().is_none());
    /// ```
    pub fn new() -> Self {
        Self::const_new()
    }

    loom_const_fn! {
        /// An empty cell, in a `const` context (for `static`s). Under `--cfg loom` this is a
        /// plain `fn`.
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::OnceCell;
        ///
        /// static CELL: OnceCell<u32> = OnceCell::const_new();
        /// assert!(!CELL.initialized());
        /// ```
        pub const fn const_new() -> Self {
            Self {
                value: OnceLock::new(),
                init: Semaphore::const_new(1),
            }
        }
    }

    /// A cell holding `value` if it is `Some`, empty otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some(3)).get(), Some(&3));
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        let cell = Self::new();
        if let Some(value) = value {
            // A fresh cell has no initializer: this cannot fail.
            let _ = cell.set(value);
        }
        cell
    }

    /// Whether the cell holds a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert!(!cell.initialized());
    /// cell.set(()).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// The value, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(7).unwrap();
    /// assert_eq!(cell.get(), Some(&7));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// Mutable access to the value, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Stores `value` if the cell is empty and nobody is initializing it.
    ///
    /// # Errors
    ///
    /// [`SetError::AlreadyInitializedError`] if it holds a value,
    /// [`SetError::InitializingError`] if an initializer is running; both give the value
    /// back.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert!(cell.set(2).is_err());
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        match self.init.try_acquire() {
            Ok(permit) => {
                self.publish(value);
                permit.forget();
                Ok(())
            }
            Err(_) if self.initialized() => Err(SetError::AlreadyInitializedError(value)),
            Err(_) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, initializing it with `f` if the cell is empty. Only one initializer runs
    /// at a time; the others wait in FIFO order and, if it completes, return its value
    /// without running theirs.
    ///
    /// # Cancel safety
    ///
    /// If the running initializer's future is dropped, the next waiter runs its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// let v = futures::executor::block_on(cell.get_or_init(|| async { 42 }));
    /// assert_eq!(*v, 42);
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](Self::get_or_init), but the initializer may fail; on failure
    /// the cell stays empty and the next waiter runs its own initializer.
    ///
    /// # Errors
    ///
    /// The initializer's error, if this call ran it and it failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// futures::executor::block_on(async {
    ///     assert_eq!(cell.get_or_try_init(|| async { Err("no") }).await, Err("no"));
    ///     assert_eq!(cell.get_or_try_init(|| async { Ok::<_, ()>(1) }).await, Ok(&1));
    /// });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        let Ok(permit) = self.init.acquire().await else {
            // Closed: only ever after the value was published.
            return Ok(self.get().expect("OnceCell closed without a value"));
        };
        // Dropping `permit` (error, panic, cancellation) lets the next initializer run.
        let value = f().await?;
        self.publish(value);
        permit.forget();
        Ok(self.get().expect("value just published"))
    }

    /// Stores the value and releases every waiting initializer. Caller holds the permit.
    fn publish(&self, value: T) {
        if self.value.set(value).is_err() {
            unreachable!("only the permit holder of an empty cell publishes");
        }
        self.init.close();
    }

    /// The value, consuming the cell.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some(1)).into_inner(), Some(1));
    /// assert_eq!(OnceCell::<u8>::new().into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty and ready to be initialized again.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(cell.set(2).is_ok());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        let value = self.value.take();
        if value.is_some() {
            self.init = Semaphore::new(1);
        }
        value
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        Self::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        Self::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
