//! [`Registration`]: a source's slot in the driver; [`PollEvented`]: an I/O object that
//! owns one and deregisters before it closes.
//!
//! Every wait here goes through [`Registration::poll_interest`], which returns the ready
//! bits of the interest asked for together with the tick they were seen at
//! ([`ReadyEvent`]); every clear after a `WouldBlock` passes that observation back, so the
//! tick check of [`ScheduledIo::clear_ready`] applies to all of them (see the protocol in
//! `scheduled_io.rs`).
use super::interest::Interest;
use super::scheduled_io::ReadyEvent;
use super::{Direction, Ready, ScheduledIo};
use crate::driver::{shutdown_error, Driver};
use crate::task::coop;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll};

/// A source registered with a runtime's driver.
///
/// # Invariant
/// Registered under `key` until [`deregister`](Self::deregister) is called, which the owner
/// ([`PollEvented`]) does before the fd is closed.
#[derive(Debug)]
pub(crate) struct Registration {
    driver: Arc<Driver>,
    key: usize,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `fd` with `driver`.
    pub(crate) fn new(fd: BorrowedFd<'_>, driver: Arc<Driver>) -> io::Result<Self> {
        let (key, io) = driver.register(fd)?;
        Ok(Self { driver, key, io })
    }

    /// Waits until the source is ready in `direction` (spending coop budget).
    pub(crate) fn poll_ready(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.poll_interest(direction.interest(), cx)
    }

    /// Waits until the source is ready in a direction of `interest` (spending coop budget);
    /// the event holds only the bits of `interest` (never `SHUTDOWN`: that is an error).
    pub(crate) fn poll_interest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        match self.io.poll_interest(interest, cx) {
            Poll::Ready(event) => {
                if event.ready.contains(Ready::SHUTDOWN) {
                    return Poll::Ready(Err(shutdown_error()));
                }
                Poll::Ready(Ok(event.with_only(Ready::of_interest(interest))))
            }
            Poll::Pending => {
                coop::refund();
                Poll::Pending
            }
        }
    }

    /// Clears the readiness `event` saw (the `READABLE`/`WRITABLE` bits among
    /// `ready`), unless a newer event arrived since.
    pub(crate) fn clear_ready(&self, event: ReadyEvent, ready: Ready) {
        self.io.clear_ready(event, ready);
    }

    /// Runs `op` when the source is ready in `direction`, repeating after `WouldBlock`
    /// (which clears the readiness it was tried under).
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_interest(direction.interest(), cx, op)
    }

    /// [`poll_io`](Self::poll_io) for any [`Interest`]: waits until a direction of
    /// `interest` is ready, runs `op`, and on `WouldBlock` clears what was seen and waits
    /// again.
    pub(crate) fn poll_io_interest<R>(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_interest(interest, cx) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.io.clear_ready(event, event.ready);
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// The readiness as last set or cleared (tests).
    #[cfg(test)]
    pub(crate) fn readiness_now(&self) -> ReadyEvent {
        self.io.load()
    }

    /// [`poll_io`](Self::poll_io) for a write of `len` bytes on a stream socket: a write
    /// of fewer bytes, but not none, means the kernel's send buffer is full, so the write
    /// readiness is cleared at once, at the tick it was seen at, and the next write waits
    /// for the driver's next edge instead of making a `send` that could only fail with
    /// `WouldBlock` (tokio does the same). Room made after the write brings a new edge,
    /// which a clear at the older tick does not erase.
    ///
    /// Reads do not get this: a short read does mean the receive queue was drained, but
    /// the poller (`polling`) does not ask epoll for `EPOLLRDHUP`, so a peer's FIN that
    /// arrived with the data, in the same edge, would be forgotten with the readiness and
    /// the reader would never see its end of file (tokio can, since mio reports
    /// `EPOLLRDHUP` as read-closed).
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let event = match self.poll_interest(Direction::Write.interest(), cx) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.io.clear_ready(event, event.ready);
                }
                Ok(n) if n > 0 && n < len => {
                    self.io.clear_ready(event, event.ready);
                    return Poll::Ready(Ok(n));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs `op` once if the source is ready in `direction`, without waiting and without
    /// touching the stored waker (so a task waiting on this direction keeps its wakeup);
    /// `WouldBlock` if it is not ready, and on `WouldBlock` from `op` the readiness is
    /// cleared as in [`poll_io`](Self::poll_io). Added for `filch::net`'s `try_read` /
    /// `try_write`: a non-clearing `try_*` would make `readable().await` spin.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.try_io_interest(direction.interest(), op)
    }

    /// [`try_io`](Self::try_io) for any [`Interest`]: runs `op` if a direction of
    /// `interest` is ready; on `WouldBlock` from `op`, clears the bits of `interest` that
    /// were seen (at the tick they were seen at).
    pub(crate) fn try_io_interest<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.io.load();
        if event.ready.contains(Ready::SHUTDOWN) {
            return Err(shutdown_error());
        }
        let event = event.with_only(Ready::of_interest(interest));
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match op() {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.io.clear_ready(event, event.ready);
                Err(err)
            }
            result => result,
        }
    }

    /// Waits for readiness in `direction` without performing an operation.
    pub(crate) async fn ready(&self, direction: Direction) -> io::Result<()> {
        self.readiness(direction.interest()).await.map(|_| ())
    }

    /// Waits for readiness in a direction of `interest`; returns what was seen.
    pub(crate) async fn readiness(&self, interest: Interest) -> io::Result<ReadyEvent> {
        std::future::poll_fn(|cx| self.poll_interest(interest, cx)).await
    }

    /// Runs `op` (a non-blocking syscall) until it does not return `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.async_io_interest(direction.interest(), op).await
    }

    /// [`async_io`](Self::async_io) for any [`Interest`].
    pub(crate) async fn async_io_interest<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io_interest(interest, cx, &mut op)).await
    }

    fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.driver.deregister(self.key, fd)
    }
}

