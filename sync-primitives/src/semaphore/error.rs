//! Why an acquire got no permits: the semaphore closed ([`AcquireError`]), or, for the
//! `try_` forms, none were free ([`TryAcquireError`]).
use std::fmt;

/// The semaphore was closed while (or before) waiting for permits.
///
/// # Examples
///
/// ```
/// use filch_sync::Semaphore;
///
/// let sem = Semaphore::new(1);
/// sem.close();
/// let err = futures::executor::block_on(sem.acquire()).unwrap_err();
/// assert_eq!(err.to_string(), "semaphore closed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(pub(super) ());

/// Why a `try_acquire*` call got no permits.
///
/// # Examples
///
/// ```
/// use filch_sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are available, or others are already waiting for them.
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("semaphore closed"),
            Self::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}
