#[filch::main]
async fn main() {
    let _ = filch::select! {
        x = async { 1u8 } => x,
        y = async { "two" } => y,
    };
}
