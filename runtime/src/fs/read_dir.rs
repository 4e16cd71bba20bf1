//! [`read_dir`]: a directory's entries as a [`Stream`], fetched in batches.
use super::{asyncify, join_error};
use crate::task::{spawn_blocking, JoinHandle};
use futures_core::Stream;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Entries fetched per hop to the blocking pool.
const BATCH: usize = 32;

/// Opens the directory `path` for listing. Like [`std::fs::read_dir`]: the entries come in
/// no particular order, without `.` and `..`.
///
/// # Errors
///
/// Returns the OS error if `path` cannot be opened as a directory (for example
/// [`io::ErrorKind::NotFound`]). Errors while listing come out of the stream.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-readdir-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::create_dir_all(&dir).await?;
///     filch::fs::write(dir.join("one"), "1").await?;
///     let mut entries = filch::fs::read_dir(&dir).await?;
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name());
///     }
///     assert_eq!(names, ["one"]);
///     filch::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle(Some(Batch {
            std,
            entries: VecDeque::with_capacity(BATCH),
            done: false,
        })),
    })
}

/// The entries of a directory: a [`Stream`] of `io::Result<DirEntry>`, made by
/// [`read_dir`]. Entries are fetched from the OS 32 per hop to the blocking pool.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let count = rt.block_on(async {
///     let entries = filch::fs::read_dir(".").await.unwrap();
///     entries.count().await
/// });
/// assert!(count > 0);
/// ```
pub struct ReadDir {
    state: State,
}

enum State {
    /// `None` once a batch job failed to come back (the runtime shut down).
    Idle(Option<Batch>),
    /// A hop is fetching the next batch.
    Busy(JoinHandle<Batch>),
}

/// The OS iterator and the entries taken from it but not yet handed out.
struct Batch {
    std: std::fs::ReadDir,
    entries: VecDeque<io::Result<DirEntry>>,
    /// The OS iterator is exhausted.
    done: bool,
}

impl Batch {
    /// Takes up to [`BATCH`] entries from the OS (on a pool thread).
    fn fill(&mut self) {
        for _ in 0..BATCH {
            match self.std.next() {
                Some(entry) => self
                    .entries
                    .push_back(entry.map(|std| DirEntry(Arc::new(std)))),
                None => {
                    self.done = true;
                    return;
                }
            }
        }
    }
}

impl ReadDir {
    /// The next entry, or `None` at the end of the directory.
    ///
    /// # Errors
    ///
    /// Returns the OS error met while listing; the stream may continue after it.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut entries = filch::fs::read_dir(".").await?;
    ///     while let Some(entry) = entries.next_entry().await? {
    ///         assert!(entry.path().starts_with("."));
    ///     }
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(None),
                State::Idle(Some(batch)) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(Some(entry));
                    }
                    if batch.done {
                        return Poll::Ready(None);
                    }
                    let Some(mut batch) =
                        std::mem::replace(&mut self.state, State::Idle(None)).into_batch()
                    else {
                        unreachable!("the state was Idle(Some) just above")
                    };
                    self.state = State::Busy(spawn_blocking(move || {
                        batch.fill();
                        batch
                    }));
                }
                State::Busy(job) => match ready!(Pin::new(job).poll(cx)) {
                    Ok(batch) => self.state = State::Idle(Some(batch)),
                    Err(err) => {
                        self.state = State::Idle(None);
                        return Poll::Ready(Some(Err(join_error(err))));
                    }
                },
            }
        }
    }
}

impl State {
    fn into_batch(self) -> Option<Batch> {
        match self {
            State::Idle(batch) => batch,
            State::Busy(_) => None,
        }
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(Some(batch)) if batch.done && batch.entries.is_empty() => "finished",
            State::Idle(Some(_)) => "idle",
            State::Idle(None) => "finished",
            State::Busy(_) => "fetching",
        };
        f.debug_struct("ReadDir").field("state", &state).finish()
    }
}

/// One entry of a directory listing, from [`ReadDir`].
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-entry-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::create_dir_all(dir.join("sub")).await?;
///     let entry = filch::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
///     assert_eq!(entry.path(), dir.join("sub"));
///     assert!(entry.file_type().await?.is_dir());
///     filch::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DirEntry(Arc<std::fs::DirEntry>);

impl DirEntry {
    /// The full path of the entry: the directory given to [`read_dir`] joined with
    /// [`file_name`](Self::file_name).
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// The entry's name within its directory.
    pub fn file_name(&self) -> OsString {
        self.0.file_name()
    }

    /// The entry's metadata, not following a symbolic link (like
    /// [`std::fs::DirEntry::metadata`]).
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example when the entry was removed since it was listed.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-entry-meta-{}", std::process::id()));
    /// rt.block_on(async {
    ///     filch::fs::create_dir_all(&dir).await?;
    ///     filch::fs::write(dir.join("f"), "12345").await?;
    ///     let entry = filch::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert_eq!(entry.metadata().await?.len(), 5);
    ///     filch::fs::remove_dir_all(&dir).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.0.clone();
        asyncify(move || entry.metadata()).await
    }

    /// The entry's file type, not following a symbolic link (on most platforms this needs
    /// no extra system call, but it still takes a hop).
    ///
    /// # Errors
    ///
    /// Returns the OS error if the type cannot be determined.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut entries = filch::fs::read_dir(".").await?;
    ///     while let Some(entry) = entries.next_entry().await? {
    ///         let kind = entry.file_type().await?;
    ///         assert!(kind.is_dir() || kind.is_file() || kind.is_symlink());
    ///     }
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        let entry = self.0.clone();
        asyncify(move || entry.file_type()).await
    }
}
