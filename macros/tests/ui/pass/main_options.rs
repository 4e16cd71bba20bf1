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

fn main() {
    assert_eq!(current() + multi(), 3);
    through_path();
    through_string();
}
