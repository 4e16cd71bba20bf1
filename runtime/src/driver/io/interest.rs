//! [`Interest`]: the directions an operation waits for.
//!
//! filch's driver registers every source for both directions, so an `Interest` does not
//! change what the OS reports; it selects which of the source's ready bits an operation
//! looks at and which of its two waiter lists (the reading side's, the writing side's) a
//! waiting task joins. Asking for both joins both: the first event in either direction
//! wakes the task.
use std::fmt;
use std::ops;

const READABLE: u8 = 0b01;
const WRITABLE: u8 = 0b10;

/// The readiness an operation waits for: [`READABLE`](Self::READABLE),
/// [`WRITABLE`](Self::WRITABLE), or both (`Interest::READABLE | Interest::WRITABLE`).
///
/// Passed to the `ready` and `try_io` methods of the sockets and of
/// [`AsyncFd`](crate::io::unix::AsyncFd).
///
/// # Examples
///
/// ```
/// use filch::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// assert_eq!(Interest::READABLE.add(Interest::WRITABLE), both);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Interest in reading: data to read, end-of-file, a connection to accept, an error.
    pub const READABLE: Interest = Interest(READABLE);

    /// Interest in writing: room in the send buffer, a finished connect, an error.
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// Whether the interest includes [`READABLE`](Self::READABLE).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether the interest includes [`WRITABLE`](Self::WRITABLE).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Interest;
    ///
    /// assert!(Interest::WRITABLE.is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// The union of both interests (the same as `self | other`, usable in a `const`).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert!(BOTH.is_readable() && BOTH.is_writable());
    /// ```
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without the directions of `other`; `None` if nothing is left (an `Interest`
    /// is never empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    /// assert_eq!(Interest::WRITABLE.remove(both), None);
    /// ```
    #[must_use]
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        match self.0 & !other.0 {
            0 => None,
            bits => Some(Interest(bits)),
        }
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            _ => f.write_str("WRITABLE"),
        }
    }
}
