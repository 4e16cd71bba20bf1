//! Metrics, task ids and spawn locations.
use filch::runtime::Builder;
use filch::time::{sleep, Duration};

#[test]
fn metrics_count_what_happened() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let before = rt.handle().metrics();
    assert_eq!(before.workers.len(), 2);
    rt.block_on(async {
        let mut set = filch::task::JoinSet::new();
        for _ in 0..1000 {
            set.spawn(async {
                // Spawned from a task: counted on a worker.
                filch::spawn(async { filch::task::yield_now().await })
                    .await
                    .unwrap();
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
        sleep(Duration::from_millis(5)).await;
        let m = filch::runtime::Handle::current().metrics();
        assert_eq!(m.timers, 0, "the finished sleep removed its timer");
    });
    let m = rt.handle().metrics();
    let polls: u64 = m.workers.iter().map(|w| w.polls).sum();
    assert!(
        polls >= 3000,
        "every task polled at least once or twice: {polls}"
    );
    assert!(m.remote_spawns >= 1000, "{m:?}");
    assert_eq!(m.alive_tasks, 0);
    assert!(m.workers.iter().any(|w| w.parks > 0), "{m:?}");
    let spawned: u64 = m.workers.iter().map(|w| w.spawned).sum();
    assert!(spawned <= 1000, "{m:?}");
}

#[test]
fn current_thread_metrics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for _ in 0..10 {
            filch::spawn(async {}).await.unwrap();
        }
    });
    let m = rt.handle().metrics();
    assert_eq!(m.workers.len(), 1);
    assert_eq!(m.workers[0].spawned, 10);
    assert!(m.workers[0].polls >= 10);
}

#[test]
fn budget_forced_yields_are_counted() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..1000).map(|_| filch::spawn(async {})).collect();
        filch::spawn(async move {
            while handles.iter().any(|h| !h.is_finished()) {
                filch::task::yield_now().await;
            }
            for h in handles {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
        // Let the worker park, which folds the count in.
        sleep(Duration::from_millis(5)).await;
    });
    let m = rt.handle().metrics();
    assert!(m.workers[0].budget_forced_yields >= 1000 / 128 - 1, "{m:?}");
}

#[test]
fn task_ids_are_unique_and_visible_inside() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|_| filch::spawn(async { filch::task::id() }))
            .collect();
        let mut ids = std::collections::HashSet::new();
        for h in handles {
            let outer = h.id();
            assert_eq!(h.await.unwrap(), outer);
            assert!(ids.insert(outer));
        }
        assert!(
            filch::task::try_id().is_none(),
            "block_on's future is not a task"
        );
    });
}

#[test]
fn spawn_location_points_at_the_caller() {
    let rt = Builder::new_current_thread().build().unwrap();
    let line = line!() + 1;
    let h = rt.spawn(std::future::pending::<()>());
    let loc = h.spawn_location().unwrap();
    assert_eq!((loc.file(), loc.line()), (file!(), line));
    let _guard = rt.enter();
    let line = line!() + 1;
    let h2 = filch::spawn(async {});
    assert_eq!(h2.spawn_location().unwrap().line(), line);
}
