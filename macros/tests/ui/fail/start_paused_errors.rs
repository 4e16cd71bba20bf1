#[filch::test(flavor = "multi_thread", start_paused = true)]
async fn paused_on_multi_thread() {}

#[filch::main(start_paused = true)]
async fn main_defaults_to_multi_thread() {}

#[filch::test(start_paused = "true")]
async fn a_string() {}

#[filch::test(start_paused = 1)]
async fn an_integer() {}

#[filch::test(start_paused)]
async fn without_a_value() {}

#[filch::test(paused = true)]
async fn misspelt() {}

#[filch::test(start_paused = true, start_paused = false)]
async fn twice() {}

fn main() {}
