//! The auto traits of every public type of `filch` and `filch::sync` (`filch-sync`): `Send`,
//! `Sync` and `Unpin` as tokio documents them for its counterparts, the few types that are
//! deliberately not `Send`, and `UnwindSafe`/`RefUnwindSafe` for the handles a user keeps
//! across `catch_unwind` (channels, `Notify`, task handles, sockets) and the plain values.
//! A last test reads the sources and fails when a public type is missing from this file.
use std::panic::{RefUnwindSafe, UnwindSafe};

fn send_sync_unpin<T: Send + Sync + Unpin>() {}
fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

/// Compiles only if `T` is *not* `Send` (with `T: Send`, both impls apply and the call is
/// ambiguous).
trait AmbiguousIfSend<A> {
    fn not_send() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

/// As [`AmbiguousIfSend`], for `Sync`.
trait AmbiguousIfSync<A> {
    fn not_sync() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

/// As [`AmbiguousIfSend`], for `Unpin`.
trait AmbiguousIfUnpin<A> {
    fn not_unpin() {}
}
impl<T: ?Sized> AmbiguousIfUnpin<()> for T {}
impl<T: ?Sized + Unpin> AmbiguousIfUnpin<u8> for T {}

macro_rules! each {
    ($check:ident: $($ty:ty,)*) => {
        $( $check::<$ty>(); )*
    };
}

#[test]
fn public_types_are_send_sync_and_unpin() {
    each!(send_sync_unpin:
        filch::runtime::Builder,
        filch::runtime::Runtime,
        filch::runtime::RuntimeMetrics,
        filch::runtime::WorkerMetrics,
        filch::runtime::PollTimeHistogram,
        filch::runtime::Handle,
        filch::runtime::TryCurrentError,
        filch::runtime::Dump,
        filch::runtime::Stall,
        filch::runtime::TaskDump,
        filch::runtime::TaskState,
        filch::task::Builder<'static>,
        filch::net::UdpSocket,
        filch::net::TcpListener,
        filch::net::tcp::Incoming<'static>,
        filch::net::tcp::ReadHalf<'static>,
        filch::net::tcp::WriteHalf<'static>,
        filch::net::TcpStream,
        filch::net::tcp::OwnedReadHalf,
        filch::net::tcp::OwnedWriteHalf,
        filch::net::tcp::ReuniteError,
        filch::net::SocketAddrs,
        filch::net::UnixDatagram,
        filch::net::UnixListener,
        filch::net::unix::Incoming<'static>,
        filch::net::unix::ReadHalf<'static>,
        filch::net::unix::WriteHalf<'static>,
        filch::net::UnixStream,
        filch::net::unix::OwnedReadHalf,
        filch::net::unix::OwnedWriteHalf,
        filch::net::unix::ReuniteError,
        filch::task::JoinHandle<u8>,
        filch::task::JoinError,
        filch::task::JoinSet<u8>,
        filch::task::Id,
        filch::task::LocalKey<u8>,
        filch::task::TaskLocalFuture<u8, std::future::Ready<()>>,
        filch::task::AccessError,
        filch::task::AbortHandle,
        filch::task::Unconstrained<std::future::Ready<()>>,
        filch::fs::File,
        filch::fs::ReadDir,
        filch::fs::DirEntry,
        filch::fs::OpenOptions,
        filch::time::MissedTickBehavior,
        filch::time::Instant,
        filch::time::Interval,
        filch::time::Sleep,
        filch::time::error::Elapsed,
        filch::time::Timeout<std::future::Ready<()>>,
        filch::sync::runtime_hooks::RuntimeHooks,
        filch::sync::mpsc::Sender<u8>,
        filch::sync::mpsc::Receiver<u8>,
        filch::sync::mpsc::Permit<'static, u8>,
        filch::sync::mpsc::OwnedPermit<u8>,
        filch::sync::mpsc::PermitIterator<'static, u8>,
        filch::sync::mpsc::WeakSender<u8>,
        filch::sync::mpsc::UnboundedSender<u8>,
        filch::sync::mpsc::UnboundedReceiver<u8>,
        filch::sync::mpsc::SendError<u8>,
        filch::sync::mpsc::TrySendError<u8>,
        filch::sync::mpsc::TryRecvError,
        filch::sync::RwLock<u8>,
        filch::sync::RwLockReadGuard<'static, u8>,
        filch::sync::RwLockWriteGuard<'static, u8>,
        filch::sync::RwLockMappedWriteGuard<'static, u8>,
        filch::sync::OwnedRwLockReadGuard<u8>,
        filch::sync::OwnedRwLockWriteGuard<u8>,
        filch::sync::OnceCell<u8>,
        filch::sync::SetError<u8>,
        filch::sync::Semaphore,
        filch::sync::SemaphorePermit<'static>,
        filch::sync::OwnedSemaphorePermit,
        filch::sync::AcquireError,
        filch::sync::TryAcquireError,
        filch::sync::broadcast::Sender<u8>,
        filch::sync::broadcast::Receiver<u8>,
        filch::sync::broadcast::error::SendError<u8>,
        filch::sync::broadcast::error::RecvError,
        filch::sync::broadcast::error::TryRecvError,
        filch::sync::oneshot::Sender<u8>,
        filch::sync::oneshot::Receiver<u8>,
        filch::sync::oneshot::error::RecvError,
        filch::sync::oneshot::error::TryRecvError,
        filch::sync::Barrier,
        filch::sync::BarrierWaitResult,
        filch::sync::watch::Sender<u8>,
        filch::sync::watch::Receiver<u8>,
        filch::sync::watch::error::SendError<u8>,
        filch::sync::watch::error::RecvError,
        filch::sync::Notify,
        filch::sync::Mutex<u8>,
        filch::sync::MutexGuard<'static, u8>,
        filch::sync::OwnedMutexGuard<u8>,
        filch::sync::MappedMutexGuard<'static, u8>,
        filch::sync::TryLockError,
        filch::io::Interest,
        filch::io::Ready,
        filch::io::unix::AsyncFd<std::os::fd::OwnedFd>,
        filch::io::unix::AsyncFdReadyGuard<'static, std::os::fd::OwnedFd>,
        filch::io::unix::AsyncFdReadyMutGuard<'static, std::os::fd::OwnedFd>,
        filch::io::unix::AsyncFdTryNewError<std::os::fd::OwnedFd>,
        filch::io::unix::TryIoError,
        filch::process::Command,
        filch::process::Child,
        filch::process::ChildStdin,
        filch::process::ChildStdout,
        filch::process::ChildStderr,
    );
    // `Ref` holds a read lock of the value, which must be released on the thread that
    // took it (tokio's is `!Send` too); `Notified` is `!Unpin` (it is a waiter in an
    // intrusive list, tokio's too), and both are `Send`/`Sync` where tokio's are.
    send_sync_unpin::<filch::sync::watch::Receiver<u8>>();
    fn sync<T: Sync>() {}
    fn send_sync<T: Send + Sync>() {}
    sync::<filch::sync::watch::Ref<'static, u8>>();
    <filch::sync::watch::Ref<'static, u8> as AmbiguousIfSend<_>>::not_send();
    send_sync::<filch::sync::Notified<'static>>();
    <filch::sync::Notified<'static> as AmbiguousIfUnpin<_>>::not_unpin();
}

/// `filch::hyper` (feature `hyper`): everything is `Send + Sync + Unpin` but the boxed
/// connect future (hyper-util asks only `Send` of it).
#[cfg(feature = "hyper")]
#[test]
fn hyper_types_are_send_sync_and_unpin() {
    fn send_unpin<T: Send + Unpin>() {}
    each!(send_sync_unpin:
        filch::hyper::Io<filch::net::TcpStream>,
        filch::hyper::Executor,
        filch::hyper::Timer,
        filch::hyper::PeerAddr,
        filch::hyper::Connector,
        filch::hyper::Serve<filch::net::TcpListener, axum::Router>,
        filch::hyper::WithGracefulShutdown<filch::net::TcpListener, axum::Router, std::future::Ready<()>>,
    );
    send_unpin::<filch::hyper::Connecting>();
    <filch::hyper::Connecting as AmbiguousIfSync<_>>::not_sync();
    each!(unwind_safe:
        filch::hyper::Executor,
        filch::hyper::Timer,
        filch::hyper::PeerAddr,
        filch::hyper::Connector,
    );
}

#[test]
fn thread_bound_types_are_neither_send_nor_sync() {
    // A `LocalSet` runs `!Send` futures on the thread that made it; the enter guards undo a
    // thread-local change on drop, so they must stay on their thread.
    <filch::task::LocalSet as AmbiguousIfSend<_>>::not_send();
    <filch::task::LocalSet as AmbiguousIfSync<_>>::not_sync();
    <filch::task::LocalEnterGuard as AmbiguousIfSend<_>>::not_send();
    <filch::task::LocalEnterGuard as AmbiguousIfSync<_>>::not_sync();
    <filch::runtime::EnterGuard<'static> as AmbiguousIfSend<_>>::not_send();
    <filch::runtime::EnterGuard<'static> as AmbiguousIfSync<_>>::not_sync();
}

#[test]
fn handles_and_plain_values_are_unwind_safe() {
    each!(unwind_safe:
        filch::sync::mpsc::Sender<u8>,
        filch::sync::mpsc::Receiver<u8>,
        filch::sync::mpsc::Permit<'static, u8>,
        filch::sync::mpsc::OwnedPermit<u8>,
        filch::sync::mpsc::PermitIterator<'static, u8>,
        filch::sync::mpsc::WeakSender<u8>,
        filch::sync::mpsc::UnboundedSender<u8>,
        filch::sync::mpsc::UnboundedReceiver<u8>,
        filch::sync::Notify,
        filch::task::JoinHandle<u8>,
        filch::task::AbortHandle,
        filch::net::TcpListener,
        filch::net::TcpStream,
        filch::net::UdpSocket,
        filch::net::UnixDatagram,
        filch::net::UnixListener,
        filch::net::UnixStream,
        filch::io::unix::AsyncFd<std::os::fd::OwnedFd>,
        filch::io::Interest,
        filch::io::Ready,
        filch::runtime::RuntimeMetrics,
        filch::runtime::WorkerMetrics,
        filch::runtime::PollTimeHistogram,
        filch::runtime::TryCurrentError,
        filch::net::SocketAddrs,
        filch::task::JoinError,
        filch::task::Id,
        filch::task::LocalKey<u8>,
        filch::task::AccessError,
        filch::fs::DirEntry,
        filch::fs::OpenOptions,
        filch::time::MissedTickBehavior,
        filch::time::Instant,
        filch::time::error::Elapsed,
        filch::sync::runtime_hooks::RuntimeHooks,
        filch::sync::mpsc::SendError<u8>,
        filch::sync::mpsc::TrySendError<u8>,
        filch::sync::mpsc::TryRecvError,
        filch::sync::SetError<u8>,
        filch::sync::AcquireError,
        filch::sync::TryAcquireError,
        filch::sync::broadcast::error::SendError<u8>,
        filch::sync::broadcast::error::RecvError,
        filch::sync::broadcast::error::TryRecvError,
        filch::sync::oneshot::error::RecvError,
        filch::sync::oneshot::error::TryRecvError,
        filch::sync::BarrierWaitResult,
        filch::sync::watch::error::SendError<u8>,
        filch::sync::watch::error::RecvError,
        filch::sync::TryLockError,
    );
}

/// Every `pub struct`/`pub enum` in the two crates' sources must be named in this file
/// (except the loom-only internals exported through `filch::__loom`, and a sealed trait's
/// helper).
#[test]
fn every_public_type_is_listed_here() {
    // The loom-only internals, and `net`'s sealed resolver (public only inside a private
    // module, to seal `ToSocketAddrs`).
    const NOT_PUBLIC_API: &[&str] = &[
        "Parker",
        "Unparker",
        "Idle",
        "WorkerThreads",
        "LifoSlot",
        "ShutdownFlag",
        "Resolution",
        // `filch::__private`: what `#[filch::test]` expands to, not API.
        "TestSeed",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let this = std::fs::read_to_string(root.join("tests/auto_traits.rs")).unwrap();
    let mut missing = Vec::new();
    let mut dirs = vec![root.join("src"), root.join("../sync-primitives/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let line = line.trim_start();
                let Some(rest) = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "))
                else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let listed = this.contains(&format!("::{name}<"))
                    || this.contains(&format!("::{name},"))
                    || this.contains(&format!("::{name} "))
                    || this.contains(&format!("::{name}>"));
                if !listed && !NOT_PUBLIC_API.contains(&name.as_str()) && name != "GuideDoctests" {
                    missing.push(format!("{name} ({})", path.display()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "public types missing from tests/auto_traits.rs: {missing:?}"
    );
}
