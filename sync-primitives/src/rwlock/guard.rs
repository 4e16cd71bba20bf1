//! The guards an [`RwLock`] hands out: read and write, borrowed or owned, and mapped to a
//! part of the value. Each holds its permits (one for a reader, all of them for a writer)
//! and gives them back on drop; the module docs of [`rwlock`](super) say why the access
//! each one grants is sound.
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::RwLock;
use crate::semaphore::Semaphore;

/// Shared access to an [`RwLock`]'s value; releases its read permit on drop.
///
/// # Examples
///
/// ```
/// use filch_sync::RwLock;
///
/// let lock = RwLock::new(1);
/// let guard = lock.try_read().unwrap();
/// assert_eq!(*guard, 1);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    pub(super) sem: &'a Semaphore,
    /// # Invariant
    /// Points to the lock's value, or to a part of it picked by [`RwLockReadGuard::map`],
    /// valid for `'a`; readable while this guard's one permit is held.
    pub(super) data: *const T,
    pub(super) _marker: PhantomData<&'a T>,
}

// SAFETY: the guard is a `&T` that also gives a permit back when dropped (thread-safe):
// sending or sharing it shares `T`, so `T: Sync` suffices.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as for `Send`: `&RwLockReadGuard` gives only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

/// Exclusive access to an [`RwLock`]'s value; releases every permit on drop.
///
/// # Examples
///
/// ```
/// use filch_sync::RwLock;
///
/// let lock = RwLock::new(1);
/// *lock.try_write().unwrap() = 2;
/// assert_eq!(lock.into_inner(), 2);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    pub(super) lock: &'a RwLock<T>,
}

/// Exclusive access to a part of an [`RwLock`]'s value, made by [`RwLockWriteGuard::map`];
/// releases every permit on drop.
///
/// # Examples
///
/// ```
/// use filch_sync::{RwLock, RwLockWriteGuard};
///
/// let lock = RwLock::new((1, 2));
/// let mut second = RwLockWriteGuard::map(lock.try_write().unwrap(), |pair| &mut pair.1);
/// *second += 40;
/// assert!(lock.try_read().is_err());
/// drop(second);
/// assert_eq!(lock.into_inner(), (1, 42));
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    pub(super) sem: &'a Semaphore,
    /// All the lock's permits, released on drop (less one while a downgrade keeps it).
    pub(super) permits: u32,
    /// # Invariant
    /// Points to a part of the lock's value, valid for `'a`; exclusively ours while the
    /// guard holds every permit.
    pub(super) data: *mut T,
    pub(super) _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is a `&mut T` that also releases the lock when dropped; `&mut T` is
// `Send` when `T: Send`, and releasing permits is thread-safe.
unsafe impl<T: ?Sized + Send> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: `&RwLockMappedWriteGuard` gives only `&T`: `T: Sync` (and `Send`, as for
// `RwLockWriteGuard`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

/// Shared access to an `Arc<`[`RwLock`]`>`'s value, owning a clone of the `Arc`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::RwLock;
///
/// let lock = Arc::new(RwLock::new(1));
/// let guard = lock.clone().try_read_owned().unwrap();
/// std::thread::spawn(move || assert_eq!(*guard, 1)).join().unwrap();
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    pub(super) lock: Arc<RwLock<T>>,
}

