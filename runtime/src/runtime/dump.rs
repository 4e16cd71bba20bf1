//! [`Dump`]: a snapshot of every live task of a runtime — asyncio's `all_tasks()`, with
//! what each task is doing — taken by [`Handle::dump`](super::Handle::dump).
//!
//! It walks the runtime's task registry shard by shard (each under its lock, briefly) and
//! copies what every task records about itself (`task::stats`); nothing is collected on
//! the hot path beyond those few relaxed stores, so a runtime that is never dumped pays
//! (almost) nothing. Tasks of a `LocalSet` are included when the dump is taken on the
//! thread that drives the set.
use crate::task::registry::Registry;
use crate::task::stats::RawState;
use crate::task::Id;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// What a task was doing when the [`Dump`] was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a wakeup.
    Idle,
    /// On a run queue, waiting for a worker.
    Scheduled,
    /// Being polled (see [`TaskDump::worker`] for where).
    Running,
    /// A `spawn_blocking` job, running on a blocking-pool thread.
    Blocking,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Blocking => "blocking",
        })
    }
}

/// One task of a [`Dump`].
#[derive(Debug, Clone)]
pub struct TaskDump {
    id: Id,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    state: TaskState,
    worker: Option<usize>,
    polls: u64,
    since_poll: Option<Duration>,
    since_wake: Option<Duration>,
    local: bool,
}

impl TaskDump {
    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given with [`task::Builder::name`](crate::task::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// The index of the multi-thread worker polling it, when [`Running`](TaskState::Running)
    /// there.
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }

    /// How many times it has been polled.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Time since its last poll began (`None`: never polled), to a few milliseconds.
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_poll
    }

    /// Time since it was last scheduled (spawned or woken), to a few milliseconds.
    pub fn since_last_wake(&self) -> Option<Duration> {
        self.since_wake
    }

    /// Whether it is a `!Send` task: of a `LocalSet`, or pinned to a worker by
    /// [`spawn_local`](crate::task::spawn_local).
    pub fn is_local(&self) -> bool {
        self.local
    }
}

/// Every live task of a runtime, sorted by id; see
/// [`Handle::dump`](super::Handle::dump). `Display` prints a table.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    tasks: Vec<TaskDump>,
}

impl Dump {
    /// Collects the tasks of `registries` (the runtime's, and the `LocalSet` driven here).
    pub(crate) fn collect<'a>(registries: impl IntoIterator<Item = (&'a Registry, bool)>) -> Dump {
        let mut tasks = Vec::new();
        for (registry, local) in registries {
            registry.for_each_header(|header| {
                let (state, worker) = match header.stats.state() {
                    RawState::Idle => (TaskState::Idle, None),
                    RawState::Scheduled => (TaskState::Scheduled, None),
                    RawState::Running(_) if header.blocking => (TaskState::Blocking, None),
                    RawState::Running(worker) => (TaskState::Running, worker),
                };
                tasks.push(TaskDump {
                    id: header.id,
                    name: header.name.clone(),
                    location: header.location,
                    state,
                    worker,
                    polls: header.stats.polls(),
                    since_poll: header.stats.since_last_poll(),
                    since_wake: header.stats.since_last_wake(),
                    local,
                });
            });
        }
        tasks.sort_by_key(|t| t.id);
        Dump { tasks }
    }

    /// The tasks, by id.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }
}

impl<'a> IntoIterator for &'a Dump {
    type Item = &'a TaskDump;
    type IntoIter = std::slice::Iter<'a, TaskDump>;

    fn into_iter(self) -> Self::IntoIter {
        self.tasks.iter()
    }
}

/// A duration as a dump shows it: "-" for never, else milliseconds or seconds.
struct Ago(Option<Duration>);

impl fmt::Display for Ago {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.0 {
            None => "-".to_owned(),
            Some(d) if d < Duration::from_secs(10) => format!("{}ms", d.as_millis()),
            Some(d) => format!("{}s", d.as_secs()),
        };
        f.pad(&text)
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>6}  {:<9}  {:>6}  {:>8}  {:>9}  {:>6}  {:<16}  spawned at",
            "id", "state", "polls", "polled", "woken", "worker", "name"
        )?;
        for t in &self.tasks {
            let worker = t.worker.map_or_else(|| "-".to_owned(), |w| w.to_string());
            let name = match (t.name(), t.local) {
                (Some(name), _) => name.to_owned(),
                (None, true) => "(local)".to_owned(),
                (None, false) => "-".to_owned(),
            };
            writeln!(
                f,
                "{:>6}  {:<9}  {:>6}  {:>8}  {:>9}  {:>6}  {:<16}  {}",
                t.id.to_string(),
                t.state,
                t.polls,
                Ago(t.since_poll),
                Ago(t.since_wake),
                worker,
                name,
                t.location
            )?;
        }
        write!(f, "{} tasks", self.tasks.len())
    }
}
