//! Patterns from tokio's own tests of `select!`, `join!`, `try_join!` and `pin!`, with
//! tokio's semantics, on filch: an `else`-only `select!`, branches disabled by their
//! precondition (typechecked, evaluated, never polled), `ref`/`ref mut` output patterns,
//! temporaries that live as long as the branch futures, `biased;` joins, and `pin!`.
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Yields `times` times, then returns `value`.
async fn after_yields<T>(times: usize, value: T) -> T {
    for _ in 0..times {
        filch::task::yield_now().await;
    }
    value
}

/// Borrows `s` for as long as it runs.
async fn length_of(s: &str) -> usize {
    filch::task::yield_now().await;
    s.len()
}

/// Logs `name` to `log` on every poll, pending `pending_polls` times before `value`.
struct Logged<'a, T> {
    name: &'static str,
    log: &'a RefCell<Vec<&'static str>>,
    pending_polls: usize,
    value: Option<T>,
}

impl<T: Unpin> Future for Logged<'_, T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.log.borrow_mut().push(self.name);
        if self.pending_polls == 0 {
            return Poll::Ready(self.value.take().expect("polled after it finished"));
        }
        self.pending_polls -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn logged<'a, T>(
    name: &'static str,
    log: &'a RefCell<Vec<&'static str>>,
    pending_polls: usize,
    value: T,
) -> Logged<'a, T> {
    Logged {
        name,
        log,
        pending_polls,
        value: Some(value),
    }
}

// ---- 1. `select!` with only an `else` branch ----

#[filch::test]
async fn select_with_only_an_else_branch_runs_it() {
    let n = filch::select! { else => 1 };
    assert_eq!(n, 1);
    let m = filch::select! {
        biased;
        else => { "else" }
    };
    assert_eq!(m, "else");
}

// ---- 2. branches disabled by their precondition ----

#[filch::test]
async fn select_infers_the_output_type_of_a_disabled_branch() {
    // The branch's output type comes from the `else` handler (`v` must be a `u16`), and the
    // disabled future is typechecked all the same.
    let n = filch::select! {
        v = std::future::pending(), if false => v,
        else => 0u16,
    };
    assert_eq!(n, 0u16);

    // The literal's type is inferred from its use in the other handler.
    let fut = async { 7 };
    let m = filch::select! {
        v = fut, if false => v,
        else => 0u8,
    };
    assert_eq!(m, 0u8);

    // A disabled branch whose future is never polled may diverge in its handler.
    filch::select! {
        _ = filch::time::sleep(std::time::Duration::from_millis(10)), if false => {
            panic!("the precondition was ignored")
        }
        _ = async { 1u32 } => {}
    }
}

#[filch::test]
async fn select_never_polls_a_disabled_branch_but_evaluates_its_future() {
    let evaluated = Cell::new(0);
    let got = filch::select! {
        _ = { evaluated.set(evaluated.get() + 1); poll_fn(|_| -> Poll<()> { panic!("polled") }) },
            if false => unreachable!(),
        v = after_yields(3, 5) => v,
    };
    assert_eq!(got, 5);
    assert_eq!(
        evaluated.get(),
        1,
        "a disabled branch's future expression runs once"
    );

    let evaluated = Cell::new(false);
    let got = filch::select! {
        biased;
        v = { evaluated.set(true); std::future::ready(1) }, if false => v,
        else => 2,
    };
    assert_eq!(got, 2);
    assert!(evaluated.get());
}

// ---- 3. `ref`/`ref mut` output patterns, refutable patterns ----

#[filch::test]
async fn select_output_patterns_bind_by_ref_and_ref_mut() {
    let len = filch::select! {
        Some(ref mut v) = async { Some(vec![0u8]) } => {
            v.push(1);
            v.len()
        }
    };
    assert_eq!(len, 2);

    let s = filch::select! {
        Some(ref s) = async { Some(String::from("1")) } => s.clone(),
    };
    assert_eq!(s, "1");

    filch::select! {
        Some(mut s) = async { Some(String::from("1")) } => {
            s.push('2');
            assert_eq!(s, "12");
        }
    };

    let mut total = 0;
    filch::select! {
        (ref mut a, ref b) = std::future::ready((1, 2)) => {
            *a += *b;
            total += *a;
        }
    };
    assert_eq!(total, 3);
}

