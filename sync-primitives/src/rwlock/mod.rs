//! An async reader-writer lock: a [`Semaphore`] of `max_readers` permits guarding an
//! `UnsafeCell`.
//!
//! A reader takes one permit, a writer takes all `max_readers`. Because the semaphore is
//! strictly FIFO and a request at the head of the queue is paid before anyone behind it,
//! a queued writer blocks readers that arrive after it (no writer starvation), and readers
//! queued behind a writer get in together right after it (no reader starvation). The
//! uncontended write lock is one CAS (all permits to none), like the mutex.
//!
//! # Safety argument
//!
//! Only this module takes or gives back the semaphore's permits, and the total is always
//! `max_readers`: while a write guard (holding all of them) exists no read guard can, and
//! while any read guard exists no write guard can. Read guards give only `&T`; a write guard
//! gives `&mut T` while it is the only guard. The semaphore's acquire/release orderings
//! make each writer's writes visible to later holders.
//!
//! Mapped guards ([`RwLockReadGuard::map`], [`RwLockMappedWriteGuard`]) keep the same
//! permits and a pointer to the part of the value they were narrowed to: the part lives
//! as long as the lock's borrow `'a`, and the permits they hold give the same access to
//! it as to the whole value (shared for one permit, exclusive for all of them).
mod guard;

pub use guard::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard,
};

use std::fmt;
use std::sync::Arc;

use crate::loom::{loom_const_fn, UnsafeCell};
use crate::mutex::block_on;
use crate::runtime_hooks;
use crate::semaphore::{acquire_raw, FastPath, Semaphore};

/// The most readers a lock may admit at once (`u32::MAX >> 3`), and the default.
const MAX_READS: u32 = u32::MAX >> 3;

/// Takes `permits` of the lock's semaphore inside the calling `async fn` (see
/// `acquire_raw!`). The semaphore is never closed.
macro_rules! rw_acquire {
    ($lock:expr, $permits:expr, $fast:expr) => {
        if acquire_raw!(&$lock.sem, $permits as usize, $fast).is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
    };
}

