//! The [`Receiver`] half of a watch channel: borrowing the latest value, marking it seen,
//! and waiting for a change or for a value that passes a test.
use super::{Receiver, RecvError, Ref, Shared, Wait, CLOSED, VERSION_STEP};
use crate::loom::{Arc, Ordering};
use crate::runtime_hooks;
use std::future::Future;

/// One look of [`Receiver::wait_for`]: marks the current value seen and returns it if `f`
/// accepts it; otherwise `Err(closed)`, with `closed` read under the same read lock (so
/// `true` means `f` saw the final value).
fn check_value<'a, T>(
    shared: &'a Shared<T>,
    seen: &mut usize,
    fresh: bool,
    f: &mut impl FnMut(&T) -> bool,
) -> Result<Ref<'a, T>, bool> {
    let guard = shared.value.read();
    // Read under the read lock: the version matches the value.
    let state = shared.state.load(Ordering::Acquire);
    let has_changed = fresh || state & !CLOSED != *seen;
    *seen = state & !CLOSED;
    if f(&guard) {
        Ok(Ref { guard, has_changed })
    } else {
        Err(state & CLOSED != 0)
    }
}

/// The future of [`Receiver::changed`], over the receiver's fields (so that
/// [`Receiver::wait_for`] can wait while it keeps `shared` borrowed).
fn wait_changed<'a, T>(
    shared: &'a Shared<T>,
    seen: &'a mut usize,
) -> impl Future<Output = Result<(), RecvError>> + 'a {
    Wait {
        list: &shared.rx_waiters,
        key: None,
        ready: move || {
            let state = shared.state.load(Ordering::Acquire);
            if state & !CLOSED != *seen {
                *seen = state & !CLOSED;
                Some(Ok(()))
            } else if state & CLOSED != 0 {
                Some(Err(RecvError(())))
            } else {
                None
            }
        },
        _shared: std::marker::PhantomData::<&T>,
    }
}

impl<T> Receiver<T> {
    /// Waits for a value this receiver has not seen, and marks it seen.
    ///
    /// Returns at once if the current value is already unseen. Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender (the last clone) is dropped and the current value
    /// has been seen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// futures::executor::block_on(async {
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    ///     drop(tx);
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        wait_changed(&self.shared, &mut self.seen).await
    }

    /// Waits until the value satisfies `f`, marks it seen and returns it borrowed.
    ///
    /// `f` is called on the current value first (seen or not), then on each new value
    /// this receiver observes; values sent in between may be skipped, as for
    /// [`Receiver::changed`]. The returned [`Ref`] holds the read lock: drop it soon.
    /// Each call spends one unit of the runtime's budget (`runtime_hooks`), and its waits
    /// spend as `changed()` does. Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and `f` returned `false` on the final value
    /// (it is always called on it).
    ///
    /// # Panics
    ///
    /// If `f` panics; the panic propagates and the read lock is released.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// futures::executor::block_on(async {
    ///     // Ready once a value of at least 5 arrives, whichever sends were skipped.
    ///     assert_eq!(*rx.wait_for(|v| *v >= 5).await.unwrap(), 5);
    /// });
    /// producer.join().unwrap();
    /// assert!(futures::executor::block_on(rx.wait_for(|v| *v > 5)).is_err());
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        std::future::poll_fn(|cx| runtime_hooks::poll_proceed(cx).map(|b| b.made_progress())).await;
        let shared: &Shared<T> = &self.shared;
        let seen = &mut self.seen;
        // Whether a wait below observed a new version (which it already marked seen).
        let mut fresh = false;
        loop {
            match check_value(shared, seen, fresh, &mut f) {
                Ok(value) => return Ok(value),
                Err(true) => return Err(RecvError(())),
                Err(false) => {}
            }
            wait_changed(shared, seen).await?;
            fresh = true;
        }
    }

    /// Borrows the current value without marking it seen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// tx.send(3).unwrap();
    /// let value = rx.borrow();
    /// assert_eq!(*value, 3);
    /// assert!(value.has_changed());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let has_changed = self.shared.version() != self.seen;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(3).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.version();
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether the current value is unseen by this receiver.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone, **even if the last value is unseen** (as
    /// tokio's). [`Receiver::changed`] still returns that last value's change first, and
    /// [`Receiver::borrow`]'s [`Ref::has_changed`] still tells whether it is unseen.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// assert!(rx.borrow().has_changed());
    /// assert!(futures::executor::block_on(rx.changed()).is_ok());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(Ordering::Acquire);
        if state & CLOSED != 0 {
            Err(RecvError(()))
        } else {
            Ok(state & !CLOSED != self.seen)
        }
    }

    /// Marks the current value as seen without borrowing it.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version();
    }

    /// Marks the current value as unseen, so the next `changed()` returns at once.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (_tx, mut rx) = watch::channel(0);
    /// rx.mark_changed();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version().wrapping_sub(VERSION_STEP);
    }

    /// Whether both receivers observe the same channel.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (_tx, rx) = watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.rx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            Shared::<T>::wake_all(&self.shared.tx_waiters);
        }
    }
}
