//! The `tracing` feature: spawn events and poll spans carry the task id and spawn location;
//! workers announce park/unpark. (Run with `--features tracing`.)
#![cfg(feature = "tracing")]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records every span and event as "name field=value ...".
#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
    next_id: AtomicU64,
}

/// The subscriber installed globally; shares the recorder with the test.
struct Shared(Arc<Recorder>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Shared {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!("span {}", span.metadata().name());
        span.record(&mut Line(&mut line));
        self.0.lines.lock().unwrap().push(line);
        Id::from_u64(self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("event {}", event.metadata().target());
        event.record(&mut Line(&mut line));
        self.0.lines.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn spans_carry_task_ids_and_spawn_locations() {
    let recorder = Arc::new(Recorder::default());
    tracing::subscriber::set_global_default(Shared(recorder.clone())).unwrap();
    let rt = filch::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let spawn_line = line!() + 1;
    let task = rt.spawn(async { filch::task::yield_now().await });
    let id = task.id().as_u64();
    rt.block_on(task).unwrap();
    // Idle long enough for the workers to park.
    rt.block_on(filch::time::sleep(std::time::Duration::from_millis(20)));
    drop(rt);
    let lines = recorder.lines.lock().unwrap().clone();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("runtime started"), "{lines:#?}");
    assert!(has("span filch.worker"), "{lines:#?}");
    let at = format!("spawned_at={}:{spawn_line}:", file!());
    assert!(
        lines.iter().any(|l| l.contains("message=spawn ")
            && l.contains(&format!("task_id={id}"))
            && l.contains(&at)),
        "spawn event with id {id} at {at}: {lines:#?}"
    );
    let polls = lines
        .iter()
        .filter(|l| l.starts_with("span filch.poll") && l.contains(&format!("task_id={id}")))
        .count();
    assert!(polls >= 2, "the yield makes two polls: {lines:#?}");
    assert!(has("message=park"), "{lines:#?}");
}
