//! RwLock: readers share, writers exclude, a queued writer blocks later readers, readers
//! queued behind a writer get in after it, cancellation, and a stress run.
use std::sync::Arc;
use std::task::Poll;

use filch_sync::{OwnedRwLockWriteGuard, RwLock, RwLockWriteGuard};

mod support;
use support::Task;

#[test]
fn readers_share_writers_exclude() {
    let lock = RwLock::new(1);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    assert!(lock.try_write().is_err());
    assert_eq!(*r1 + *r2, 2);
    drop((r1, r2));
    let mut w = lock.try_write().unwrap();
    *w = 3;
    assert!(lock.try_read().is_err());
    assert_eq!(
        format!("{:?}", lock),
        "RwLock { data: <locked>, max_readers: 536870911 }"
    );
    drop(w);
    assert_eq!(*futures::executor::block_on(lock.read()), 3);
    let mut lock = lock;
    *lock.get_mut() += 1;
    assert_eq!(lock.into_inner(), 4);
}

#[test]
fn queued_writer_blocks_later_readers_and_they_follow_it() {
    let lock = RwLock::new(0);
    let r = lock.try_read().unwrap();
    let mut w = Task::new(lock.write());
    assert!(w.poll().is_pending());
    // A writer waits: new readers queue behind it instead of starving it.
    assert!(lock.try_read().is_err());
    let mut r2 = Task::new(lock.read());
    let mut r3 = Task::new(lock.read());
    assert!(r2.poll().is_pending());
    assert!(r3.poll().is_pending());
    drop(r);
    assert_eq!((w.wakes(), r2.wakes(), r3.wakes()), (1, 0, 0));
    let Poll::Ready(mut g) = w.poll() else {
        panic!("writer should hold the lock")
    };
    *g = 1;
    drop(g);
    // Both readers behind the writer get in together.
    assert_eq!((r2.wakes(), r3.wakes()), (1, 1));
    let Poll::Ready(a) = r2.poll() else { panic!() };
    let Poll::Ready(b) = r3.poll() else { panic!() };
    assert_eq!(*a + *b, 2);
}

#[test]
fn cancelled_writer_lets_readers_behind_it_in() {
    let lock = RwLock::new(());
    let r = lock.try_read().unwrap();
    let mut w = Task::new(lock.write());
    let mut r2 = Task::new(lock.read());
    assert!(w.poll().is_pending());
    assert!(r2.poll().is_pending());
    drop(w); // had collected all-but-one permits
    assert_eq!(r2.wakes(), 1);
    assert!(r2.poll().is_ready());
    drop(r);
}

#[test]
fn max_readers_and_downgrade() {
    let lock = RwLock::with_max_readers(5, 2);
    let w = lock.try_write().unwrap();
    let mut r = Task::new(lock.read());
    let mut w2 = Task::new(lock.write());
    assert!(r.poll().is_pending());
    assert!(w2.poll().is_pending());
    let g = RwLockWriteGuard::downgrade(w);
    assert_eq!(*g, 5);
    // The queued reader gets in at once; the writer behind waits for both.
    assert!(r.poll().is_ready());
    assert!(w2.poll().is_pending());
    drop(g);
    assert!(w2.poll().is_ready());
}

#[test]
fn owned_guards() {
    let lock = Arc::new(RwLock::new(1));
    let w = futures::executor::block_on(lock.clone().write_owned());
    assert!(lock.clone().try_read_owned().is_err());
    let r = OwnedRwLockWriteGuard::downgrade(w);
    let r2 = futures::executor::block_on(lock.clone().read_owned());
    assert_eq!(*r + *r2, 2);
    assert!(lock.clone().try_write_owned().is_err());
    std::thread::spawn(move || drop((r, r2))).join().unwrap();
    assert!(lock.try_write().is_ok());
    assert_eq!(Arc::strong_count(&lock), 1);
}

#[test]
#[should_panic(expected = "RwLock::with_max_readers: max_readers must be in 1..=u32::MAX >> 3")]
fn zero_max_readers_panics() {
    let _ = RwLock::with_max_readers((), 0);
}

#[test]
#[should_panic(expected = "RwLock::with_max_readers: max_readers must be in 1..=u32::MAX >> 3")]
fn too_many_max_readers_panics() {
    let _ = RwLock::with_max_readers((), u32::MAX);
}

