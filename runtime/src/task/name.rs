//! The name slot: how a name given to `task::Builder` reaches the header of the task it
//! spawns. The builder fills a thread-local slot just before it calls the ordinary spawn
//! function, and task creation ([`create`](super::create)) empties it, so every spawn path
//! (both schedulers, `LocalSet`s, the blocking pool) carries a name without a parameter
//! threaded through each of them.
use std::cell::RefCell;

thread_local! {
    /// The name for the task this thread is about to create.
    static NEXT_NAME: RefCell<Option<Box<str>>> = const { RefCell::new(None) };
}

/// Takes the name left for the task being created on this thread.
pub(crate) fn take_name() -> Option<Box<str>> {
    NEXT_NAME.try_with(|n| n.borrow_mut().take()).ok().flatten()
}

/// Holds a name in the slot for the spawn this thread makes next; empties the slot when
/// dropped, whatever happened (a spawn that panicked before creating its task included).
pub(crate) struct NextName;

impl NextName {
    pub(crate) fn set(name: Option<&str>) -> NextName {
        let _ = NEXT_NAME.try_with(|n| *n.borrow_mut() = name.map(Box::from));
        NextName
    }
}

impl Drop for NextName {
    fn drop(&mut self) {
        let _ = take_name();
    }
}
