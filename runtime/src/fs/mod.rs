//! Asynchronous file system access, run on the [blocking pool](crate::task::spawn_blocking).
//!
//! Operating systems offer no portable non-blocking file I/O, so, like asyncio's
//! `to_thread` and every mainstream runtime, filch runs each file system call on a
//! blocking-pool thread and awaits its [`JoinHandle`](crate::task::JoinHandle). One such
//! round trip is a *hop*; it costs a queue push, a thread wake-up and a task wake-up, a few
//! microseconds, so this module is built to make few of them:
//!
//! * the free functions ([`read`], [`write()`], [`copy`], [`metadata`], ...) each do their
//!   whole job in one hop;
//! * [`File`] buffers: a read hop fills a read-ahead buffer that grows from 64 KiB to
//!   2 MiB as a sequential read goes on, and writes collect in a buffer of up to 2 MiB that
//!   is written in one hop (when it fills, on [`flush`](futures_io::AsyncWrite::poll_flush)
//!   or close, or before a read or seek); so a 64 MiB file read or written in 8 KiB pieces
//!   takes about 40 hops, not 8,192;
//! * [`ReadDir`] fetches directory entries 32 at a time.
//!
//! Errors are `io::Error`s straight from the OS (kind and `raw_os_error` intact). A write
//! is reported done once it is buffered; an error in writing it out is returned by the
//! next operation on the file, so call `flush` (or `close`, or [`File::sync_all`]) to know
//! that data reached the OS.
//!
//! Everything here needs a filch runtime: the functions panic when called outside one.
//!
//! # Examples
//!
//! ```
//! use futures_util::StreamExt;
//!
//! let rt = filch::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let dir = std::env::temp_dir().join(format!("filch-fs-doc-mod-{}", std::process::id()));
//!     filch::fs::create_dir_all(&dir).await?;
//!     filch::fs::write(dir.join("a.txt"), "hello").await?;
//!     assert_eq!(filch::fs::read_to_string(dir.join("a.txt")).await?, "hello");
//!     let mut entries = filch::fs::read_dir(&dir).await?;
//!     let entry = entries.next().await.unwrap()?;
//!     assert_eq!(entry.file_name(), "a.txt");
//!     filch::fs::remove_dir_all(&dir).await
//! })
//! .unwrap();
//! ```
mod file;
mod open_options;
mod read_dir;

pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

use crate::task::{spawn_blocking, JoinError};
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs `f` on the blocking pool and returns its result.
async fn asyncify<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    spawn_blocking(f)
        .await
        .unwrap_or_else(|err| Err(join_error(err)))
}

/// The `io::Error` for a file system job that did not complete. A panic (which no `std::fs`
/// call makes in practice) goes on unwinding in the caller.
fn join_error(err: JoinError) -> io::Error {
    match err.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(_) => io::Error::other(
            "the filch runtime shut down before this file system operation could run",
        ),
    }
}

