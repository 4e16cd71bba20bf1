//! [`Ready`]: what a source was seen ready for.
//!
//! The public face of the ready bits the driver keeps per source (see the readiness
//! protocol in `driver/io/scheduled_io.rs`): readable, writable, and the two "closed" bits
//! the driver sets on a hang-up. The driver's internal shutdown bit never shows here: an
//! operation on a source whose runtime shut down fails with an error instead.
use std::fmt;
use std::ops;

const READABLE: u8 = 0b0001;
const WRITABLE: u8 = 0b0010;
const READ_CLOSED: u8 = 0b0100;
const WRITE_CLOSED: u8 = 0b1000;
const ALL: u8 = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED;

/// The readiness of an I/O source, as last reported by the OS: returned by the sockets'
/// `ready` methods and by the guards of [`AsyncFd`](crate::io::unix::AsyncFd).
///
/// Readiness is a hint: a readable socket may still return `WouldBlock` (another task
/// read first, or the event was spurious), and the `try_*` methods clear it when they do.
/// A closed direction counts as ready for that direction (the operation returns
/// end-of-file or an error at once), so [`is_readable`](Self::is_readable) includes
/// [`READ_CLOSED`](Self::READ_CLOSED).
///
/// # Examples
///
/// ```
/// use filch::io::Ready;
///
/// let ready = Ready::READABLE | Ready::WRITE_CLOSED;
/// assert!(ready.is_readable() && ready.is_writable() && ready.is_write_closed());
/// assert!(!ready.is_read_closed());
/// assert!(Ready::EMPTY.is_empty());
/// assert_eq!(Ready::ALL - Ready::WRITABLE - Ready::WRITE_CLOSED, Ready::READABLE | Ready::READ_CLOSED);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ready(u8);

impl Ready {
    /// Ready for nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Ready to read (data, a connection to accept, or an error to report).
    pub const READABLE: Ready = Ready(READABLE);
    /// Ready to write (room in the send buffer, or an error to report).
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The read side is closed (the peer hung up): reads return end-of-file or an error.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// The write side is closed: writes fail at once.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// Every readiness bit.
    pub const ALL: Ready = Ready(ALL);

    /// The readiness with the given bits (those of the constants above; others dropped).
    pub(crate) const fn from_bits(bits: usize) -> Ready {
        Ready(bits as u8 & ALL)
    }

    /// The bits, as the constants above define them.
    pub(crate) const fn bits(self) -> usize {
        self.0 as usize
    }

    /// Whether no bit is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Ready;
    ///
    /// assert!(Ready::EMPTY.is_empty());
    /// assert!(!Ready::READ_CLOSED.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the source is readable or its read side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Ready;
    ///
    /// assert!(Ready::READABLE.is_readable());
    /// assert!(Ready::READ_CLOSED.is_readable());
    /// assert!(!Ready::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether the source is writable or its write side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Ready;
    ///
    /// assert!(Ready::WRITABLE.is_writable());
    /// assert!(Ready::WRITE_CLOSED.is_writable());
    /// assert!(!Ready::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// Whether the read side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Ready;
    ///
    /// assert!(Ready::READ_CLOSED.is_read_closed());
    /// assert!(!Ready::READABLE.is_read_closed());
    /// ```
    pub const fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether the write side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::io::Ready;
    ///
    /// assert!(Ready::WRITE_CLOSED.is_write_closed());
    /// assert!(!Ready::WRITABLE.is_write_closed());
    /// ```
    pub const fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &(self.0 & READABLE != 0))
            .field("is_writable", &(self.0 & WRITABLE != 0))
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .finish()
    }
}
