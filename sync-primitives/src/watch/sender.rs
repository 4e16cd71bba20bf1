//! The [`Sender`] half of a watch channel: publishing a value (in place, conditionally,
//! or by replacing it), new receivers, and closing when the last sender goes.
use super::{Receiver, Ref, SendError, Sender, Shared, Wait, CLOSED, VERSION_STEP};
use crate::loom::{Ordering, RwLockWriteGuard};

impl<T> Sender<T> {
    /// Publishes `value` and notifies every receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there are no receivers; the stored value is left
    /// unchanged. [`Sender::send_replace`] stores regardless.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` whether or not anyone is listening, notifies receivers, and returns
    /// the previous value.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = value;
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Modifies the value in place, then notifies receivers.
    ///
    /// # Panics
    ///
    /// If `modify` panics the panic propagates, and the change is still published and
    /// every waiting receiver woken, since the value may have been partly modified (see
    /// [`Sender::send_if_modified`]).
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Runs `modify` on the value and notifies receivers only if it returns `true`.
    ///
    /// Returns what `modify` returned.
    ///
    /// # Panics
    ///
    /// If `modify` panics the panic propagates. The value may have been partly modified,
    /// so the change is treated as made: the version is bumped, every waiting receiver is
    /// woken (and `changed()` returns), and the write lock is released by the unwind (this
    /// lock does not poison). A spurious change notice is harmless where a missed one is
    /// not. (tokio's `watch` differs here: it publishes nothing on a panic, leaving the
    /// partial change visible to `borrow` but unannounced.)
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| false));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { *v += 1; true }));
    /// assert!(rx.has_changed().unwrap());
    ///
    /// let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     tx.send_if_modified(|v| {
    ///         *v = 0;
    ///         panic!("half way")
    ///     })
    /// }));
    /// assert!(panicked.is_err());
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow(), 0);
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        /// Holds the write lock; when dropped (on return or while `modify` unwinds) bumps
        /// the version under the lock if `publish` is set, unlocks, then wakes receivers.
        struct Publish<'a, T> {
            shared: &'a Shared<T>,
            value: Option<RwLockWriteGuard<'a, T>>,
            publish: bool,
        }
        impl<T> Drop for Publish<'_, T> {
            fn drop(&mut self) {
                let value = self.value.take();
                if self.publish {
                    // Still under the write lock: a reader sees the version of its value.
                    self.shared.state.fetch_add(VERSION_STEP, Ordering::Release);
                }
                drop(value);
                if self.publish {
                    Shared::<T>::wake_all(&self.shared.rx_waiters);
                }
            }
        }

        let shared = &*self.shared;
        let mut guard = Publish {
            shared,
            value: Some(shared.value.write()),
            // Until `modify` returns, assume it changed the value: if it unwinds, the
            // change is published (see "Panics").
            publish: true,
        };
        let value = guard.value.as_mut().expect("write guard held until drop");
        guard.publish = modify(value);
        guard.publish
    }

    /// Borrows the current value.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel("a");
    /// assert_eq!(*tx.borrow(), "a");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// Creates a receiver that has seen the current value.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// assert_eq!(tx.receiver_count(), 1);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let guard = self.shared.value.read();
        let seen = self.shared.version();
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        drop(guard);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// Number of live receivers.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Ordering::Acquire)
    }

    /// Number of live senders (this one and its clones).
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(());
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.tx_count.load(Ordering::Acquire)
    }

    /// Whether every receiver is gone; the same on every sender clone.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone (whichever sender clone it subscribed from).
    /// Cancel safe.
    ///
    /// ```
    /// use filch_sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// std::thread::spawn(move || drop(rx));
    /// futures::executor::block_on(tx.closed());
    /// ```
    pub async fn closed(&self) {
        let shared = &*self.shared;
        Wait {
            list: &shared.tx_waiters,
            key: None,
            ready: || (shared.rx_count.load(Ordering::Acquire) == 0).then_some(()),
            _shared: std::marker::PhantomData::<&T>,
        }
        .await;
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tx_count.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Every sender's sends happened-before its `AcqRel` decrement, so a receiver that
        // sees `CLOSED` sees the final version.
        if self.shared.tx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, Ordering::AcqRel);
            Shared::<T>::wake_all(&self.shared.rx_waiters);
        }
    }
}
