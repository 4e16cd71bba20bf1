//! `filch::pin!` in both of tokio's forms: named variables (`pin!(a, b)`) and `let`
//! statements (`pin! { let a = ...; }`), each binding a `Pin<&mut T>` under the same name.
#![deny(warnings)]
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A `!Unpin` future that is ready on its second poll and counts its polls.
struct NotUnpin<'a> {
    polls: &'a Cell<usize>,
    _pinned: PhantomPinned,
}

impl Future for NotUnpin<'_> {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls.set(self.polls.get() + 1);
        if self.polls.get() < 2 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(self.polls.get())
        }
    }
}

fn not_unpin(polls: &Cell<usize>) -> NotUnpin<'_> {
    NotUnpin {
        polls,
        _pinned: PhantomPinned,
    }
}

#[filch::test]
async fn pin_named_variables_then_poll_them_across_selects() {
    let (polls_a, polls_b) = (Cell::new(0), Cell::new(0));
    let a = not_unpin(&polls_a);
    let b = not_unpin(&polls_b);
    filch::pin!(a, b);
    let _: &Pin<&mut NotUnpin<'_>> = &a;

    let mut done = (None, None);
    while done.0.is_none() || done.1.is_none() {
        filch::select! {
            biased;
            n = &mut a, if done.0.is_none() => done.0 = Some(n),
            n = &mut b, if done.1.is_none() => done.1 = Some(n),
        }
    }
    assert_eq!(done, (Some(2), Some(2)));
    assert_eq!((polls_a.get(), polls_b.get()), (2, 2));
}

#[filch::test]
async fn pin_one_variable_and_a_trailing_comma() {
    let polls = Cell::new(0);
    let fut = not_unpin(&polls);
    filch::pin!(fut,);
    assert_eq!(fut.as_mut().await, 2);
}

#[filch::test]
async fn pin_let_statements() {
    let polls = Cell::new(0);
    filch::pin! {
        let first = not_unpin(&polls);
        let second = async { 40 };
    }
    let _: &Pin<&mut NotUnpin<'_>> = &first;
    let (x, y) = filch::join!(&mut first, &mut second);
    assert_eq!(x + y, 42);
}

#[test]
fn pin_nothing_is_allowed() {
    filch::pin!();
    filch::pin! {}
}
