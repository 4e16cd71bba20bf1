#[filch::main(worker_threads = 0)]
async fn zero() {}

#[filch::main(worker_threads = "4")]
async fn string() {}

#[filch::main(worker_threads = num_threads())]
async fn call() {}

fn main() {}
