//! A runtime that held a million tasks gives their memory back when it is dropped (glibc
//! keeps freed chunks otherwise: ~170 MB stayed resident with nothing live).
//!
//! Alone in its test binary: it measures this process's resident memory.

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn dropping_a_runtime_of_a_million_tasks_returns_their_memory() {
    let before = resident_kib();
    let loaded = {
        let rt = filch::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..1_000_000 {
                drop(filch::spawn(std::future::pending::<()>()));
            }
        });
        while rt.handle().num_alive_tasks() < 1_000_000 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        resident_kib()
    };
    let after = resident_kib();
    let held = loaded - before;
    assert!(
        held > 50_000,
        "a million tasks should take > 50 MB (took {held} KiB)"
    );
    assert!(
        after < before + held / 4,
        "resident memory after the drop: {after} KiB (before: {before} KiB, loaded: {loaded} KiB)"
    );
}
