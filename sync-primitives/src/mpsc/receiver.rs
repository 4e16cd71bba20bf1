//! The receiving half's API, written once for both channel kinds: `recv`, `poll_recv`,
//! `recv_many`, `poll_recv_many`, `blocking_recv`, `len`, `is_empty`, its `Drop`, `Stream`
//! and `Debug`, each a thin call into the shared [`Chan`](super::chan::Chan). What differs
//! per kind stays beside its type (`bounded.rs`, `unbounded.rs`): `try_recv`'s, `close`'s
//! and `is_closed`'s account of reserved permits, and the bounded receiver's capacities.
//!
//! Arguments: the receiver type, its name in messages (`"mpsc::Receiver"`), and for the
//! doctests the expression that makes a channel of `i32` and the method that sends one
//! value without waiting (`try_send` or `send`).

/// Implements the shared receiver API for `$rx` (a struct with `chan: Arc<Chan<T, _>>`);
/// see the module docs.
macro_rules! impl_receiver {
    ($rx:ident, $name:literal, make = $make:literal, send = $send:literal) => {
        impl<T> $rx<T> {
            /// Receives the next message, or `None` once the channel is closed and drained.
            ///
            /// Cancel safe: dropping the future before it completes loses no message.
            ///
            /// ```
            /// use filch_sync::mpsc;
            ///
            #[doc = concat!("let (tx, mut rx) = ", $make, ";")]
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// drop(tx);
            /// futures::executor::block_on(async {
            ///     assert_eq!(rx.recv().await, Some(1));
            ///     assert_eq!(rx.recv().await, None);
            /// });
            /// ```
            pub async fn recv(&mut self) -> Option<T> {
                std::future::poll_fn(|cx| self.poll_recv(cx)).await
            }

            #[doc = concat!("Polls for the next message; the poll form of [`", stringify!($rx), "::recv`].")]
            ///
            /// ```
            /// use filch_sync::mpsc;
            /// use std::task::{Context, Poll};
            ///
            #[doc = concat!("let (tx, mut rx) = ", $make, ";")]
            /// let waker = futures::task::noop_waker();
            /// let mut cx = Context::from_waker(&waker);
            /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
            #[doc = concat!("tx.", $send, "(5).unwrap();")]
            /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(5)));
            /// ```
            pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
                self.chan.poll_recv(cx)
            }

            /// Receives up to `limit` messages into `buffer` (appended), waiting until at
            /// least one is there; returns how many were added.
            ///
            /// Returns 0 at once if `limit` is 0, and 0 once the channel is closed and
            /// drained (as `recv` returns `None`); a non-zero `limit` otherwise always
            /// yields at least one message. Messages keep their order. Cancel safe:
            /// dropping the future before it completes loses no message. Spends one unit
            /// of the runtime's budget per call that returns (`runtime_hooks`).
            ///
            /// ```
            /// use filch_sync::mpsc;
            ///
            #[doc = concat!("let (tx, mut rx) = ", $make, ";")]
            /// for i in 0..5 {
            #[doc = concat!("    tx.", $send, "(i).unwrap();")]
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
                std::future::poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
            }

            #[doc = concat!("Polls for up to `limit` messages; the poll form of [`", stringify!($rx), "::recv_many`].")]
            ///
            /// ```
            /// use filch_sync::mpsc;
            /// use std::task::{Context, Poll};
            ///
            #[doc = concat!("let (tx, mut rx) = ", $make, ";")]
            /// let waker = futures::task::noop_waker();
            /// let mut cx = Context::from_waker(&waker);
            /// let mut buffer = Vec::new();
            /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 8), Poll::Pending);
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 8), Poll::Ready(1));
            /// assert_eq!(buffer, [1]);
            /// ```
            pub fn poll_recv_many(
                &mut self,
                cx: &mut std::task::Context<'_>,
                buffer: &mut Vec<T>,
                limit: usize,
            ) -> std::task::Poll<usize> {
                self.chan.poll_recv_many(cx, buffer, limit)
            }

            /// Receives from a thread that is not running async code, blocking until a
            /// message arrives or the channel closes.
            ///
            /// # Panics
            ///
            /// If the runtime's [hooks](crate::runtime_hooks) say this thread drives async
            /// tasks.
            ///
            /// ```
            /// use filch_sync::mpsc;
            ///
            #[doc = concat!("let (tx, mut rx) = ", $make, ";")]
            #[doc = concat!("std::thread::spawn(move || tx.", $send, "(3).unwrap());")]
            /// assert_eq!(rx.blocking_recv(), Some(3));
            /// ```
            #[track_caller]
            pub fn blocking_recv(&mut self) -> Option<T> {
                crate::runtime_hooks::assert_may_block(concat!($name, "::blocking_recv"), ".recv().await");
                crate::chan_waiters::block_on(self.recv())
            }

            /// Number of buffered messages.
            ///
            /// ```
            /// use filch_sync::mpsc;
            ///
            #[doc = concat!("let (tx, rx) = ", $make, ";")]
            #[doc = concat!("tx.", $send, "(7).unwrap();")]
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
            #[doc = concat!("let (_tx, rx) = ", $make, ";")]
            /// assert!(rx.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl<T> Drop for $rx<T> {
            fn drop(&mut self) {
                self.chan.close_rx();
                self.chan.close_and_drain();
            }
        }

        impl<T> futures_core::Stream for $rx<T> {
            type Item = T;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.get_mut().poll_recv(cx)
            }
        }

        impl<T> std::fmt::Debug for $rx<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct($name).field("len", &self.len()).finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use impl_receiver;
