//! [`Buf`]: a [`File`](super::File)'s one buffer, and the hop that runs on a blocking
//! thread with it (see the states and hops in the [module docs](super)).
use super::{Op, MAX_BUF};
use std::io::{self, Read, Seek, SeekFrom, Write};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    #[default]
    Read,
    Write,
}

/// A file's buffer; see the module docs for what each mode means.
///
/// # Invariants
/// `start <= end <= storage.len() <= MAX_BUF`; `storage` is always initialized (its length
/// only grows, so a reused buffer is never zeroed again).
#[derive(Debug, Default)]
pub(super) struct Buf {
    pub(super) storage: Vec<u8>,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) mode: Mode,
    pub(super) rewind: usize,
}

impl Buf {
    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(super) fn has_pending_writes(&self) -> bool {
        self.mode == Mode::Write && !self.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Read mode: hands out read-ahead bytes.
    pub(super) fn copy_out(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.end - self.start);
        dst[..n].copy_from_slice(&self.storage[self.start..self.start + n]);
        self.start += n;
        n
    }

    /// Write mode: takes as much of `src` as fits.
    pub(super) fn copy_in(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(MAX_BUF - self.end);
        if self.storage.len() < self.end + n {
            self.storage.resize(self.end + n, 0);
        }
        self.storage[self.end..self.end + n].copy_from_slice(&src[..n]);
        self.end += n;
        n
    }

    /// Forgets unread read-ahead; the OS cursor will be moved back over it.
    pub(super) fn discard_read_ahead(&mut self) {
        if self.mode == Mode::Read {
            self.rewind += self.end - self.start;
            self.clear();
        }
    }

    /// The body of a hop, on a pool thread: rewind, write what is pending, then `op`.
    /// On error the buffer is left empty: what it held is lost.
    pub(super) fn hop(&mut self, mut file: &std::fs::File, op: Op) -> io::Result<u64> {
        let result = self.hop_inner(&mut file, op);
        if result.is_err() {
            self.clear();
            self.rewind = 0;
        }
        result
    }

    pub(super) fn hop_inner(&mut self, file: &mut &std::fs::File, op: Op) -> io::Result<u64> {
        let absolute_seek = matches!(op, Op::Seek(SeekFrom::Start(_) | SeekFrom::End(_)));
        if self.rewind > 0 && (self.has_pending_writes() || !absolute_seek) {
            let back = i64::try_from(self.rewind).expect("rewind is at most MAX_BUF");
            file.seek(SeekFrom::Current(-back))?;
        }
        self.rewind = 0;
        if self.has_pending_writes() {
            let result = file.write_all(&self.storage[self.start..self.end]);
            self.clear();
            result?;
        }
        match op {
            Op::Write => Ok(0),
            Op::Seek(pos) => file.seek(pos),
            Op::Read(want) => {
                self.mode = Mode::Read;
                self.clear();
                if self.storage.len() < want {
                    self.storage.resize(want, 0);
                }
                loop {
                    match file.read(&mut self.storage[..want]) {
                        Ok(n) => {
                            self.end = n;
                            return Ok(n as u64);
                        }
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        Err(err) => return Err(err),
                    }
                }
            }
        }
    }
}
