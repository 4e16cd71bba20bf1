// Every form of the combinators' syntax.
use std::future::ready;

#[filch::main(flavor = "current_thread")]
async fn main() {
    let () = filch::join!();
    let (a,) = filch::join!(ready(1));
    let (b, c) = filch::join!(ready(2), async { 3 },);
    assert_eq!(a + b + c, 6);

    let ok: Result<(u8, u8), ()> = filch::try_join!(ready(Ok(1)), ready(Ok(2)));
    assert_eq!(ok, Ok((1, 2)));

    let enabled = true;
    let n = filch::select! {
        biased;
        Some(x) | Some(x) = ready(Some(1)) => x,
        Ok(x) = ready(Ok::<i32, ()>(2)), if enabled => { x }
        (mut x, ref y) = ready((3, 4)) => {
            x += *y;
            x
        }
        _ = ready(()), if !enabled => 0,
        else => -1,
    };
    assert_eq!(n, 1);

    // A handler block may omit its comma, even before a branch whose pattern starts
    // with a parenthesis.
    let m = filch::select! {
        x = ready(1) => { x }
        (y, _) = ready((2, 0)) => y
    };
    assert!(m == 1 || m == 2);
}
