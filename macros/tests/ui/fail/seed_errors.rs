#[filch::test(seed = "7")]
async fn seed_as_a_string() {}

#[filch::test(seed = -1)]
async fn negative_seed() {}

#[filch::test(seed = 18446744073709551616)]
async fn seed_too_big() {}

#[filch::test(rng_seed = 7)]
async fn misspelled() {}

#[filch::test(seed)]
async fn no_value() {}

fn main() {}