/// Reads the whole file at `path` into a vector, in one hop; like [`std::fs::read`].
///
/// # Errors
///
/// Returns the OS error if the file cannot be opened or read (for example
/// [`io::ErrorKind::NotFound`]).
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-read-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::write(&path, [1, 2, 3]).await?;
///     assert_eq!(filch::fs::read(&path).await?, [1, 2, 3]);
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads the whole file at `path` into a string, in one hop; like
/// [`std::fs::read_to_string`].
///
/// # Errors
///
/// Returns the OS error if the file cannot be opened or read, and
/// [`io::ErrorKind::InvalidData`] if it is not UTF-8.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-rts-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::write(&path, "text").await?;
///     assert_eq!(filch::fs::read_to_string(&path).await?, "text");
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` to the file at `path`, creating or truncating it, in one hop; like
/// [`std::fs::write`]. `contents` is copied first.
///
/// # Errors
///
/// Returns the OS error if the file cannot be created or written.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-write-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::write(&path, b"bytes").await?;
///     assert_eq!(filch::fs::read(&path).await?, b"bytes");
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies the file `from` to `to` (contents and permissions), in one hop; returns the
/// number of bytes copied. Like [`std::fs::copy`].
///
/// # Errors
///
/// Returns the OS error if `from` cannot be read or `to` cannot be written.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let dir = std::env::temp_dir();
/// let (a, b) = (
///     dir.join(format!("filch-doc-copy-a-{}", std::process::id())),
///     dir.join(format!("filch-doc-copy-b-{}", std::process::id())),
/// );
/// rt.block_on(async {
///     filch::fs::write(&a, "abc").await?;
///     assert_eq!(filch::fs::copy(&a, &b).await?, 3);
///     assert_eq!(filch::fs::read(&b).await?, b"abc");
///     filch::fs::remove_file(&a).await?;
///     filch::fs::remove_file(&b).await
/// })
/// .unwrap();
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Creates the directory `path`; its parent must exist. Like [`std::fs::create_dir`].
///
/// # Errors
///
/// Returns the OS error, for example [`io::ErrorKind::AlreadyExists`] or
/// [`io::ErrorKind::NotFound`] (missing parent).
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-mkdir-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::create_dir(&path).await?;
///     assert!(filch::fs::metadata(&path).await?.is_dir());
///     filch::fs::remove_dir(&path).await
/// })
/// .unwrap();
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates the directory `path` and any missing parents. Like [`std::fs::create_dir_all`].
///
/// # Errors
///
/// Returns the OS error if a directory cannot be created (a path component that exists and
/// is a directory is not an error).
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let top = std::env::temp_dir().join(format!("filch-doc-mkdirs-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::create_dir_all(top.join("a/b/c")).await?;
///     assert!(filch::fs::metadata(top.join("a/b/c")).await?.is_dir());
///     filch::fs::remove_dir_all(&top).await
/// })
/// .unwrap();
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Removes the file at `path`. Like [`std::fs::remove_file`].
///
/// # Errors
///
/// Returns the OS error, for example [`io::ErrorKind::NotFound`].
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-rm-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::write(&path, "x").await?;
///     filch::fs::remove_file(&path).await?;
///     let err = filch::fs::metadata(&path).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Removes the empty directory `path`. Like [`std::fs::remove_dir`].
///
/// # Errors
///
/// Returns the OS error, for example when the directory is not empty or does not exist.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-rmdir-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::create_dir(&path).await?;
///     filch::fs::remove_dir(&path).await
/// })
/// .unwrap();
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes the directory `path` and everything in it, in one hop. Like
/// [`std::fs::remove_dir_all`].
///
/// # Errors
///
/// Returns the OS error of the first removal that fails.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let top = std::env::temp_dir().join(format!("filch-doc-rmall-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::create_dir_all(top.join("sub")).await?;
///     filch::fs::write(top.join("sub/f"), "x").await?;
///     filch::fs::remove_dir_all(&top).await
/// })
/// .unwrap();
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Renames `from` to `to`, replacing `to` if it is a file. Like [`std::fs::rename`].
///
/// # Errors
///
/// Returns the OS error, for example [`io::ErrorKind::NotFound`] when `from` does not
/// exist.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let dir = std::env::temp_dir();
/// let (a, b) = (
///     dir.join(format!("filch-doc-mv-a-{}", std::process::id())),
///     dir.join(format!("filch-doc-mv-b-{}", std::process::id())),
/// );
/// rt.block_on(async {
///     filch::fs::write(&a, "moved").await?;
///     filch::fs::rename(&a, &b).await?;
///     assert_eq!(filch::fs::read_to_string(&b).await?, "moved");
///     filch::fs::remove_file(&b).await
/// })
/// .unwrap();
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// The metadata of `path`, following symbolic links. Like [`std::fs::metadata`].
///
/// # Errors
///
/// Returns the OS error, for example [`io::ErrorKind::NotFound`].
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-meta-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::write(&path, "four").await?;
///     let meta = filch::fs::metadata(&path).await?;
///     assert!(meta.is_file());
///     assert_eq!(meta.len(), 4);
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// The absolute form of `path`, with every symbolic link resolved. Like
/// [`std::fs::canonicalize`].
///
/// # Errors
///
/// Returns the OS error, for example [`io::ErrorKind::NotFound`] when `path` does not
/// exist.
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let abs = rt.block_on(filch::fs::canonicalize(".")).unwrap();
/// assert!(abs.is_absolute());
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Sets the permissions of `path`. Like [`std::fs::set_permissions`].
///
/// # Errors
///
/// Returns the OS error, for example [`io::ErrorKind::NotFound`] or
/// [`io::ErrorKind::PermissionDenied`].
///
/// # Panics
///
/// Panics outside a filch runtime.
///
/// # Examples
///
/// ```
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-perm-{}", std::process::id()));
/// rt.block_on(async {
///     filch::fs::write(&path, "x").await?;
///     let mut perms = filch::fs::metadata(&path).await?.permissions();
///     perms.set_readonly(true);
///     filch::fs::set_permissions(&path, perms).await?;
///     assert!(filch::fs::metadata(&path).await?.permissions().readonly());
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}
