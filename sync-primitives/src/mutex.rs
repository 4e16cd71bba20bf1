//! An async mutex: a one-permit [`Semaphore`] guarding an `UnsafeCell`.
//!
//! Uncontended `lock` is one CAS on the semaphore word (one free permit, no flags, to
//! none) and unlock is one `fetch_add`; only when that `fetch_add` sees waiters does the
//! unlocker take the queue lock and hand the permit straight to the head waiter. Waiters
//! are served strictly first-in first-out, so hand-off is fair: a thread that unlocks and
//! locks again cannot overtake a queued waiter (its fast-path CAS fails while `QUEUED` is
//! set).
//!
//! # Safety argument
//!
//! The semaphore has exactly one permit and nobody but this module adds or forgets one, so
//! at most one guard exists at a time. A guard is created only after taking the permit and
//! gives it back only in its `Drop` (or, for [`MappedMutexGuard`], in its own `Drop` after
//! the original guard was forgotten), so every `&mut T` derived from `data` is exclusive.
//! The semaphore's `Acquire` CAS / `AcqRel` hand-off orders one holder's writes before the
//! next holder's reads.
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::loom::{loom_const_fn, UnsafeCell};
use crate::runtime_hooks;
use crate::semaphore::{acquire_raw, FastPath, Semaphore};

/// An async mutual-exclusion lock with fair (FIFO) hand-off.
///
/// Unlike `std::sync::Mutex`, waiting for the lock suspends the task instead of blocking
/// the thread, and the guard may be held across `.await` (the future stays `Send` when
/// `T: Send`). There is no poisoning.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::Mutex;
///
/// let count = Arc::new(Mutex::new(0));
/// let threads: Vec<_> = (0..4)
///     .map(|_| {
///         let count = count.clone();
///         std::thread::spawn(move || {
///             futures::executor::block_on(async {
///                 *count.lock().await += 1;
///             })
///         })
///     })
///     .collect();
/// for t in threads {
///     t.join().unwrap();
/// }
/// assert_eq!(*count.blocking_lock(), 4);
/// ```
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: a `Mutex<T>` only hands out `&mut T` to one guard at a time (module docs), so
// sharing it across threads moves `T` between threads but never shares it: `T: Send`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Exclusive access to a [`Mutex`]'s value; unlocks on drop.
///
/// # Examples
///
/// ```
/// use filch_sync::Mutex;
///
/// let m = Mutex::new(vec![1]);
/// futures::executor::block_on(async {
///     let mut guard = m.lock().await;
///     guard.push(2);
/// });
/// assert_eq!(m.into_inner(), [1, 2]);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

// SAFETY: `&MutexGuard` only gives `&T`, so sharing the guard shares `T` (`T: Sync`); the
// guard may also be dropped from another thread, which moves `T`'s ownership (`T: Send`).
// This replaces the auto impl, which would ask only `T: Send`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

/// Exclusive access to an `Arc<`[`Mutex`]`>`'s value, owning a clone of the `Arc`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::Mutex;
///
/// let m = Arc::new(Mutex::new(1));
/// let mut guard = m.clone().try_lock_owned().unwrap();
/// std::thread::spawn(move || *guard += 1).join().unwrap();
/// assert_eq!(*m.blocking_lock(), 2);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

/// A locked [`Mutex`] narrowed to one part of its value by [`MutexGuard::map`].
///
/// # Examples
///
/// ```
/// use filch_sync::{Mutex, MutexGuard};
///
/// let m = Mutex::new((1, 2));
/// let mut second = MutexGuard::map(m.try_lock().unwrap(), |pair| &mut pair.1);
/// *second += 40;
/// drop(second);
/// assert_eq!(m.into_inner(), (1, 42));
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    sem: &'a Semaphore,
    data: *mut T,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is a `&mut T` that also releases the lock when dropped; `&mut T` is
// `Send` when `T: Send`, and releasing the permit is thread-safe.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: `&MappedMutexGuard` gives only `&T`: `T: Sync` (and `Send`, as for `MutexGuard`).
unsafe impl<T: ?Sized + Send + Sync> Sync for MappedMutexGuard<'_, T> {}

/// [`Mutex::try_lock`] found the mutex locked.
///
/// # Examples
///
/// ```
/// use filch_sync::Mutex;
///
/// let m = Mutex::new(());
/// let _guard = m.try_lock().unwrap();
/// let err = m.try_lock().unwrap_err();
/// assert_eq!(err.to_string(), "operation would block");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl<T> Mutex<T> {
    loom_const_fn! {
        /// Creates an unlocked mutex. `const` except under `--cfg loom`.
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::Mutex;
        ///
        /// let m = Mutex::new(5);
        /// assert_eq!(*m.try_lock().unwrap(), 5);
        /// ```
        pub const fn new(value: T) -> Self {
            Self {
                sem: Semaphore::const_new(1),
                data: UnsafeCell::new(value),
            }
        }
    }

    loom_const_fn! {
        /// Creates an unlocked mutex in a `const` context (same as [`new`](Self::new)).
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::Mutex;
        ///
        /// static COUNT: Mutex<u32> = Mutex::const_new(0);
        /// *COUNT.blocking_lock() += 1;
        /// assert_eq!(*COUNT.blocking_lock(), 1);
        /// ```
        pub const fn const_new(value: T) -> Self {
            Self::new(value)
        }
    }

    /// Consumes the mutex and returns its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Mutex;
    ///
    /// assert_eq!(Mutex::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// Takes the mutex's permit inside the calling `async fn`: one CAS when uncontended,
