//! What `/proc` says about this process: open file descriptors, the sockets behind them,
//! thread names, and who holds a TCP port. Linux only, like the harness's RSS figure; on
//! a system without `/proc` every reading is empty and the checks built on them pass.
use std::collections::HashSet;
use std::os::fd::RawFd;

/// How many file descriptors the process has open (the directory's own one included,
/// which every reading counts alike).
pub(crate) fn open_fds() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// The inode of the socket behind `fd` (`socket:[N]`), while it is open. Unlike the fd
/// number, which the kernel hands out again as soon as it is closed, the inode names this
/// one socket for as long as it exists.
pub(crate) fn socket_inode(fd: RawFd) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    parse_socket_link(link.to_str()?)
}

fn parse_socket_link(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The inodes of every socket the process has open.
pub(crate) fn open_socket_inodes() -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    dir.filter_map(|e| {
        let link = std::fs::read_link(e.ok()?.path()).ok()?;
        parse_socket_link(link.to_str()?)
    })
    .collect()
}

/// How many of the process's threads are called `name` (as `/proc` shows it: the first
/// 15 bytes).
pub(crate) fn threads_named(name: &str) -> usize {
    let name = &name.as_bytes()[..name.len().min(15)];
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.strip_suffix(b"\n").unwrap_or(comm) == name)
        .count()
}

/// Sockets in `/proc/net/tcp` and `tcp6` whose local port is `port`, as
/// `(state, inode)`: state in the kernel's hex code (`0A` is LISTEN), inode 0 for a
/// socket no process holds any more (TIME_WAIT, orphaned FIN_WAIT).
pub(crate) fn tcp_port_holders(port: u16) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 {
                continue;
            }
            let local_port = cols[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                out.push((cols[3].to_string(), cols[9].parse().unwrap_or(0)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_listener_is_seen_and_then_gone() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let inode = socket_inode(l.as_raw_fd()).expect("a socket inode");
        assert!(open_socket_inodes().contains(&inode));
        let port = l.local_addr().unwrap().port();
        assert!(tcp_port_holders(port).contains(&("0A".to_string(), inode)));
        drop(l);
        assert!(!open_socket_inodes().contains(&inode));
        assert!(open_fds().is_some());
    }

    #[test]
    fn threads_are_found_by_name() {
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .name("fs-name-test".into())
            .spawn(move || {
                // std names the thread before running this.
                started_tx.send(()).unwrap();
                rx.recv()
            })
            .unwrap();
        started.recv().unwrap();
        assert_eq!(threads_named("fs-name-test"), 1);
        drop(tx);
        let _ = t.join();
        // The kernel lets go of the task just after `join` returns.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        assert!(crate::alarm::settle(deadline, || threads_named(
            "fs-name-test"
        ) == 0));
    }
}
