//! [`File`]: an open file whose reads and writes are batched into blocking-pool hops.
//!
//! # States
//!
//! A `File` is either *idle*, owning its [`Buf`], or *busy*: one hop is on the blocking
//! pool, which owns the buffer until the hop's `JoinHandle` gives it back. There is never
//! more than one hop in flight, so the OS file cursor only moves in hops, in order.
//!
//! The idle buffer is in one of two modes:
//!
//! * **read**: `storage[start..end]` was read from the OS but not yet returned, so the OS
//!   cursor is `end - start` bytes ahead of the file's logical position;
//! * **write**: `storage[start..end]` was accepted by `poll_write` but not yet written.
//!
//! plus `rewind`: bytes the OS cursor must move back before anything else (read-ahead
//! discarded by a switch to writing, or by a seek or `set_len`).
//!
//! # A hop
//!
//! Every hop does, in order: the pending rewind, the pending writes, then its own action
//! (read into the buffer, seek, or nothing). So a write followed by a read or a seek costs
//! one hop, and the bytes always reach the OS before the cursor moves.
//!
//! # Who completes a hop
//!
//! Whichever poll finds the file busy waits for the hop and takes its result. A write-only
//! hop (started when the buffer fills, or by `poll_flush`) stores its error in
//! [`File::write_err`], which the next operation returns: `poll_write` already reported
//! those bytes as written. Read and seek hops return their result to the `poll_read` /
//! `poll_seek` that finds them; one abandoned by a dropped future (and finished by another
//! kind of operation) keeps its read-ahead, and its error, if any, is dropped with it.
mod buf;
mod io_traits;

use super::{asyncify, join_error};
use crate::task::{spawn_blocking, JoinHandle};
use buf::{Buf, Mode};
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The most bytes one hop reads or writes.
const MAX_BUF: usize = 2 * 1024 * 1024;
/// The size of the first read hop after opening or seeking; it doubles on each further
/// read hop up to [`MAX_BUF`], so small files cost little and sequential reads few hops.
const FIRST_READ: usize = 64 * 1024;

/// An open file, read and written through the blocking pool.
///
/// `File` implements [`AsyncRead`](futures_io::AsyncRead),
/// [`AsyncWrite`](futures_io::AsyncWrite) and [`AsyncSeek`](futures_io::AsyncSeek) from
/// `futures-io`; use them through the extension traits of `futures-util` (`AsyncReadExt`,
/// ...).
///
/// Reads are served from a read-ahead buffer, and writes collect in a buffer of up to
/// 2 MiB; see [the module docs](crate::fs) for the sizes and why. A buffered write is
/// reported done at once; an error in writing it out is returned by the next operation,
/// so `flush` (or `close`, or [`sync_all`](Self::sync_all)) to know the data reached the
/// OS. Dropping a `File` with buffered writes still writes them, in the background.
///
/// # Panics
///
/// Every operation panics when run outside a filch runtime.
///
/// # Examples
///
/// ```
/// use filch::fs::File;
/// use futures_util::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-file-{}", std::process::id()));
/// rt.block_on(async {
///     let mut file = File::options().read(true).write(true).create(true).truncate(true).open(&path).await?;
///     file.write_all(b"hello, file").await?;
///     file.seek(SeekFrom::Start(7)).await?;
///     let mut word = String::new();
///     file.read_to_string(&mut word).await?;
///     assert_eq!(word, "file");
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub struct File {
    /// Shared with the hop in flight (and detached jobs such as a cancelled `sync_all`).
    std: Arc<std::fs::File>,
    state: State,
    /// The error of a write-only hop, for the next operation to return.
    write_err: Option<io::Error>,
    /// Bytes the next read hop asks for, at least.
    read_size: usize,
}

enum State {
    Idle(Buf),
    Busy {
        op: Op,
        job: JoinHandle<(Buf, io::Result<u64>)>,
    },
}

/// What a hop was started for: who gets its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Rewind and write pending bytes only; errors go to `write_err`.
    Write,
    /// Read up to this many bytes into the buffer.
    Read(usize),
    Seek(SeekFrom),
}

