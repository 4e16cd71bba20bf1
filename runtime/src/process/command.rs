//! [`Command`]: `std::process::Command`'s builder, spawning a [`Child`] whose pipes are
//! registered with the runtime and whose exit is awaited through `SIGCHLD`.
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use super::Child;
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

/// A process builder: `std::process::Command` with async [`spawn`](Self::spawn),
/// [`output`](Self::output) and [`status`](Self::status) (asyncio's
/// `create_subprocess_exec`).
///
/// The builder methods are std's (they forward to the `std::process::Command` inside,
/// which [`as_std`](Self::as_std)/[`as_std_mut`](Self::as_std_mut) expose for the
/// platform extensions, e.g. `CommandExt::process_group`). The one addition is
/// [`kill_on_drop`](Self::kill_on_drop).
///
/// # Examples
///
/// ```
/// use filch::process::Command;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let out = Command::new("echo").arg("hello").output().await.unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"hello\n");
///
///     let status = Command::new("sh").args(["-c", "exit 7"]).status().await.unwrap();
///     assert_eq!(status.code(), Some(7));
/// });
/// ```
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Whether `stdin`/`stdout`/`stderr` were set through this type, so that
    /// [`output`](Self::output) fills in only the others.
    stdio_set: [bool; 3],
}

impl Command {
    /// A command for running `program`, with std's defaults: the parent's environment
    /// and working directory, inherited standard streams for `spawn` and `status`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut ls = filch::process::Command::new("ls");
    /// ls.arg("-l");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env`/`envs` add).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input; `Stdio::piped()` makes [`Child::stdin`] a
    /// [`ChildStdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdio_set[0] = true;
        self
    }

    /// Sets the child's standard output; `Stdio::piped()` makes [`Child::stdout`] a
    /// [`ChildStdout`].
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdio_set[1] = true;
        self
    }

    /// Sets the child's standard error; `Stdio::piped()` makes [`Child::stderr`] a
    /// [`ChildStderr`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stdio_set[2] = true;
        self
    }

    /// Whether dropping the [`Child`] before it has exited sends it `SIGKILL` (default
    /// `false`: like std's, a child outlives its handle). Either way filch reaps it once
    /// it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::process::Command;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
    ///     drop(child); // killed now, reaped in the background
    /// });
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The value set by [`kill_on_drop`](Self::kill_on_drop).
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// The `std::process::Command` inside.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The `std::process::Command` inside, for what only std has (the `CommandExt`
    /// traits). Standard streams set through it count as unset for
    /// [`output`](Self::output), which then overrides them.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Unwraps the `std::process::Command`.
    pub fn into_std(self) -> std::process::Command {
        self.std
    }

    /// Starts the child. Its piped standard streams come back as [`Child::stdin`],
    /// [`Child::stdout`] and [`Child::stderr`], registered with the current runtime.
    /// The first spawn installs filch's `SIGCHLD` handler for the process (added to,
    /// not replacing, any handler already installed through `signal-hook-registry`).
    ///
    /// # Errors
    ///
    /// The error of std's `spawn`, OS error intact (e.g. `NotFound` for a program that
    /// does not exist); an error installing the `SIGCHLD` handler; or an error
    /// registering a pipe with the driver (the child is then killed and reaped in the
    /// background).
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime when a standard stream is piped.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::process::Command;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let err = Command::new("/no/such/program").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Before the child exists, so its exit cannot come before the handler.
        super::sigchld()?;
        let mut std_child = self.std.spawn()?;
        let stdin = std_child.stdin.take();
        let stdout = std_child.stdout.take();
        let stderr = std_child.stderr.take();
        // From here the `Child` owns the process: an error below drops it, which kills
        // (the caller never saw it) and hands it to the orphan list.
        let mut child = Child::new(std_child, self.kill_on_drop);
        // Registering a pipe panics outside a runtime: that panic, too, must not leave the
        // child running unseen, so it is caught, the child killed, and the panic resumed.
        let pipes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            child.stdin = stdin.map(ChildStdin::from_std).transpose()?;
            child.stdout = stdout.map(ChildStdout::from_std).transpose()?;
            child.stderr = stderr.map(ChildStderr::from_std).transpose()?;
            io::Result::Ok(())
        }));
        match pipes {
            Ok(Ok(())) => Ok(child),
            Ok(Err(err)) => {
                let _ = child.start_kill();
                Err(err)
            }
            Err(panic) => {
                let _ = child.start_kill();
                drop(child);
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Runs the command to completion and collects its output: asyncio's
    /// `proc.communicate()`. Unless set on this `Command`, stdin is null and stdout and
    /// stderr are piped and collected (std's `output` defaults; this call leaves the
    /// `Command`'s own settings as they were).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn), then the first error reading the pipes or waiting.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::process::Command;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"])
    ///         .output()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(out.status.code(), Some(3));
    ///     assert_eq!(out.stdout, b"out\n");
    ///     assert_eq!(out.stderr, b"err\n");
    /// });
    /// ```
    #[track_caller]
    pub fn output(&mut self) -> impl std::future::Future<Output = io::Result<Output>> {
        let [stdin_set, stdout_set, stderr_set] = self.stdio_set;
        if !stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn();
        // Back to spawn's default (inherit) for what was unset.
        if !stdin_set {
            self.std.stdin(Stdio::inherit());
        }
        if !stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        async move { child?.wait_with_output().await }
    }

    /// Runs the command to completion (standard streams inherited unless set) and
    /// returns its exit status.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn), or the error of waiting.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime when a standard stream is piped.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::process::Command;
    ///
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     assert!(Command::new("true").status().await.unwrap().success());
    /// });
    /// ```
    #[track_caller]
    pub fn status(&mut self) -> impl std::future::Future<Output = io::Result<ExitStatus>> {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // Like std: piped outputs nobody reads are closed, so the child cannot
            // block writing to them.
            drop(child.stdout.take());
            drop(child.stderr.take());
            child.wait().await
        }
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdio_set: [false; 3],
        }
    }
}