/// Writers keep a pair equal, readers check it; readers and writers interleave from many
/// threads without tearing or deadlock.
#[test]
fn stress_readers_and_writers() {
    const THREADS: usize = 8;
    const ITERS: usize = 1_500;
    let lock = Arc::new(RwLock::with_max_readers((0u64, 0u64), 4));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let lock = lock.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    for j in 0..ITERS {
                        if (i + j) % 4 == 0 {
                            let mut g = lock.write().await;
                            g.0 += 1;
                            std::hint::spin_loop();
                            g.1 += 1;
                        } else {
                            let g = lock.read().await;
                            assert_eq!(g.0, g.1, "torn read");
                        }
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let g = lock.try_read().unwrap();
    assert_eq!(g.0, (THREADS * ITERS / 4) as u64);
}

#[test]
fn mapped_read_guards_keep_the_read_lock() {
    use filch_sync::RwLockReadGuard;
    let lock = RwLock::new((1, vec![2, 3]));
    let list = RwLockReadGuard::map(lock.try_read().unwrap(), |v| &v.1);
    let other = lock.try_read().unwrap();
    assert!(lock.try_write().is_err());
    let list = RwLockReadGuard::try_map(list, |l| l.get(7)).unwrap_err();
    let three = RwLockReadGuard::try_map(list, |l| l.get(1)).unwrap();
    assert_eq!((*three, other.0), (3, 1));
    // A mapped read guard is Send for Sync data: it may be dropped on another thread.
    std::thread::scope(|s| {
        s.spawn(move || assert_eq!(*three, 3));
    });
    assert!(lock.try_write().is_err());
    drop(other);
    assert!(lock.try_write().is_ok());
}

#[test]
fn mapped_write_guards_keep_the_write_lock_and_release_every_permit() {
    use filch_sync::RwLockMappedWriteGuard;
    let lock = RwLock::with_max_readers((0, [0u8; 4]), 3);
    let whole = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    let bytes = RwLockMappedWriteGuard::map(whole, |v| &mut v.1);
    let bytes = RwLockMappedWriteGuard::try_map(bytes, |b| b.get_mut(9)).unwrap_err();
    let mut last = RwLockMappedWriteGuard::try_map(bytes, |b| b.last_mut()).unwrap();
    *last = 9;
    assert!(lock.try_read().is_err());
    // A reader queued behind the mapped writer gets in once it is dropped.
    let mut reader = Task::new(lock.read());
    assert!(reader.poll().is_pending());
    drop(last);
    assert_eq!(reader.wakes(), 1);
    let Poll::Ready(guard) = reader.poll() else {
        panic!("the mapped writer released the lock");
    };
    assert_eq!(guard.1, [0, 0, 0, 9]);
    drop(guard);
    // Every permit came back: two more readers and then a writer fit.
    let readers = [lock.try_read(), lock.try_read(), lock.try_read()];
    assert!(readers.iter().all(Result::is_ok));
    assert!(lock.try_read().is_err());
    drop(readers);
    let w = lock.try_write().unwrap();
    let failed = RwLockWriteGuard::try_map(w, |v| if v.0 == 1 { Some(&mut v.0) } else { None });
    assert!(failed.is_err());
    drop(failed);
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_map_lets_readers_but_no_writer_in_between() {
    let lock = RwLock::new((String::from("a"), 1));
    let mut w = lock.try_write().unwrap();
    w.0.push('b');
    let mut writer = Task::new(lock.write());
    let mut name = RwLockWriteGuard::try_downgrade_map(w, |_| None::<&u8>).unwrap_err();
    // Still write-locked after the failed attempt.
    assert!(lock.try_read().is_err());
    name.1 += 1;
    let name = RwLockWriteGuard::downgrade_map(name, |v| v.0.as_str());
    assert_eq!(&*name, "ab");
    assert!(writer.poll().is_pending());
    drop(name);
    assert_eq!(writer.wakes(), 1);
    let Poll::Ready(guard) = writer.poll() else {
        panic!("the writer gets the lock after the mapped reader");
    };
    assert_eq!(guard.1, 2);
    drop(guard);
    let w = lock.try_write().unwrap();
    let one = RwLockWriteGuard::try_downgrade_map(w, |v| Some(&v.1)).unwrap();
    assert_eq!(*one, 2);
    assert!(lock.try_read().is_ok());
    assert!(lock.try_write().is_err());
}
