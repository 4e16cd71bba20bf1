//! Sizes of the futures that `join!`, `try_join!` and `select!` build, filch next to tokio,
//! for 2, 3 and 8 branches of `async { 1u64 }` and of a timer sleep. Prints a markdown table
//! (the one in `docs/performance.md`, "Macro future sizes"):
//!
//! ```text
//! cargo test -p filch-benches --test macro_sizes -- --nocapture
//! ```
//!
//! Each size is `size_of_val` of an `async` block that only awaits the macro, unpolled (the
//! layout of a future is fixed before it is polled). Nothing is run.
use std::mem::size_of_val;
use std::time::Duration;

/// Builds the rows of one macro over `async { 1u64 }` and over sleeps, for each runtime.
macro_rules! sizes {
    ($name:literal, $filch:path, $tokio:path, $($pat:pat = $i:tt),+) => {{
        let filch_ready = size_of_val(&async { $filch!($(async { 1u64 + $i },)+) });
        let tokio_ready = size_of_val(&async { $tokio!($(async { 1u64 + $i },)+) });
        let filch_sleep = size_of_val(&async {
            $filch!($({ let _ = $i; filch::time::sleep(Duration::from_millis(1)) },)+)
        });
        let tokio_sleep = size_of_val(&async {
            $tokio!($({ let _ = $i; tokio::time::sleep(Duration::from_millis(1)) },)+)
        });
        ($name, filch_ready, tokio_ready, filch_sleep, tokio_sleep)
    }};
}

/// Like `sizes!`, for `select!`'s `pattern = future => handler` branches.
macro_rules! select_sizes {
    ($name:literal, $($i:tt),+) => {{
        let filch_ready = size_of_val(&async {
            filch::select! { $(v = async { 1u64 + $i } => v,)+ }
        });
        let tokio_ready = size_of_val(&async {
            tokio::select! { $(v = async { 1u64 + $i } => v,)+ }
        });
        let filch_sleep = size_of_val(&async {
            filch::select! { $(() = filch::time::sleep(Duration::from_millis($i + 1)) => $i,)+ }
        });
        let tokio_sleep = size_of_val(&async {
            tokio::select! { $(() = tokio::time::sleep(Duration::from_millis($i + 1)) => $i,)+ }
        });
        ($name, filch_ready, tokio_ready, filch_sleep, tokio_sleep)
    }};
}

type Row = (&'static str, usize, usize, usize, usize);

fn rows() -> Vec<Row> {
    vec![
        sizes!("join! x2", filch::join, tokio::join, _ = 0, _ = 1),
        sizes!("join! x3", filch::join, tokio::join, _ = 0, _ = 1, _ = 2),
        sizes!(
            "join! x8",
            filch::join,
            tokio::join,
            _ = 0,
            _ = 1,
            _ = 2,
            _ = 3,
            _ = 4,
            _ = 5,
            _ = 6,
            _ = 7
        ),
        select_sizes!("select! x2", 0, 1),
        select_sizes!("select! x3", 0, 1, 2),
        select_sizes!("select! x8", 0, 1, 2, 3, 4, 5, 6, 7),
    ]
}

#[test]
fn print_macro_future_sizes() {
    let ready_leaf = size_of_val(&async { 1u64 });
    let filch_sleep_leaf = std::mem::size_of::<filch::time::Sleep>();
    let tokio_sleep_leaf = std::mem::size_of::<tokio::time::Sleep>();
    println!(
        "one branch future alone: `async {{ 1u64 }}` {ready_leaf} B; sleep: filch \
         {filch_sleep_leaf} B, tokio {tokio_sleep_leaf} B"
    );
    println!(
        "| macro | `async {{ 1u64 }}`: filch | tokio | filch / tokio \
         | `sleep`: filch | tokio | filch / tokio | `sleep` minus the sleeps: filch | tokio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, fr, tr, fs, ts) in rows() {
        let n: usize = name.rsplit('x').next().unwrap().parse().unwrap();
        println!(
            "| `{name}` | {fr} | {tr} | {:.2} | {fs} | {ts} | {:.2} | {} | {} |",
            fr as f64 / tr as f64,
            fs as f64 / ts as f64,
            fs - n * filch_sleep_leaf,
            ts - n * tokio_sleep_leaf,
        );
    }
}
