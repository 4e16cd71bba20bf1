//! Signals: [`ctrl_c`].
//!
//! The process-wide handler is installed once, through `signal-hook-registry` (which
//! chains with other handlers and restores nothing by hand). The handler only does what is
//! async-signal-safe: it writes one byte to a non-blocking pipe. A small thread, started on
//! first use, reads that pipe and publishes each delivery on a [`watch`] channel; every
//! [`ctrl_c`] future, on any runtime or executor, waits for the next publication after it
//! was created. (Signals are process-global, so their delivery is not tied to one runtime's
//! driver: a runtime shutting down must not deafen the others.)
//!
//! `SIGCHLD` goes through the same machinery for [`crate::process`]: `sigchld()` installs
//! it on first use, and its signal thread, after publishing each delivery, also runs the
//! hook `process` gives it, its orphan reaper (outside the handler, so it may lock and
//! `waitpid`).
use filch_sync::watch;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, OnceLock};

/// One signal number's global state.
pub(crate) struct Registration {
    /// Bumped once per delivery (shared with the signal thread, which publishes).
    deliveries: Arc<watch::Sender<u64>>,
}

impl Registration {
    /// A receiver that has seen every delivery so far: its `changed()` completes at the
    /// next one.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        let mut deliveries = self.deliveries.subscribe();
        deliveries.mark_unchanged();
        deliveries
    }
}

static SIGINT: OnceLock<Result<Registration, io::ErrorKind>> = OnceLock::new();
static SIGCHLD: OnceLock<Result<Registration, io::ErrorKind>> = OnceLock::new();

fn register_sigint() -> io::Result<&'static Registration> {
    let state = SIGINT.get_or_init(|| install(libc::SIGINT, || {}).map_err(|e| e.kind()));
    state
        .as_ref()
        .map_err(|&kind| io::Error::new(kind, "registering the SIGINT handler failed"))
}

/// The process-wide `SIGCHLD` registration, installed on first use; its signal thread runs
/// `after_each` after every delivery: [`crate::process`]'s orphan reaper, the only caller,
/// which passes it (so this module, below `process`, does not name it). Only the first
/// call's `after_each` is installed.
///
/// # Errors
///
/// The OS error (its kind) if the handler or its thread cannot be set up.
pub(crate) fn sigchld(after_each: fn()) -> io::Result<&'static Registration> {
    let state = SIGCHLD.get_or_init(|| install(libc::SIGCHLD, after_each).map_err(|e| e.kind()));
    state
        .as_ref()
        .map_err(|&kind| io::Error::new(kind, "registering the SIGCHLD handler failed"))
}

/// Installs the handler for `signal` and starts its thread, which publishes each delivery
/// and then calls `after_each` (on that thread, not in the handler).
fn install(signal: libc::c_int, after_each: fn()) -> io::Result<Registration> {
    let (mut reader, writer) = UnixStream::pair()?;
    writer.set_nonblocking(true)?;
    let (deliveries, _) = watch::channel(0u64);
    let deliveries = Arc::new(deliveries);
    let publisher = deliveries.clone();
    std::thread::Builder::new()
        .name("filch-signal".into())
        .spawn(move || {
            let mut buf = [0u8; 64];
            // Blocks until the handler writes; each byte (or batch) is one publication.
            // (The handler is installed with SA_RESTART, but a frequent signal such as
            // SIGCHLD makes an EINTR worth tolerating rather than ending the thread.)
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        publisher.send_modify(|count| *count += n as u64);
                        after_each();
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        })?;
    let action = move || {
        // Async-signal-safe: one write(2) on a non-blocking socket. A full buffer means a
        // delivery is already pending, which is enough.
        let _ = (&writer).write(&[1]);
    };
    // SAFETY: `register` requires the action to be async-signal-safe; it only calls
    // write(2) (through `&UnixStream`'s `Write`, which allocates nothing).
    unsafe { signal_hook_registry::register(signal, action) }?;
    Ok(Registration { deliveries })
}

/// Completes when the process next receives SIGINT (Ctrl-C), asyncio's
/// `loop.add_signal_handler(SIGINT, ...)`.
///
/// The first call installs a handler for the whole process: from then on SIGINT no longer
/// terminates the program by default, so a program that waits for Ctrl-C should shut down
/// itself when this completes. Each call waits for a SIGINT delivered *after* the call.
///
/// The handler is added through `signal-hook-registry`, so handlers other libraries
/// registered the same way keep running; it is never removed, and filch does not restore
/// the default disposition when no `ctrl_c` future is waiting, since that would also cut
/// those other handlers off (tokio does the same). It saves and restores `errno` around
/// its one `write(2)`, so the code it interrupts never sees `errno` change.
///
/// # Errors
///
/// The OS error if the handler cannot be installed.
///
/// # Examples
///
/// ```no_run
/// #[filch::main]
/// async fn main() -> std::io::Result<()> {
///     println!("press Ctrl-C to stop");
///     filch::signal::ctrl_c().await?;
///     println!("stopping");
///     Ok(())
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut deliveries = register_sigint()?.subscribe();
    deliveries
        .changed()
        .await
        .map_err(|_| io::Error::other("the signal thread stopped"))
}
