fn main() {
    let _ = filch::join!(async { 1 });
}
