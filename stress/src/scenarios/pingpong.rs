//! `ping-pong`: pairs of tasks handing a counter back and forth through a [`Baton`] (the
//! harness's own waker path, where `--fault drop-wake:N` plants lost wakeups), and a ring
//! of tasks passing a token through bounded mpsc channels. Invariant: every hand-over
//! carries exactly the next value; the watchdog catches a hand-over that never wakes.
use super::join_all;
use crate::baton::Baton;
use crate::ctx::Ctx;
use filch::sync::mpsc;
use filch::time::Instant;
use std::sync::Arc;

pub(crate) async fn run(mut ctx: Ctx) {
    let pairs = ctx.rng().u64(2..=8);
    let exchanges = ctx.rng().u64(100..=1_000);
    let ring = ctx.rng().usize(3..=16);
    let laps = ctx.rng().u64(10..=100);
    ctx.set_params(format!(
        "{pairs} baton pairs x {exchanges} exchanges; mpsc ring of {ring} tasks x {laps} laps"
    ));
    while !ctx.is_stopped() {
        let mut handles = Vec::new();
        for _ in 0..pairs {
            let to_b = Arc::new(Baton::default());
            let to_a = Arc::new(Baton::default());
            let (ca, cb) = (ctx.clone(), ctx.clone());
            let (to_b_a, to_a_a) = (to_b.clone(), to_a.clone());
            handles.push(ctx.spawn(async move {
                for i in 0..exchanges {
                    to_b_a.pass(2 * i + 1, || ca.should_drop_wake());
                    let (v, at) = to_a_a.take().await;
                    ca.record_wake(at);
                    ca.ensure(v == 2 * i + 2, || {
                        format!("pinger got {v}, expected {}", 2 * i + 2)
                    });
                    ca.progress(1);
                }
            }));
            handles.push(ctx.spawn(async move {
                for i in 0..exchanges {
                    let (v, at) = to_b.take().await;
                    cb.record_wake(at);
                    cb.ensure(v == 2 * i + 1, || {
                        format!("ponger got {v}, expected {}", 2 * i + 1)
                    });
                    to_a.pass(v + 1, || cb.should_drop_wake());
                }
            }));
        }
        handles.extend(spawn_ring(&ctx, ring, laps));
        join_all(&ctx, "ping-pong", handles).await;
    }
}

/// Node 0 starts the token at 0; every hop adds one. Node `i` on lap `l` must see
/// `l * ring + i - 1` (node 0 sees the end of the lap, `l * ring + ring - 1`).
fn spawn_ring(ctx: &Ctx, ring: usize, laps: u64) -> Vec<filch::task::JoinHandle<()>> {
    let mut txs = Vec::new();
    let mut rxs = Vec::new();
    for _ in 0..ring {
        let (tx, rx) = mpsc::channel::<(u64, Instant)>(1);
        txs.push(tx);
        rxs.push(rx);
    }
    // Node i receives on rxs[i] and sends on txs[(i + 1) % ring].
    txs.rotate_left(1);
    let n = ring as u64;
    let mut handles = Vec::new();
    for (i, (mut rx, tx)) in rxs.into_iter().zip(txs).enumerate() {
        let ctx = ctx.clone();
        let i = i as u64;
        handles.push(ctx.clone().spawn(async move {
            if i == 0 && tx.send((0, Instant::now())).await.is_err() {
                ctx.violation("ring: node 1 hung up");
                return;
            }
            for lap in 0..laps {
                let Some((v, at)) = rx.recv().await else {
                    ctx.violation(format!("ring: node {i} lost its sender on lap {lap}"));
                    return;
                };
                ctx.record_wake(at);
                let want = if i == 0 {
                    lap * n + n - 1
                } else {
                    lap * n + i - 1
                };
                ctx.ensure(v == want, || {
                    format!("ring node {i} lap {lap}: got {v}, expected {want}")
                });
                ctx.progress(1);
                let last = i == 0 && lap + 1 == laps;
                if !last && tx.send((v + 1, Instant::now())).await.is_err() {
                    ctx.violation(format!(
                        "ring: node {i} could not pass the token on lap {lap}"
                    ));
                    return;
                }
            }
        }));
    }
    handles
}
