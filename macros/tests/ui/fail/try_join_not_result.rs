#[filch::main]
async fn main() {
    let _ = filch::try_join!(async { Ok::<u8, ()>(1) }, async { 2u8 });
}