/// An async reader-writer lock, fair between readers and writers.
///
/// # Examples
///
/// ```
/// use filch_sync::RwLock;
///
/// let lock = RwLock::new(5);
/// futures::executor::block_on(async {
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await;
///         assert_eq!(*r1 + *r2, 10);
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: a shared `RwLock` hands out `&T` to many threads at once (`T: Sync`) and `&mut T`
// to one thread at a time, which may move the value's ownership around (`T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    loom_const_fn! {
        /// Creates an unlocked lock admitting up to `u32::MAX >> 3` readers at once.
        /// `const` except under `--cfg loom`.
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::RwLock;
        ///
        /// static CONFIG: RwLock<u32> = RwLock::new(0);
        /// *CONFIG.blocking_write() = 3;
        /// assert_eq!(*CONFIG.blocking_read(), 3);
        /// ```
        pub const fn new(value: T) -> Self {
            Self::with_max_readers(value, MAX_READS)
        }
    }

    loom_const_fn! {
        /// Creates an unlocked lock admitting at most `max_readers` readers at once.
        ///
        /// # Panics
        ///
        /// If `max_readers` is 0 or exceeds `u32::MAX >> 3`.
        ///
        /// # Examples
        ///
        /// ```
        /// use filch_sync::RwLock;
        ///
        /// let lock = RwLock::with_max_readers(0, 2);
        /// let _a = lock.try_read().unwrap();
        /// let _b = lock.try_read().unwrap();
        /// assert!(lock.try_read().is_err());
        /// ```
        pub const fn with_max_readers(value: T, max_readers: u32) -> Self {
            assert!(
                max_readers > 0 && max_readers <= MAX_READS,
                "RwLock::with_max_readers: max_readers must be in 1..=u32::MAX >> 3 \
                 (RwLock::new admits the most readers)"
            );
            Self {
                max_readers,
                sem: Semaphore::const_new(max_readers as usize),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Consumes the lock and returns its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// assert_eq!(RwLock::new(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting behind any writer queued earlier.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the queue and passes on anything it was granted.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let v = futures::executor::block_on(async { *lock.read().await });
    /// assert_eq!(v, 1);
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        rw_acquire!(self, 1, FastPath::Available);
        RwLockReadGuard::new(self)
    }

    /// Locks for writing, waiting for earlier readers and writers to finish.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the queue and passes on any read permits it had already
    /// collected.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// futures::executor::block_on(async { *lock.write().await = 2 });
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        rw_acquire!(self, self.max_readers, FastPath::Exact);
        RwLockWriteGuard { lock: self }
    }

    /// Like [`read`](Self::read), for an `Arc`ed lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = futures::executor::block_on(lock.clone().read_owned());
    /// assert_eq!(*guard, 1);
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        rw_acquire!(self, 1, FastPath::Available);
        OwnedRwLockReadGuard { lock: self }
    }

    /// Like [`write`](Self::write), for an `Arc`ed lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let mut guard = futures::executor::block_on(lock.clone().write_owned());
    /// *guard = 5;
    /// drop(guard);
    /// assert_eq!(*lock.try_read().unwrap(), 5);
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        rw_acquire!(self, self.max_readers, FastPath::Exact);
        OwnedRwLockWriteGuard {
            permits: self.max_readers,
            lock: self,
        }
    }

    /// Locks for reading if that needs no waiting (no writer holds or awaits the lock).
    ///
    /// # Errors
    ///
    /// [`TryLockError`](crate::TryLockError) if it would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, crate::TryLockError> {
        match self.sem.try_take(1) {
            Ok(()) => Ok(RwLockReadGuard::new(self)),
            Err(_) => Err(crate::mutex::would_block()),
        }
    }

    /// Locks for writing if that needs no waiting.
    ///
    /// # Errors
    ///
    /// [`TryLockError`](crate::TryLockError) if it would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, crate::TryLockError> {
        if self.sem.try_take_exact(self.max_readers as usize) {
            Ok(RwLockWriteGuard { lock: self })
        } else {
            Err(crate::mutex::would_block())
        }
    }

    /// Like [`try_read`](Self::try_read), for an `Arc`ed lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`](crate::TryLockError) if it would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// assert_eq!(*lock.clone().try_read_owned().unwrap(), 1);
    /// ```
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, crate::TryLockError> {
        match self.sem.try_take(1) {
            Ok(()) => Ok(OwnedRwLockReadGuard { lock: self }),
            Err(_) => Err(crate::mutex::would_block()),
        }
    }

    /// Like [`try_write`](Self::try_write), for an `Arc`ed lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`](crate::TryLockError) if it would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().try_write_owned().unwrap();
    /// assert!(lock.clone().try_read_owned().is_err());
    /// drop(guard);
    /// ```
    pub fn try_write_owned(
        self: Arc<Self>,
    ) -> Result<OwnedRwLockWriteGuard<T>, crate::TryLockError> {
        if self.sem.try_take_exact(self.max_readers as usize) {
            Ok(OwnedRwLockWriteGuard {
                permits: self.max_readers,
                lock: self,
            })
        } else {
            Err(crate::mutex::would_block())
        }
    }

    /// Locks for reading from synchronous code, blocking the thread. Calling it inside an
    /// async task would block that executor thread.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let lock = RwLock::new(3);
    /// assert_eq!(*lock.blocking_read(), 3);
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        runtime_hooks::assert_may_block("RwLock::blocking_read", ".read().await");
        block_on(self.read())
    }

    /// Locks for writing from synchronous code, blocking the thread. Calling it inside an
    /// async task would block that executor thread.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let lock = RwLock::new(3);
    /// *lock.blocking_write() += 1;
    /// assert_eq!(lock.into_inner(), 4);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        runtime_hooks::assert_may_block("RwLock::blocking_write", ".write().await");
        block_on(self.write())
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::RwLock;
    ///
    /// let mut lock = RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` excludes every guard (they borrow or own an `Arc` of the lock,
        // and an `Arc` gives no `&mut`), so this is the only access.
        self.data.with_mut(|data| unsafe { &mut *data })
    }

    /// `&T` for a holder of at least one permit.
    fn shared(&self) -> &T {
        // SAFETY: callers hold at least one permit, so no write guard exists (module docs)
        // and nobody has `&mut T`.
        self.data.with(|data| unsafe { &*data })
    }

    /// `&mut T` for the holder of every permit.
    #[allow(clippy::mut_from_ref)]
    fn exclusive(&self) -> &mut T {
        // SAFETY: callers are write guards, which hold every permit, and borrow the result
        // through `&mut self`: this is the only reference to the value while it lives.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.field("max_readers", &self.max_readers).finish()
    }
}
