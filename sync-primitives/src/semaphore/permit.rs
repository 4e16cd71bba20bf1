//! The permits a [`Semaphore`] hands out, borrowed ([`SemaphorePermit`]) or owned
//! ([`OwnedSemaphorePermit`]): dropping one gives its permits back; they can also be
//! forgotten, split or merged.
use std::fmt;
use std::sync::Arc;

use super::Semaphore;
/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
///
/// # Examples
///
/// ```
/// use filch_sync::Semaphore;
///
/// let sem = Semaphore::new(3);
/// let permit = sem.try_acquire_many(2).unwrap();
/// assert_eq!(permit.num_permits(), 2);
/// drop(permit);
/// assert_eq!(sem.available_permits(), 3);
/// ```
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    pub(super) sem: &'a Semaphore,
    pub(super) permits: usize,
}

/// Permits owned from an `Arc<`[`Semaphore`]`>`; dropping it gives them back.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use filch_sync::Semaphore;
///
/// let sem = Arc::new(Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "dropping the permit releases it at once"]
pub struct OwnedSemaphorePermit {
    pub(super) sem: Arc<Semaphore>,
    pub(super) permits: usize,
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits from going back to the semaphore: they are lost for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(5);
    /// assert_eq!(sem.try_acquire_many(4).unwrap().num_permits(), 4);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Moves `other`'s permits into `self`.
    ///
    /// # Panics
    ///
    /// If the two permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut a = sem.try_acquire().unwrap();
    /// a.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "SemaphorePermit::merge: the permits belong to different semaphores; \
             merge only permits of the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` of this permit's permits off into a new permit of the same semaphore;
    /// `None` (and `self` unchanged) if it holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut a = sem.try_acquire_many(3).unwrap();
    /// let b = a.split(2).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
    /// assert!(a.split(2).is_none());
    /// drop(b);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[must_use = "the split-off permit is released at once if unused"]
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(Self {
            sem: self.sem,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits from going back to the semaphore: they are lost for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// assert_eq!(sem.try_acquire_many_owned(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore these permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Moves `other`'s permits into `self`.
    ///
    /// # Panics
    ///
    /// If the two permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let mut a = sem.clone().try_acquire_owned().unwrap();
    /// a.merge(sem.clone().try_acquire_owned().unwrap());
    /// assert_eq!(a.num_permits(), 2);
    /// ```
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "OwnedSemaphorePermit::merge: the permits belong to different semaphores; \
             merge only permits of the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` of this permit's permits off into a new permit owning another clone of
    /// the semaphore's `Arc`; `None` (and `self` unchanged) if it holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use filch_sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(2));
    /// let mut a = sem.clone().try_acquire_many_owned(2).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert!(Arc::ptr_eq(a.semaphore(), b.semaphore()));
    /// assert!(a.split(5).is_none());
    /// drop(a);
    /// assert_eq!((b.num_permits(), sem.available_permits()), (1, 1));
    /// ```
    #[must_use = "the split-off permit is released at once if unused"]
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(Self {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}
