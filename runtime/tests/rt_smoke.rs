use filch::runtime::{Builder, Runtime};

#[test]
fn block_on_spawn_join() {
    let rt = Runtime::new().unwrap();
    let v = rt.block_on(async {
        let hs: Vec<_> = (0..1000u64)
            .map(|i| filch::spawn(async move { i }))
            .collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(v, 499500);
}

#[test]
fn current_thread_smoke() {
    let rt = Builder::new_current_thread().build().unwrap();
    let v = rt.block_on(async {
        let hs: Vec<_> = (0..1000u64)
            .map(|i| {
                filch::spawn(async move {
                    filch::task::yield_now().await;
                    i
                })
            })
            .collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(v, 499500);
}
