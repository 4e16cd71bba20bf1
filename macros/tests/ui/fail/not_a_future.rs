#[filch::main]
async fn main() {
    let _ = filch::join!(async { 1 }, 2);
    let _ = filch::select! {
        x = 3 => x,
    };
    let _ = filch::select! {
        Some(x) = async { 4 } => x,
    };
}
