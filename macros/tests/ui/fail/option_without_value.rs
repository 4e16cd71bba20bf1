#[filch::main(flavor, crate = 1)]
async fn main() {}
