#[filch::main(flavor = "multi_thread", worker_threads = 2, flavor = "multi_thread")]
async fn main() {}
