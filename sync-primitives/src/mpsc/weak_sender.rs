//! [`WeakSender`]: a bounded channel's sender that does not keep the channel open.
//!
//! It holds the channel's allocation and counts in `Chan::weak_count`; `upgrade` adds a
//! sender only while `tx_count` is non-zero (one compare-exchange loop), so a channel the
//! last sender closed is never reopened.

use super::bounded::Sender;
use super::capacity::Capacity;
use super::chan::Chan;
use crate::loom::Arc;
use std::fmt;

/// A sender that does not keep the channel open: [`upgrade`](WeakSender::upgrade) it to
/// send.
///
/// Made by [`Sender::downgrade`]. Once every [`Sender`] is gone the channel is closed for
/// good and `upgrade` returns `None`, whatever weak senders remain.
pub struct WeakSender<T> {
    pub(super) chan: Arc<Chan<T, Capacity>>,
    pub(super) capacity: usize,
}

impl<T> WeakSender<T> {
    /// A [`Sender`] for the channel, or `None` once every sender is gone (the channel has
    /// then closed for good).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        if self.chan.try_add_sender() {
            Some(Sender {
                chan: self.chan.clone(),
                capacity: self.capacity,
            })
        } else {
            None
        }
    }

    /// Number of [`Sender`]s of the channel (a snapshot).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.sender_count()
    }

    /// Number of [`WeakSender`]s of the channel, this one included (a snapshot).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let weak = tx.downgrade();
    /// let _weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        Self {
            chan: self.chan.clone(),
            capacity: self.capacity,
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::WeakSender")
            .field("strong_count", &self.strong_count())
            .field("weak_count", &self.weak_count())
            .finish_non_exhaustive()
    }
}