impl File {
    /// Opens `path` read-only, like [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::NotFound`] with its
    /// `raw_os_error` (`ENOENT` on Unix).
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let err = rt.block_on(filch::fs::File::open("/no/such/file")).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(
            asyncify(move || std::fs::File::open(path)).await?,
        ))
    }

    /// Opens `path` write-only, creating or truncating it, like [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::NotFound`] when the parent
    /// directory does not exist.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncWriteExt;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-create-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let mut file = filch::fs::File::create(&path).await?;
    ///     file.write_all(b"new").await?;
    ///     file.flush().await?;
    ///     assert_eq!(filch::fs::read(&path).await?, b"new");
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(
            asyncify(move || std::fs::File::create(path)).await?,
        ))
    }

    /// Options to open a file with; see [`OpenOptions`](super::OpenOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-options-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let _file = filch::fs::File::options().append(true).create(true).open(&path).await?;
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub fn options() -> super::OpenOptions {
        super::OpenOptions::new()
    }

    /// Wraps an open [`std::fs::File`]; reading and writing start at its current position.
    /// Needs no runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncReadExt;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-from-std-{}", std::process::id()));
    /// std::fs::write(&path, "std").unwrap();
    /// let mut file = filch::fs::File::from_std(std::fs::File::open(&path).unwrap());
    /// let mut text = String::new();
    /// rt.block_on(file.read_to_string(&mut text)).unwrap();
    /// assert_eq!(text, "std");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            state: State::Idle(Buf::default()),
            write_err: None,
            read_size: FIRST_READ,
        }
    }

    /// Finishes what is in flight, writes what is buffered and moves the OS cursor back
    /// over unread read-ahead, then returns the [`std::fs::File`], positioned where this
    /// file's reads and writes left off.
    ///
    /// # Errors
    ///
    /// Returns the error of a buffered write or of the repositioning; the file is closed
    /// then.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::Read;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-into-std-{}", std::process::id()));
    /// let mut std_file = rt.block_on(async {
    ///     let mut file = filch::fs::File::options()
    ///         .read(true).write(true).create(true).truncate(true)
    ///         .open(&path).await?;
    ///     file.write_all(b"abcdef").await?;
    ///     file.into_std().await
    /// })
    /// .unwrap();
    /// std::io::Seek::rewind(&mut std_file).unwrap();
    /// let mut text = String::new();
    /// std_file.read_to_string(&mut text).unwrap();
    /// assert_eq!(text, "abcdef");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        poll_fn(|cx| self.poll_settle(cx)).await?;
        let std = self.std.clone();
        drop(self);
        // A detached job (say, a cancelled `sync_all`) may still hold the file: then hand
        // out a duplicate descriptor, which shares the cursor.
        Arc::try_unwrap(std).or_else(|std| std.try_clone())
    }

    /// Writes what is buffered, then flushes the OS's buffers for the file's data and
    /// metadata to the storage device, like [`std::fs::File::sync_all`].
    ///
    /// # Errors
    ///
    /// Returns the error of a buffered write, or the OS error of the sync.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncWriteExt;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-sync-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let mut file = filch::fs::File::create(&path).await?;
    ///     file.write_all(b"durable").await?;
    ///     file.sync_all().await?;
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_buf(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// Like [`sync_all`](Self::sync_all), but may skip metadata the data does not need
    /// (such as the modification time), like [`std::fs::File::sync_data`].
    ///
    /// # Errors
    ///
    /// Returns the error of a buffered write, or the OS error of the sync.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncWriteExt;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-sync-data-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let mut file = filch::fs::File::create(&path).await?;
    ///     file.write_all(b"data").await?;
    ///     file.sync_data().await?;
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_buf(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes, like [`std::fs::File::set_len`]; the
    /// position does not change. Buffered writes are written first and read-ahead is
    /// dropped.
    ///
    /// # Errors
    ///
    /// Returns the error of a buffered write, or the OS error (for example when the file is
    /// not open for writing).
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncWriteExt;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-set-len-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let mut file = filch::fs::File::create(&path).await?;
    ///     file.write_all(b"0123456789").await?;
    ///     file.set_len(4).await?;
    ///     assert_eq!(file.metadata().await?.len(), 4);
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        poll_fn(|cx| self.poll_settle(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.set_len(size)).await
    }

    /// The file's metadata, like [`std::fs::File::metadata`]. Buffered writes are written
    /// first, so the length counts them.
    ///
    /// # Errors
    ///
    /// Returns the error of a buffered write, or the OS error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::io::AsyncWriteExt;
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-fmeta-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let mut file = filch::fs::File::create(&path).await?;
    ///     file.write_all(b"abc").await?;
    ///     assert_eq!(file.metadata().await?.len(), 3);
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        poll_fn(|cx| self.poll_flush_buf(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// Changes the file's permissions, like [`std::fs::File::set_permissions`].
    ///
    /// # Errors
    ///
    /// Returns the OS error.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-fperm-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let mut file = filch::fs::File::create(&path).await?;
    ///     let mut perms = file.metadata().await?.permissions();
    ///     perms.set_readonly(true);
    ///     file.set_permissions(perms).await?;
    ///     assert!(file.metadata().await?.permissions().readonly());
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// Hands the idle buffer to a hop doing `op`.
    fn start(&mut self, op: Op) {
        let State::Idle(buf) = std::mem::replace(&mut self.state, State::Idle(Buf::default()))
        else {
            unreachable!("a hop is only started from the idle state")
        };
        let mut buf = buf;
        #[cfg(test)]
        tests::HOPS.with(|hops| hops.set(hops.get() + 1));
        let std = self.std.clone();
        let job = spawn_blocking(move || {
            let result = buf.hop(&std, op);
            (buf, result)
        });
        self.state = State::Busy { op, job };
    }

    /// Waits for the hop in flight and takes back the buffer; returns what the hop was for
    /// and its result. A write-only hop's error goes to `write_err` instead.
    fn poll_hop(&mut self, cx: &mut Context<'_>) -> Poll<(Op, io::Result<u64>)> {
        let State::Busy { op, job } = &mut self.state else {
            unreachable!("poll_hop is only called while busy")
        };
        let op = *op;
        let (buf, result) = match ready!(Pin::new(job).poll(cx)) {
            Ok(done) => done,
            Err(err) => (Buf::default(), Err(join_error(err))),
        };
        self.state = State::Idle(buf);
        match (op, result) {
            (Op::Write, Err(err)) => {
                self.write_err = Some(err);
                Poll::Ready((op, Ok(0)))
            }
            (op, result) => Poll::Ready((op, result)),
        }
    }

    /// Ends in the idle state with nothing buffered to write.
    fn poll_flush_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(err) = self.write_err.take() {
                return Poll::Ready(Err(err));
            }
            match &self.state {
                State::Busy { .. } => {
                    // A write hop's error lands in `write_err`; read-ahead and seeks of
                    // an abandoned operation need nothing more.
                    let _abandoned = ready!(self.poll_hop(cx));
                }
                State::Idle(buf) if buf.has_pending_writes() => self.start(Op::Write),
                State::Idle(_) => return Poll::Ready(Ok(())),
            }
        }
    }

    /// Ends in the idle state with an empty buffer and the OS cursor at the logical
    /// position (nothing to write, no read-ahead, no rewind pending).
    fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(err) = self.write_err.take() {
                return Poll::Ready(Err(err));
            }
            match &mut self.state {
                State::Busy { .. } => {
                    // A write hop's error lands in `write_err`; read-ahead and seeks of
                    // an abandoned operation need nothing more.
                    let _abandoned = ready!(self.poll_hop(cx));
                }
                State::Idle(buf) => {
                    buf.discard_read_ahead();
                    if !buf.has_pending_writes() && buf.rewind == 0 {
                        return Poll::Ready(Ok(()));
                    }
                    self.start(Op::Write);
                }
            }
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // A hop in flight finishes on its own (its `JoinHandle` detaches). Bytes still in
        // the buffer are written in the background, or here if that cannot be.
        let State::Idle(buf) = &mut self.state else {
            return;
        };
        if !buf.has_pending_writes() {
            return;
        }
        let pending = PendingWrite {
            std: self.std.clone(),
            buf: Some(std::mem::take(buf)),
        };
        if let Ok(handle) = crate::runtime::Handle::try_current() {
            drop(handle.spawn_blocking(move || drop(pending)));
        }
    }
}

