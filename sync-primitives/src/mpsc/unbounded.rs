//! The unbounded channel: sends never wait; memory is the only limit.

use super::chan::{Chan, Unlimited};
use super::error::{SendError, TryRecvError};
use crate::chan_waiters::block_on;
use crate::loom::Arc;
use crate::runtime_hooks;
use concurrent_queue::ConcurrentQueue;
use futures_core::Stream;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Creates a channel with no capacity limit.
///
/// Messages are stored in linked segments of a few dozen slots, so a send allocates
/// only when it opens a new segment.
///
/// ```
/// use filch_sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// for i in 0..100 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let sum: i32 = futures::executor::block_on(async {
///     let mut sum = 0;
///     while let Some(i) = rx.recv().await {
///         sum += i;
///     }
///     sum
/// });
/// assert_eq!(sum, 4950);
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(ConcurrentQueue::unbounded(), Unlimited));
    let receiver = UnboundedReceiver { chan: chan.clone() };
    (UnboundedSender { chan }, receiver)
}

/// Sends messages to an unbounded channel; clone it for more producers.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T, Unlimited>>,
}

/// Receives the messages of an unbounded channel.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T, Unlimited>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone or closed.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send("hello").unwrap();
    /// assert_eq!(rx.try_recv(), Ok("hello"));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
    }

    /// Waits until the receiver is dropped or closed. Cancel safe.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<()>();
    /// std::thread::spawn(move || drop(rx));
    /// futures::executor::block_on(tx.closed());
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Whether the receiver is gone or closed.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<()>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message, or `None` once the channel is closed and drained.
    ///
    /// Cancel safe: dropping the future before it completes loses no message.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// futures::executor::block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next message; the poll form of [`UnboundedReceiver::recv`].
    ///
    /// ```
    /// use filch_sync::mpsc;
    /// use std::task::{Context, Poll};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let waker = futures::task::noop_waker();
    /// let mut cx = Context::from_waker(&waker);
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(5)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Receives up to `limit` messages into `buffer` (appended), waiting until at least
    /// one is there; returns how many were added.
    ///
    /// Returns 0 at once if `limit` is 0, and 0 once the channel is closed and drained
    /// (as `recv` returns `None`); a non-zero `limit` otherwise always yields at least one
    /// message. Messages keep their order. Cancel safe: dropping the future before it
    /// completes loses no message. Spends one unit of the runtime's budget per call that
    /// returns (`runtime_hooks`).
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// let mut buffer = Vec::new();
    /// futures::executor::block_on(async {
    ///     assert_eq!(rx.recv_many(&mut buffer, 3).await, 3);
    ///     assert_eq!(rx.recv_many(&mut buffer, 3).await, 2);
    ///     assert_eq!(rx.recv_many(&mut buffer, 3).await, 0);
    /// });
    /// assert_eq!(buffer, [0, 1, 2, 3, 4]);
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// Polls for up to `limit` messages; the poll form of [`UnboundedReceiver::recv_many`].
    ///
    /// ```
    /// use filch_sync::mpsc;
    /// use std::task::{Context, Poll};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let waker = futures::task::noop_waker();
    /// let mut cx = Context::from_waker(&waker);
    /// let mut buffer = Vec::new();
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 8), Poll::Pending);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 8), Poll::Ready(1));
    /// assert_eq!(buffer, [1]);
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Receives a message if one is buffered.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is buffered but senders remain,
    /// [`TryRecvError::Disconnected`] if nothing is buffered and the channel is closed.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives from a thread that is not running async code, blocking until a message
    /// arrives or the channel closes.
    ///
    /// # Panics
    ///
    /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async tasks.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(3));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        runtime_hooks::assert_may_block("mpsc::UnboundedReceiver::blocking_recv", ".recv().await");
        block_on(self.recv())
    }

    /// Closes the channel: further sends fail; buffered messages can still be received.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Number of buffered messages.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no message is buffered.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::unbounded_channel::<()>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the channel is closed (every sender gone, or [`UnboundedReceiver::close`]
    /// called). Messages may still be buffered.
    ///
    /// ```
    /// use filch_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<()>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.close_rx();
        self.chan.close_and_drain();
    }
}

impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
