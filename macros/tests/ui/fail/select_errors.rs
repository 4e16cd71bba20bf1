#[filch::main]
async fn main() {
    filch::select! {};

    filch::select! {
        x = async { 1 } => x
        y = async { 2 } => y,
    };

    filch::select! {
        _ = async {} => {}
        else => {}
        else => {}
    };

    filch::select! {
        x => async { 1 } => x,
    };
}