/// An I/O object (`E` owns the fd) registered with the driver.
///
/// # Invariant
/// `io` is `Some` until drop or [`into_inner`](Self::into_inner); in both, the fd is
/// deregistered from the poller before `E` (and with it the fd) is dropped or returned.
#[derive(Debug)]
pub(crate) struct PollEvented<E: AsFd> {
    io: Option<E>,
    registration: Registration,
}

impl<E: AsFd> PollEvented<E> {
    /// Registers `io` (which must already be in non-blocking mode) with `driver` (the
    /// layers above find the current runtime's: `runtime::context::io_driver`).
    pub(crate) fn new(io: E, driver: Arc<Driver>) -> io::Result<Self> {
        Self::try_new(io, driver).map_err(|(_, err)| err)
    }

    /// [`new`](Self::new), handing `io` back with the error if registering fails.
    pub(crate) fn try_new(io: E, driver: Arc<Driver>) -> Result<Self, (E, io::Error)> {
        match Registration::new(io.as_fd(), driver) {
            Ok(registration) => Ok(Self {
                io: Some(io),
                registration,
            }),
            Err(err) => Err((io, err)),
        }
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("PollEvented used after into_inner")
    }

    /// The I/O object, mutably. The caller must not replace the fd it holds: the poller
    /// knows the source by that fd until deregistration.
    pub(crate) fn get_mut(&mut self) -> &mut E {
        self.io.as_mut().expect("PollEvented used after into_inner")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters and hands back the I/O object (still non-blocking). On an error from
    /// the poller the object is dropped.
    pub(crate) fn into_inner(self) -> io::Result<E> {
        let (io, deregistered) = self.into_parts();
        deregistered.map(|()| io)
    }

    /// Deregisters and hands back the I/O object whatever the poller said, with what it
    /// said (an error means the fd was no longer registered: nothing is left to undo).
    pub(crate) fn into_parts(mut self) -> (E, io::Result<()>) {
        let io = self.io.take().expect("PollEvented used after into_inner");
        let deregistered = self.registration.deregister(io.as_fd());
        (io, deregistered)
    }

    /// `poll_io` on the read side with `op` applied to the inner object.
    pub(crate) fn poll_read_io<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration.poll_io(Direction::Read, cx, || op(io))
    }

    /// `poll_io` on the write side with `op` applied to the inner object.
    pub(crate) fn poll_write_io<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration.poll_io(Direction::Write, cx, || op(io))
    }

    /// [`Registration::poll_write_stream`] with `op` applied to the inner object, for a
    /// write of `len` bytes.
    pub(crate) fn poll_write_stream_io(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.registration.poll_write_stream(cx, len, || op(io))
    }

    /// Async form of [`poll_read_io`](Self::poll_read_io).
    pub(crate) async fn read_io<R>(
        &self,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let io = self.get_ref();
        self.registration.async_io(Direction::Read, || op(io)).await
    }

    /// Async form of [`poll_write_io`](Self::poll_write_io).
    pub(crate) async fn write_io<R>(
        &self,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let io = self.get_ref();
        self.registration
            .async_io(Direction::Write, || op(io))
            .await
    }
}

impl<E: AsFd> AsRawFd for PollEvented<E> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<E: AsFd> AsFd for PollEvented<E> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<E: AsFd> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister before `io` (the fd's owner) is dropped and closes it. An error
            // (the fd was already removed) leaves nothing to clean up.
            let _ = self.registration.deregister(io.as_fd());
            drop(io);
        }
    }
}
