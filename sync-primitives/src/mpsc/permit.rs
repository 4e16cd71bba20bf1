//! Reserved slots of a bounded channel: [`Permit`], [`OwnedPermit`] and the
//! [`PermitIterator`] of `reserve_many`.
//!
//! A permit stands for one slot of the channel's `Capacity` (`capacity.rs`): using it
//! moves the slot to the message (the receiver frees it when it pops), dropping it
//! returns the slot to the next waiting sender or the free count. Permits are what keep a
//! closed channel's drain going (`chan.rs`, "Closing").

use super::bounded::Sender;
use super::capacity::Capacity;
use super::chan::Chan;
use std::fmt;

/// A reserved slot in a bounded channel: [`Permit::send`] cannot fail for lack of room.
///
/// Dropping an unused permit returns the slot to the channel (to the next waiting sender).
/// A permit stays good after [`Receiver::close`](super::Receiver::close): its message is still received.
pub struct Permit<'a, T> {
    pub(super) chan: &'a Chan<T, Capacity>,
}

/// A reserved slot that owns a [`Sender`]: [`OwnedPermit::send`] hands the sender back.
///
/// Made by [`Sender::reserve_owned`] and [`Sender::try_reserve_owned`], for a slot that must
/// outlive a borrow of the sender (moved into a task, say). Otherwise it is a [`Permit`]:
/// dropping it returns the slot, and it stays good after [`Receiver::close`](super::Receiver::close).
pub struct OwnedPermit<T> {
    /// `None` only once `send` or `release` took it.
    pub(super) sender: Option<Sender<T>>,
}

/// `n` reserved slots, handed out one [`Permit`] at a time.
///
/// Made by [`Sender::reserve_many`] and [`Sender::try_reserve_many`]. Dropping the iterator
/// returns the slots whose permits it has not yielded; a yielded permit lives on its own.
pub struct PermitIterator<'a, T> {
    pub(super) chan: &'a Chan<T, Capacity>,
    /// Slots still held by the iterator.
    pub(super) left: usize,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot.
    ///
    /// The receiver gets it even if it [closed](super::Receiver::close) the channel after the slot
    /// was reserved: a closed receiver keeps receiving until every permit is used or
    /// dropped. If the receiver was dropped, the value is dropped here.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.try_reserve().unwrap().send("x");
    /// assert_eq!(rx.try_recv(), Ok("x"));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        // The slot now belongs to the message; the receiver frees it when it pops. The push
        // fails only once the receiver is dropped, when slots no longer matter.
        let _ = chan.push(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.slots.release();
    }
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and gives the sender back.
    ///
    /// Delivered as [`Permit::send`] delivers: even after the receiver's
    /// [close](super::Receiver::close); dropped here if the receiver is gone.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send("x");
    /// assert_eq!(rx.try_recv(), Ok("x"));
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("OwnedPermit holds its sender until used");
        // The slot now belongs to the message (as in `Permit::send`).
        let _ = sender.chan.push(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("OwnedPermit holds its sender until used");
        sender.chan.slots.release();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.chan.slots.release();
        }
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.slots.release_many(self.left);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::OwnedPermit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::PermitIterator")
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}
