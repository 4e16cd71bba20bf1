//! [`Child`]: a spawned process, its pipes, and its exit status once reaped.
use super::orphan;
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use crate::io::AsyncReadExt;
use std::io;
use std::process::{ExitStatus, Output};

/// A child process spawned by [`Command::spawn`](super::Command::spawn).
///
/// Dropping a `Child` does not kill the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set), as with std; unlike std,
/// the process is still reaped when it exits, so no zombie is left behind.
///
/// # Examples
///
/// ```
/// use filch::process::Command;
/// use std::os::unix::process::ExitStatusExt;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
///     assert!(child.id().is_some());
///     assert!(child.try_wait().unwrap().is_none()); // still running
///     child.kill().await.unwrap(); // SIGKILL, then reaped
///     let status = child.wait().await.unwrap(); // the same status again
///     assert_eq!(status.signal(), Some(libc::SIGKILL));
///     assert_eq!(child.id(), None); // reaped: the pid may belong to another process now
/// });
/// ```
#[derive(Debug)]
pub struct Child {
    /// The child's standard input, if it was piped. Take it out with
    /// `child.stdin.take()` to write while still calling `&mut self` methods.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// # Invariant
    /// `Some` until drop, which hands an unreaped child to the orphan list. Its std
    /// stdio fields are `None` (moved into ours at spawn).
    inner: Option<std::process::Child>,
    /// Cached once reaped: the pid is gone from then on.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

impl Child {
    /// Wraps a child just spawned (after filch's `SIGCHLD` handler was installed).
    pub(super) fn new(inner: std::process::Child, kill_on_drop: bool) -> Child {
        Child {
            stdin: None,
            stdout: None,
            stderr: None,
            inner: Some(inner),
            status: None,
            kill_on_drop,
        }
    }

    fn inner(&mut self) -> &mut std::process::Child {
        self.inner.as_mut().expect("Child used during drop")
    }

    /// The OS process id, or `None` once the child has been reaped (when the id may
    /// already belong to another process).
    pub fn id(&self) -> Option<u32> {
        match self.status {
            Some(_) => None,
            None => self.inner.as_ref().map(std::process::Child::id),
        }
    }

    /// The exit status if the child has exited, without waiting: `waitpid(pid, WNOHANG)`
    /// for this child only. Once it returns `Some`, every later call (and
    /// [`wait`](Self::wait)) returns the same status.
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid`, e.g. `ECHILD` if something else in the process reaped
    /// the child (a `waitpid(-1)` elsewhere, or `SIGCHLD` set to `SIG_IGN`).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = self.inner().try_wait()?;
        self.status = status;
        Ok(status)
    }

    /// Waits for the child to exit and returns its status; it is reaped then (no
    /// zombie). Closes [`stdin`](Self::stdin) first, as std does, so a child reading its
    /// input to the end can finish.
    ///
    /// Cancel-safe: dropping the future leaves the child as it was, and a later call
    /// waits again.
    ///
    /// # Errors
    ///
    /// As [`try_wait`](Self::try_wait); or an error if filch's `SIGCHLD` thread has
    /// stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::process::Command;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
    ///     assert_eq!(child.wait().await.unwrap().code(), Some(3));
    /// });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        // Subscribe before checking: an exit after the check is a later delivery, which
        // `changed` sees.
        // (Installed before the spawn, so this only looks it up.)
        let mut sigchld = super::sigchld()?.subscribe();
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            // Any child's exit wakes every waiter; each checks its own pid.
            sigchld
                .changed()
                .await
                .map_err(|_| io::Error::other("filch's SIGCHLD thread stopped"))?;
        }
    }

    /// Collects stdout and stderr (those that were piped) to their end while waiting for
    /// the child to exit: asyncio's `communicate()`. Stdin is closed first.
    ///
    /// # Errors
    ///
    /// The first error of reading a pipe or waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::process::Command;
    /// use std::process::Stdio;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let child = Command::new("echo").arg("collected").stdout(Stdio::piped()).spawn().unwrap();
    ///     let out = child.wait_with_output().await.unwrap();
    ///     assert_eq!(out.stdout, b"collected\n");
    ///     assert!(out.stderr.is_empty()); // not piped
    /// });
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout = read_all(self.stdout.take());
        let stderr = read_all(self.stderr.take());
        let (stdout, stderr) = futures_util::future::try_join(stdout, stderr).await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Sends `SIGKILL` without waiting; [`wait`](Self::wait) then reaps the child. A
    /// child already reaped is left alone (`Ok`).
    ///
    /// # Errors
    ///
    /// The OS error of `kill(2)`.
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        // Not reaped yet, so the pid is still this child's (a zombie at worst).
        self.inner().kill()
    }

    /// Sends `SIGKILL` and waits until the child is reaped; a later
    /// [`wait`](Self::wait) returns its status.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }
}

/// Reads `pipe` to its end (nothing if it is `None`).
async fn read_all<R: futures_io::AsyncRead + Unpin>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if self.status.is_some() {
            return;
        }
        match inner.try_wait() {
            // Reaped now, or reaped by someone else: nothing to keep.
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => {}
        }
        if self.kill_on_drop {
            let _ = inner.kill();
        }
        orphan::adopt(inner);
    }
}