/// Buffered bytes of a dropped [`File`]: written when this is dropped, wherever that is (on
/// a pool thread, or on the thread that drops a refused job).
struct PendingWrite {
    std: Arc<std::fs::File>,
    buf: Option<Buf>,
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        if let Some(mut buf) = self.buf.take() {
            // Nobody is left to report an error to.
            let _ = buf.hop(&self.std, Op::Write);
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("File");
        s.field("std", &self.std);
        match &self.state {
            State::Idle(buf) => s
                .field("mode", &buf.mode)
                .field("buffered", &(buf.end - buf.start)),
            State::Busy { op, .. } => s.field("in_flight", op),
        };
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    use std::cell::Cell;

    thread_local! {
        /// Hops started by `File`s polled on this thread.
        pub(super) static HOPS: Cell<usize> = const { Cell::new(0) };
    }

    fn hops() -> usize {
        HOPS.with(Cell::get)
    }

    /// 8 MiB in 8 KiB pieces must take a handful of hops each way, not 1,024.
    #[test]
    fn small_reads_and_writes_are_batched() {
        const CHUNK: usize = 8 * 1024;
        const SIZE: usize = 8 * 1024 * 1024;
        let path = std::env::temp_dir().join(format!("filch-fs-unit-hops-{}", std::process::id()));
        // Current-thread: every poll, hence every `start`, is on this thread.
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            let chunk = [7u8; CHUNK];
            let before = hops();
            for _ in 0..SIZE / CHUNK {
                file.write_all(&chunk).await.unwrap();
            }
            file.close().await.unwrap();
            let write_hops = hops() - before;
            assert_eq!(write_hops, SIZE / MAX_BUF, "one hop per full 2 MiB buffer");

            let mut file = File::open(&path).await.unwrap();
            let mut piece = [0u8; CHUNK];
            let before = hops();
            let mut total = 0;
            loop {
                let n = file.read(&mut piece).await.unwrap();
                if n == 0 {
                    break;
                }
                assert!(piece[..n].iter().all(|&b| b == 7));
                total += n;
            }
            let read_hops = hops() - before;
            assert_eq!(total, SIZE);
            // 64 KiB + 128 KiB + ... + 1 MiB, then 2 MiB hops, then the one that sees EOF.
            assert!(read_hops <= 10, "{read_hops} read hops for 8 MiB");
        });
        std::fs::remove_file(&path).unwrap();
    }
}
