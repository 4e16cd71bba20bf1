//! [`DropLedger`]: proves each tracked future is dropped exactly once.
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Counts guards created and dropped. Put a [`Tracked`] in a future's state: when the
/// runtime drops the future (completion, abort, shutdown), the guard is dropped with it.
/// At quiescence `created == dropped`; a guard dropped twice is counted separately.
#[derive(Default)]
pub struct DropLedger {
    created: AtomicU64,
    dropped: AtomicU64,
    double_drops: AtomicU64,
}

impl fmt::Debug for DropLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropLedger")
            .field("created", &self.created())
            .field("dropped", &self.dropped())
            .field("double_drops", &self.double_drops())
            .finish()
    }
}

impl DropLedger {
    /// A new, empty ledger.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A guard counted as created now.
    pub fn track(self: &Arc<Self>) -> Tracked {
        self.created.fetch_add(1, Ordering::Relaxed);
        Tracked {
            ledger: self.clone(),
            gone: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Guards created.
    pub fn created(&self) -> u64 {
        self.created.load(Ordering::Acquire)
    }

    /// Guards dropped.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }

    /// Guards whose drop ran more than once (must be 0).
    pub fn double_drops(&self) -> u64 {
        self.double_drops.load(Ordering::Acquire)
    }

    /// `Ok` when every guard was dropped exactly once.
    pub fn balanced(&self) -> Result<(), String> {
        let (c, d, dd) = (self.created(), self.dropped(), self.double_drops());
        if c == d && dd == 0 {
            Ok(())
        } else {
            Err(format!(
                "futures created {c}, dropped {d}, dropped twice {dd} (leaked {})",
                c.saturating_sub(d)
            ))
        }
    }
}

/// A guard counted by a [`DropLedger`].
pub struct Tracked {
    ledger: Arc<DropLedger>,
    gone: Arc<AtomicBool>,
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("dropped", &self.gone.load(Ordering::Relaxed))
            .finish()
    }
}

impl Tracked {
    /// A flag that turns true when this guard is dropped (to check "dropped by the time
    /// the aborted handle resolved").
    pub fn dropped_flag(&self) -> Arc<AtomicBool> {
        self.gone.clone()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.gone.swap(true, Ordering::AcqRel) {
            self.ledger.double_drops.fetch_add(1, Ordering::Relaxed);
        } else {
            self.ledger.dropped.fetch_add(1, Ordering::Release);
        }
    }
}
