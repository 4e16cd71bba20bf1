//! `channels`: floods through bounded and unbounded `mpsc`, `oneshot` and `broadcast`.
//! Invariants: every mpsc message is delivered exactly once and in order per sender, and
//! `recv` ends with `None` only after every sender is gone; a oneshot delivers its value, or
//! an error when the sender was dropped, or hands the value back when the receiver was;
//! a broadcast receiver sees the values in order, and every gap is announced exactly by
//! `Lagged(n)`.
use super::join_all;
use crate::ctx::Ctx;
use filch::sync::{broadcast, mpsc, oneshot};

async fn mpsc_flood(ctx: &mut Ctx, senders: u64, per_sender: u64, capacity: usize) {
    let (tx, mut rx) = mpsc::channel::<(u64, u64)>(capacity);
    let mut handles = Vec::new();
    for s in 0..senders {
        let tx = tx.clone();
        let c = ctx.clone();
        handles.push(ctx.spawn(async move {
            for seq in 0..per_sender {
                if tx.send((s, seq)).await.is_err() {
                    c.violation("mpsc: receiver gone while sending");
                    return;
                }
            }
        }));
    }
    drop(tx);
    let mut next = vec![0u64; senders as usize];
    while let Some((s, seq)) = rx.recv().await {
        let want = next[s as usize];
        ctx.ensure(seq == want, || {
            format!("mpsc: sender {s} message {seq}, expected {want}")
        });
        next[s as usize] = seq + 1;
        ctx.progress(1);
    }
    for (s, n) in next.iter().enumerate() {
        ctx.ensure(*n == per_sender, || {
            format!("mpsc: sender {s}: {n} of {per_sender} delivered")
        });
    }
    join_all(ctx, "mpsc sender", handles).await;
}

async fn unbounded_flood(ctx: &mut Ctx, senders: u64, per_sender: u64) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, u64)>();
    let mut handles = Vec::new();
    for s in 0..senders {
        let tx = tx.clone();
        let c = ctx.clone();
        handles.push(ctx.spawn(async move {
            for seq in 0..per_sender {
                if tx.send((s, seq)).is_err() {
                    c.violation("unbounded mpsc: receiver gone while sending");
                    return;
                }
                if seq % 16 == 0 {
                    filch::task::yield_now().await;
                }
            }
        }));
    }
    drop(tx);
    let mut next = vec![0u64; senders as usize];
    while let Some((s, seq)) = rx.recv().await {
        let want = next[s as usize];
        ctx.ensure(seq == want, || {
            format!("unbounded: sender {s} message {seq}, expected {want}")
        });
        next[s as usize] = seq + 1;
        ctx.progress(1);
    }
    for (s, n) in next.iter().enumerate() {
        ctx.ensure(*n == per_sender, || {
            format!("unbounded: sender {s}: {n} of {per_sender} delivered")
        });
    }
    join_all(ctx, "unbounded sender", handles).await;
}

async fn oneshots(ctx: &mut Ctx, pairs: u64) {
    let mut handles = Vec::new();
    for i in 0..pairs {
        let (tx, rx) = oneshot::channel::<u64>();
        let fate = ctx.rng().u8(0..3); // 0: send, 1: drop the sender, 2: drop the receiver
        let c = ctx.clone();
        let yields = ctx.rng().u32(0..3);
        handles.push(ctx.spawn(async move {
            for _ in 0..yields {
                filch::task::yield_now().await;
            }
            match fate {
                0 => c.ensure(tx.send(i).is_ok(), || format!("oneshot {i}: send failed")),
                1 => {
                    drop(tx);
                    true
                }
                _ => {
                    // The receiver is dropped below before this runs, or soon after.
                    let mut tx = tx;
                    tx.closed().await;
                    c.ensure(tx.send(i) == Err(i), || {
                        format!("oneshot {i}: value not handed back")
                    })
                }
            }
        }));
        let c = ctx.clone();
        handles.push(ctx.spawn(async move {
            match (fate, if fate == 2 { None } else { Some(rx.await) }) {
                (0, Some(Ok(v))) => c.ensure(v == i, || format!("oneshot {i}: got {v}")),
                (1, Some(Err(_))) | (2, None) => true,
                (f, r) => {
                    c.violation(format!("oneshot {i}: fate {f} gave {r:?}"));
                    false
                }
            }
        }));
    }
    let n = join_all(ctx, "oneshot", handles).await.len() as u64;
    ctx.progress(n);
}

async fn broadcast_flood(ctx: &mut Ctx, receivers: u64, messages: u64, capacity: usize) {
    let (tx, _) = broadcast::channel::<u64>(capacity);
    let mut handles = Vec::new();
    for r in 0..receivers {
        let mut rx = tx.subscribe();
        let c = ctx.clone();
        let slow = ctx.rng().u32(0..4) == 0;
        handles.push(ctx.spawn(async move {
            let mut expected = 0u64;
            let mut lagged = 0u64;
            loop {
                match rx.recv().await {
                    Ok(v) => {
                        if !c.ensure(v == expected, || {
                            format!("broadcast rx {r}: got {v}, expected {expected}")
                        }) {
                            return;
                        }
                        expected += 1;
                        c.progress(1);
                        if slow {
                            filch::task::yield_now().await;
                        }
                    }
                    Err(broadcast::RecvError::Lagged(n)) => {
                        expected += n;
                        lagged += n;
                    }
                    Err(broadcast::RecvError::Closed) => break,
                }
            }
            c.ensure(expected == messages, || {
                format!(
                    "broadcast rx {r}: stream ended at {expected} of {messages} ({lagged} lagged)"
                )
            });
        }));
    }
    for v in 0..messages {
        if tx.send(v).is_err() {
            ctx.violation("broadcast: every receiver gone");
            break;
        }
        if v % 8 == 0 {
            filch::task::yield_now().await;
        }
    }
    drop(tx);
    join_all(ctx, "broadcast receiver", handles).await;
}

pub(crate) async fn run(mut ctx: Ctx) {
    let senders = ctx.rng().u64(1..=8);
    let per_sender = ctx.rng().u64(100..=2_000);
    let capacity = ctx.rng().usize(1..=64);
    let pairs = ctx.rng().u64(16..=256);
    let receivers = ctx.rng().u64(1..=4);
    let bcap = ctx.rng().usize(4..=64);
    ctx.set_params(format!(
        "mpsc {senders} senders x {per_sender} msgs (capacity {capacity}) + unbounded; \
         {pairs} oneshots; broadcast {receivers} rx, capacity {bcap}"
    ));
    while !ctx.is_stopped() {
        mpsc_flood(&mut ctx, senders, per_sender, capacity).await;
        unbounded_flood(&mut ctx, senders, per_sender / 2 + 1).await;
        oneshots(&mut ctx, pairs).await;
        broadcast_flood(&mut ctx, receivers, per_sender, bcap).await;
    }
}
