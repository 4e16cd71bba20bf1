// Every option, in any order, with a trailing comma; each function is a plain `fn` after
// expansion.
mod reexport {
    pub use filch as rt;
}

#[filch::main(flavor = "current_thread")]
async fn current() -> u8 {
    1
}

#[filch::main(worker_threads = 2, flavor = "multi_thread",)]
async fn multi() -> u8 {
    filch::spawn(async { 2 }).await.unwrap()
}

#[filch::main(crate = reexport::rt)]
async fn through_path() {}

#[filch::main(crate = "reexport::rt", flavor = "current_thread")]
async fn through_string() {}

#[filch::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore]
async fn a_test() {}

#[filch::main(start_paused = true, flavor = "current_thread")]
async fn paused() -> std::time::Duration {
    let start = filch::time::Instant::now();
    filch::time::sleep(std::time::Duration::from_secs(3600)).await;
    start.elapsed()
}

#[filch::main(flavor = "multi_thread", start_paused = false)]
async fn not_paused() {}

#[filch::test(start_paused = true)]
#[ignore]
async fn a_paused_test() {}

fn main() {
    assert_eq!(current() + multi(), 3);
    through_path();
    through_string();
    assert_eq!(paused(), std::time::Duration::from_secs(3600));
    not_paused();
}
