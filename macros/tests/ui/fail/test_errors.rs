#[filch::test]
fn not_async() {}

#[filch::test]
async fn with_args(n: u32) {
    let _ = n;
}

#[filch::test]
#[test]
async fn twice() {}

#[filch::test(worker_threads = 2)]
async fn workers_without_flavor() {}

fn main() {}