/// Exclusive access to an `Arc<`[`RwLock`]`>`'s value, owning a clone of the `Arc`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::RwLock;
///
/// let lock = Arc::new(RwLock::new(1));
/// let mut guard = lock.clone().try_write_owned().unwrap();
/// std::thread::spawn(move || *guard = 2).join().unwrap();
/// assert_eq!(*lock.try_read().unwrap(), 2);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    pub(super) lock: Arc<RwLock<T>>,
    /// Permits released on drop: all of them, except while `downgrade` hands one on.
    pub(super) permits: u32,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting another writer in between;
    /// readers queued behind it get in at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let mut w = lock.try_write().unwrap();
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let lock = this.lock;
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard::new(lock)
    }

    /// Narrows the guard to a part of the value, keeping the write lock.
    ///
    /// An associated function (`RwLockWriteGuard::map(guard, f)`), so it does not shadow
    /// a method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1, 2, 3]);
    /// let mut last = RwLockWriteGuard::map(lock.try_write().unwrap(), |v| v.last_mut().unwrap());
    /// *last = 30;
    /// drop(last);
    /// assert_eq!(lock.into_inner(), [1, 2, 30]);
    /// ```
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockMappedWriteGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        let lock = this.lock;
        std::mem::forget(this);
        RwLockMappedWriteGuard {
            sem: &lock.sem,
            permits: lock.max_readers,
            data,
            _marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` finds one; otherwise gives the
    /// guard back, still locked.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returned `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let guard = lock.try_write().unwrap();
    /// let guard = RwLockWriteGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
    /// let mut first = RwLockWriteGuard::try_map(guard, |v| v.get_mut(0)).unwrap();
    /// *first += 1;
    /// drop(first);
    /// assert_eq!(lock.into_inner(), [2]);
    /// ```
    pub fn try_map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self> {
        let Some(data) = f(&mut *this).map(|part| part as *mut U) else {
            return Err(this);
        };
        let lock = this.lock;
        std::mem::forget(this);
        Ok(RwLockMappedWriteGuard {
            sem: &lock.sem,
            permits: lock.max_readers,
            data,
            _marker: PhantomData,
        })
    }

    /// Turns the guard into a [`RwLockMappedWriteGuard`] of the whole value, keeping the
    /// write lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let mut mapped = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    /// *mapped = 2;
    /// drop(mapped);
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        Self::map(this, |value| value)
    }

    /// Narrows the guard to a part of the value and turns it into a read lock at once,
    /// without letting another writer in between (as [`downgrade`](Self::downgrade)).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((1, String::from("a")));
    /// let mut w = lock.try_write().unwrap();
    /// w.1.push('b');
    /// let name = RwLockWriteGuard::downgrade_map(w, |pair| &pair.1);
    /// assert_eq!(*name, "ab");
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> RwLockReadGuard<'a, U> {
        let data: *const U = f(&*this);
        let lock = this.lock;
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard {
            sem: &lock.sem,
            data,
            _marker: PhantomData,
        }
    }

    /// [`downgrade_map`](Self::downgrade_map) if `f` finds a part; otherwise gives the
    /// write guard back, still write-locked.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returned `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![7]);
    /// let w = lock.try_write().unwrap();
    /// let w = RwLockWriteGuard::try_downgrade_map(w, |v| v.get(3)).unwrap_err();
    /// assert!(lock.try_read().is_err());
    /// let first = RwLockWriteGuard::try_downgrade_map(w, |v| v.first()).unwrap();
    /// assert_eq!(*first, 7);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        let Some(data) = f(&*this).map(|part| part as *const U) else {
            return Err(this);
        };
        let lock = this.lock;
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        Ok(RwLockReadGuard {
            sem: &lock.sem,
            data,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard of the whole value of `lock`, whose read permit the caller holds.
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        Self {
            sem: &lock.sem,
            data: lock.data.with(|data| data),
            _marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value, keeping the read lock.
    ///
    /// An associated function (`RwLockReadGuard::map(guard, f)`), so it does not shadow a
    /// method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new((1, "two"));
    /// let two = RwLockReadGuard::map(lock.try_read().unwrap(), |pair| &pair.1);
    /// assert_eq!(*two, "two");
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RwLockReadGuard<'a, U> {
        let data: *const U = f(&*this);
        let sem = this.sem;
        std::mem::forget(this);
        RwLockReadGuard {
            sem,
            data,
            _marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` finds one; otherwise gives the
    /// guard back.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returned `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new(vec![1, 2]);
    /// let guard = lock.try_read().unwrap();
    /// let guard = RwLockReadGuard::try_map(guard, |v| v.get(9)).unwrap_err();
    /// let second = RwLockReadGuard::try_map(guard, |v| v.get(1)).unwrap();
    /// assert_eq!(*second, 2);
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        let Some(data) = f(&*this).map(|part| part as *const U) else {
            return Err(this);
        };
        let sem = this.sem;
        std::mem::forget(this);
        Ok(RwLockReadGuard {
            sem,
            data,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further, keeping the write lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(((1, 2), 3));
    /// let inner = RwLockWriteGuard::map(lock.try_write().unwrap(), |v| &mut v.0);
    /// let mut two = RwLockMappedWriteGuard::map(inner, |pair| &mut pair.1);
    /// *two = 20;
    /// drop(two);
    /// assert_eq!(lock.into_inner(), ((1, 20), 3));
    /// ```
    pub fn map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockMappedWriteGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        let (sem, permits) = (this.sem, this.permits);
        std::mem::forget(this);
        RwLockMappedWriteGuard {
            sem,
            permits,
            data,
            _marker: PhantomData,
        }
    }

    /// Narrows the guard further if `f` finds a part; otherwise gives the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, if `f` returned `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let all = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    /// let all = RwLockMappedWriteGuard::try_map(all, |v| v.get_mut(2)).unwrap_err();
    /// assert!(RwLockMappedWriteGuard::try_map(all, |v| v.get_mut(0)).is_ok());
    /// ```
    pub fn try_map<U: ?Sized>(
        mut this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self> {
        let Some(data) = f(&mut *this).map(|part| part as *mut U) else {
            return Err(this);
        };
        let (sem, permits) = (this.sem, this.permits);
        std::mem::forget(this);
        Ok(RwLockMappedWriteGuard {
            sem,
            permits,
            data,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns the write lock into a read lock without letting another writer in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let w = lock.clone().try_write_owned().unwrap();
    /// let r = OwnedRwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 1);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn downgrade(mut this: Self) -> OwnedRwLockReadGuard<T> {
        let lock = Arc::clone(&this.lock);
        // Dropping `this` now gives back all permits but the one the read guard keeps.
        this.permits = lock.max_readers - 1;
        drop(this);
        OwnedRwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` is valid for `'a` and this guard holds a read permit, so no write
        // guard exists and nobody has `&mut` to it (field invariant, module docs).
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` is valid for `'a` and this guard holds every permit: no other
        // guard exists; `&self` lends it shared.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference while it
        // lives.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.lock.shared()
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.lock.exclusive()
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.lock.shared()
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.lock.shared()
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.lock.exclusive()
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.permits as usize);
    }
}

macro_rules! debug_via_deref {
    ($($guard:ident $(<$lt:lifetime>)?),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}
debug_via_deref!(
    RwLockReadGuard<'_>,
    RwLockWriteGuard<'_>,
    RwLockMappedWriteGuard<'_>,
    OwnedRwLockReadGuard,
    OwnedRwLockWriteGuard
);
