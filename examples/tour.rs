//! A tour of filch: the asyncio toolbox, on every core.
//!
//! Run it with `cargo run --release --example tour`.
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream};
use filch::sync::{mpsc, Mutex, Semaphore};
use filch::task::{yield_now, JoinSet};
use filch::time::{sleep, timeout, Duration, Instant};
use std::collections::BTreeMap;
use std::sync::Arc;

#[filch::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handle = filch::runtime::Handle::current();
    println!("filch tour: {} worker threads\n", handle.num_workers());

    // 1. create_task + gather: spawn tasks, join them as they finish.
    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..10_000u64 {
        set.spawn(async move {
            yield_now().await; // give the scheduler a chance to move us
            (i, format!("{:?}", std::thread::current().id()))
        });
    }
    let mut per_thread: BTreeMap<String, usize> = BTreeMap::new();
    let mut sum = 0;
    while let Some(result) = set.join_next().await {
        let (i, thread) = result?;
        sum += i;
        *per_thread.entry(thread).or_default() += 1;
    }
    println!(
        "1. spawned and joined 10,000 tasks in {:?} (sum {sum})",
        started.elapsed()
    );
    for (thread, n) in &per_thread {
        println!("   worker {thread} ran {n} of them");
    }

    // 2. A panicking task does not take its worker down; the panic reaches the handle.
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // keep the tour's output tidy
    let err = filch::spawn(async { panic!("a task failed") })
        .await
        .unwrap_err();
    std::panic::set_hook(quiet);
    println!(
        "\n2. a panicking task: is_panic = {}, \"{err}\"",
        err.is_panic()
    );

    // 3. Lock and Semaphore: 64 tasks, at most 8 inside at once, one shared map.
    let permits = Arc::new(Semaphore::new(8));
    let results = Arc::new(Mutex::new(BTreeMap::new()));
    let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for job in 0..64u32 {
        let (permits, results) = (permits.clone(), results.clone());
        let (peak, inside) = (peak.clone(), inside.clone());
        set.spawn(async move {
            let _permit = permits.acquire().await.expect("semaphore closed");
            let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
            sleep(Duration::from_millis(2)).await; // "work" while holding the permit
            results.lock().await.insert(job, job * job);
            inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    while let Some(r) = set.join_next().await {
        r?;
    }
    println!(
        "\n3. 64 jobs behind an 8-permit semaphore: peak concurrency {}, {} results in the map",
        peak.load(std::sync::atomic::Ordering::SeqCst),
        results.lock().await.len()
    );

    // 4. A queue between producers and a consumer (asyncio.Queue -> mpsc).
    let (tx, mut rx) = mpsc::channel::<u64>(64);
    for producer in 0..4u64 {
        let tx = tx.clone();
        filch::spawn(async move {
            for n in 0..1_000 {
                tx.send(producer * 1_000 + n).await.expect("receiver alive");
            }
        });
    }
    drop(tx);
    let (mut count, mut total) = (0, 0);
    while let Some(n) = rx.recv().await {
        count += 1;
        total += n;
    }
    println!("\n4. mpsc: {count} messages from 4 producers, total {total}");

    // 5. Abort: cancel a task that would never finish.
    let stuck = filch::spawn(std::future::pending::<()>());
    stuck.abort();
    println!(
        "\n5. aborted a pending task: cancelled = {}",
        stuck.await.unwrap_err().is_cancelled()
    );

    // 6. sleep and wait_for: a timeout cancels what takes too long.
    let started = Instant::now();
    sleep(Duration::from_millis(25)).await;
    let slept = started.elapsed();
    let late = timeout(Duration::from_millis(10), sleep(Duration::from_secs(60))).await;
    let quick = timeout(Duration::from_secs(1), async { 42 }).await;
    println!(
        "\n6. slept {slept:?} for 25 ms; a 60 s sleep under a 10 ms timeout: {}; a quick one: {quick:?}",
        late.unwrap_err()
    );

    // 7. to_thread: blocking work goes to the blocking pool, not a worker.
    let digest = filch::task::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(5)); // a blocking call
        (0..1_000_000u64).fold(0u64, |h, x| h.rotate_left(5) ^ x)
    })
    .await?;
    println!("\n7. spawn_blocking computed {digest:#x} off the workers");

    // 8. Files: write and read back through the blocking pool, in large batches.
    let path = std::env::temp_dir().join(format!("filch-tour-{}.txt", std::process::id()));
    let text: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
    filch::fs::write(&path, &text).await?;
    let back = filch::fs::read_to_string(&path).await?;
    filch::fs::remove_file(&path).await?;
    println!(
        "\n8. wrote and read back {} bytes ({} lines) at {}",
        back.len(),
        back.lines().count(),
        path.display()
    );
    assert_eq!(back, text);

    // 9. Sockets: an echo server and 50 concurrent clients over loopback.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = filch::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await?;
            filch::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                // Echo until the client closes its side.
                filch::io::copy(&mut reader, &mut writer).await
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for client in 0..50u32 {
        clients.spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            let mut echoed = 0;
            for round in 0..100u32 {
                let message = format!("client {client:02} round {round:03}\n");
                stream.write_all(message.as_bytes()).await?;
                let mut back = vec![0u8; message.len()];
                stream.read_exact(&mut back).await?;
                assert_eq!(back, message.as_bytes());
                echoed += back.len();
            }
            Ok::<usize, std::io::Error>(echoed)
        });
    }
    let mut echoed = 0;
    while let Some(result) = clients.join_next().await {
        echoed += result??;
    }
    server.abort();
    let _ = server.await; // resolves once the aborted server's future is dropped
    println!(
        "\n9. 50 clients x 100 round trips through an echo server: {echoed} bytes in {:?}",
        started.elapsed()
    );

    let m = handle.metrics();
    println!(
        "\ndone; {} tasks alive, {} blocking threads, {} I/O events so far",
        m.alive_tasks, m.blocking_threads, m.io_events
    );
    Ok(())
}