#[filch::test]
async fn select_refutable_ref_mut_pattern_that_does_not_match_disables_the_branch() {
    let polled = Rc::new(Cell::new(0));
    let counted = {
        let polled = polled.clone();
        poll_fn(move |_| {
            polled.set(polled.get() + 1);
            Poll::Ready(None::<Vec<u8>>)
        })
    };
    let got = filch::select! {
        biased;
        Some(ref mut v) = counted => {
            v.push(1);
            v.len()
        }
        n = after_yields(3, 10) => n,
    };
    assert_eq!(got, 10);
    assert_eq!(polled.get(), 1, "a mismatched branch is not polled again");

    let got = filch::select! {
        Some(ref mut v) = std::future::ready(None::<Vec<u8>>) => v.len(),
        Ok(n) = std::future::ready(Err::<usize, ()>(())) => n,
        else => 99,
    };
    assert_eq!(got, 99);
}

// ---- 4. temporaries live as long as the branch futures ----

#[filch::test]
async fn select_temporaries_in_branch_expressions_live_as_long_as_the_futures() {
    let n = filch::select! {
        n = length_of(&String::from("four")) => n,
        _ = std::future::pending::<()>() => unreachable!(),
    };
    assert_eq!(n, 4);

    // The mutex is a temporary; the lock future borrows it.
    let value = filch::select! {
        guard = filch::sync::Mutex::new(7).lock() => *guard,
        else => 0,
    };
    assert_eq!(value, 7);

    filch::select! {
        () = &mut std::future::ready(()) => {}
    }
}

#[filch::test]
async fn join_temporaries_in_arguments_live_as_long_as_the_futures() {
    let (a, b) = filch::join!(length_of(&String::from("ab")), async { 1 });
    assert_eq!((a, b), (2, 1));
    let (c,) = filch::join!(&mut std::future::ready(3));
    assert_eq!(c, 3);
    let ok: Result<(usize, u8), ()> = filch::try_join!(
        async { Ok(length_of(&String::from("abc")).await) },
        std::future::ready(Ok(1)),
    );
    assert_eq!(ok, Ok((3, 1)));
}

// ---- 5. `biased;` joins ----

#[filch::test]
async fn join_biased_polls_in_argument_order() {
    let log = RefCell::new(Vec::new());
    let (a, b, c) = filch::join!(
        biased;
        logged("a", &log, 2, 'a'),
        logged("b", &log, 1, 'b'),
        logged("c", &log, 2, 'c'),
    );
    assert_eq!((a, b, c), ('a', 'b', 'c'));
    assert_eq!(*log.borrow(), ["a", "b", "c", "a", "b", "c", "a", "c"]);
}

#[filch::test]
async fn try_join_biased_polls_in_argument_order() {
    let log = RefCell::new(Vec::new());
    let ok: Result<(u8, u8), &str> = filch::try_join!(
        biased;
        logged("a", &log, 1, Ok(1)),
        logged("b", &log, 1, Ok(2)),
    );
    assert_eq!(ok, Ok((1, 2)));
    assert_eq!(*log.borrow(), ["a", "b", "a", "b"]);

    let log = RefCell::new(Vec::new());
    let err: Result<(u8, u8), &str> = filch::try_join!(
        biased;
        logged("a", &log, 0, Err("first")),
        logged("b", &log, 0, Ok(2)),
    );
    assert_eq!(err, Err("first"));
    assert_eq!(
        *log.borrow(),
        ["a"],
        "biased stops at the first branch's error"
    );

    let empty: Result<(), ()> = filch::try_join!(biased;);
    assert_eq!(empty, Ok(()));
    let () = filch::join!(biased;);
}
