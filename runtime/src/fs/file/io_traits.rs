//! `futures-io`'s [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`] for [`File`]: each poll
//! serves from the buffer while it can and starts a hop when it cannot (module docs of
//! [`file`](super)).
use super::{Buf, File, Mode, Op, State, FIRST_READ, MAX_BUF};
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if let Some(err) = this.write_err.take() {
                return Poll::Ready(Err(err));
            }
            match &mut this.state {
                State::Busy { .. } => match ready!(this.poll_hop(cx)) {
                    (Op::Read(_), Ok(0)) => return Poll::Ready(Ok(0)),
                    (Op::Read(_), Err(err)) => return Poll::Ready(Err(err)),
                    // Read-ahead to serve, or a finished write or seek: go on.
                    _ => {}
                },
                State::Idle(buf) if buf.mode == Mode::Read && !buf.is_empty() => {
                    return Poll::Ready(Ok(buf.copy_out(dst)));
                }
                State::Idle(_) => {
                    // Size the hop's read: at least what was asked, growing on a streak.
                    let want = dst.len().max(this.read_size).min(MAX_BUF);
                    this.read_size = (this.read_size * 2).min(MAX_BUF);
                    this.start(Op::Read(want));
                }
            }
        }
    }
}

impl File {
    /// The body of `poll_write` and `poll_write_vectored`: once the buffer is back and in
    /// write mode, `copy_in` fills it and says how much it took.
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        copy_in: impl FnOnce(&mut Buf) -> usize,
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(err) = self.write_err.take() {
                return Poll::Ready(Err(err));
            }
            match &mut self.state {
                State::Busy { .. } => {
                    // Whatever it was, the buffer must come back before more is written.
                    let _abandoned = ready!(self.poll_hop(cx));
                }
                State::Idle(buf) => {
                    if buf.mode == Mode::Read {
                        buf.discard_read_ahead();
                        buf.mode = Mode::Write;
                    }
                    let n = copy_in(buf);
                    if buf.end == MAX_BUF {
                        // Full: write it out now, while the caller prepares more.
                        self.start(Op::Write);
                    }
                    return Poll::Ready(Ok(n));
                }
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |buf| buf.copy_in(src))
    }

    /// Takes every buffer, in order, as far as the write buffer has room (one hop's worth,
    /// up to the buffer size): not only the first, as the trait's default would.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |buf| {
            let mut n = 0;
            for src in bufs {
                let taken = buf.copy_in(src);
                n += taken;
                if taken < src.len() {
                    break;
                }
            }
            n
        })
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_buf(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_buf(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        loop {
            if let Some(err) = this.write_err.take() {
                return Poll::Ready(Err(err));
            }
            match &mut this.state {
                State::Busy { op, .. } => {
                    let mine = *op == Op::Seek(pos);
                    let (_, result) = ready!(this.poll_hop(cx));
                    if mine {
                        return Poll::Ready(result);
                    }
                }
                State::Idle(buf) => {
                    buf.discard_read_ahead();
                    this.read_size = FIRST_READ;
                    this.start(Op::Seek(pos));
                }
            }
        }
    }
}
