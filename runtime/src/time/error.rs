//! Time errors.
use std::fmt;

/// The error of a [`timeout`](fn@super::timeout) whose deadline passed before the future
/// completed.
///
/// # Examples
///
/// ```
/// use filch::time::{error::Elapsed, timeout, Duration};
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let err: Elapsed = rt
///     .block_on(timeout(Duration::from_millis(1), std::future::pending::<()>()))
///     .unwrap_err();
/// assert_eq!(err.to_string(), "deadline has elapsed");
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub(super) ());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(err: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, err)
    }
}