/// otherwise queue (see `acquire_raw!`). The semaphore is never closed.
macro_rules! lock_acquire {
    ($mutex:expr) => {
        if acquire_raw!(&$mutex.sem, 1, FastPath::Exact).is_err() {
            unreachable!("a Mutex's semaphore is never closed");
        }
    };
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting in line if it is held.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes gives up its place in the queue; if the
    /// lock had already been handed to it, the lock is passed on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Mutex;
    ///
    /// let m = Mutex::new(0);
    /// futures::executor::block_on(async {
    ///     *m.lock().await = 7;
    ///     assert_eq!(*m.lock().await, 7);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        lock_acquire!(self);
        MutexGuard { lock: self }
    }

    /// Locks an `Arc`ed mutex; the guard owns a clone of the `Arc`.
    ///
    /// # Cancel safety
    ///
    /// As for [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Mutex;
    ///
    /// let m = Arc::new(Mutex::new(0));
    /// let guard = futures::executor::block_on(m.clone().lock_owned());
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        lock_acquire!(self);
        OwnedMutexGuard { lock: self }
    }

    /// Locks the mutex from synchronous code, blocking the current thread.
    ///
    /// Blocking inside an async task stalls that task's executor thread (and deadlocks a
    /// single-threaded one if the holder runs there): call it only from threads that may
    /// block.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Mutex;
    ///
    /// let m = Mutex::new(1);
    /// *m.blocking_lock() += 1;
    /// assert_eq!(*m.blocking_lock(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        runtime_hooks::assert_may_block("Mutex::blocking_lock", ".lock().await");
        block_on(self.lock())
    }

    /// Locks the mutex if it is free and nobody is waiting.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if it is held (or waiters are queued).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Mutex;
    ///
    /// let m = Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if self.sem.try_take_exact(1) {
            Ok(MutexGuard { lock: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// Like [`try_lock`](Self::try_lock), for an `Arc`ed mutex.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if it is held (or waiters are queued).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Mutex;
    ///
    /// let m = Arc::new(Mutex::new(1));
    /// let guard = m.clone().try_lock_owned().unwrap();
    /// assert!(m.clone().try_lock_owned().is_err());
    /// drop(guard);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        if self.sem.try_take_exact(1) {
            Ok(OwnedMutexGuard { lock: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Mutex;
    ///
    /// let mut m = Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` excludes every guard (they borrow the mutex) and every other
        // reference, so this is the only access to `data`.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the value, keeping the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new([0u8; 4]);
    /// let mut first = MutexGuard::map(m.try_lock().unwrap(), |a| &mut a[0]);
    /// *first = 9;
    /// drop(first);
    /// assert_eq!(m.try_lock().unwrap()[0], 9);
    /// ```
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> MappedMutexGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        let sem = &this.lock.sem;
        // The mapped guard now owns the permit.
        std::mem::forget(this);
        MappedMutexGuard {
            sem,
            data,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](Self::map), but `f` may decline, giving the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new(vec![1]);
    /// let guard = m.try_lock().unwrap();
    /// let guard = MutexGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
    /// assert!(MutexGuard::try_map(guard, |v| v.get_mut(0)).is_ok());
    /// ```
    pub fn try_map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        let Some(data) = f(&mut *this).map(|d| d as *mut U) else {
            return Err(this);
        };
        let sem = &this.lock.sem;
        std::mem::forget(this);
        Ok(MappedMutexGuard {
            sem,
            data,
            _marker: PhantomData,
        })
    }

    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(MutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (module docs), so no `&mut T`
        // exists elsewhere while `&self` is borrowed.
        self.lock.data.with(|data| unsafe { &*data })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the only permit and `&mut self` is unique, so this is
        // the only reference to the value.
        self.lock.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::{Mutex, OwnedMutexGuard};
    ///
    /// let m = Arc::new(Mutex::new(()));
    /// let guard = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `MutexGuard::deref`: this guard holds the only permit.
        self.lock.data.with(|data| unsafe { &*data })
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `MutexGuard::deref_mut`.
        self.lock.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` came from the `&mut T` of a guard that held the only permit, and
        // this guard now holds that permit; the `'a` borrow keeps the mutex alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this reference unique.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

/// The [`TryLockError`] that the `RwLock`'s `try_*` methods return too.
pub(crate) fn would_block() -> TryLockError {
    TryLockError(())
}

/// Drives `future` on the current thread, parking between polls (`blocking_*` methods).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unparker(Thread);
    impl Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}
