//! [`Instant`]: a point in time on the runtime's clock.
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of a monotonically nondecreasing clock: `std::time::Instant`, read through
/// the runtime's clock.
///
/// Most of the time this *is* `std::time::Instant` (`Instant::now()` costs one relaxed
/// atomic load more than `std`'s). The difference is [paused time](super#paused-time): on
/// a thread of a runtime whose clock is [paused](super::pause), [`Instant::now`] reads the
/// runtime's virtual clock, which moves only when told to ([`advance`](super::advance)) or
/// when every task waits on a timer (it jumps to the next one). Everything in
/// `filch::time` takes and returns this type; [`from_std`](Self::from_std) and
/// [`into_std`](Self::into_std) convert (an instant taken with `std`'s clock is on the
/// real clock, never a paused one).
///
/// As `std`'s, it is `Copy`, ordered and hashable, and subtracting a later instant from an
/// earlier one saturates to zero instead of panicking.
///
/// # Examples
///
/// ```
/// use filch::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let later = start + Duration::from_millis(5);
/// assert_eq!(later - start, Duration::from_millis(5));
/// assert_eq!(start - later, Duration::ZERO); // saturates
/// assert_eq!(later.checked_duration_since(start), Some(Duration::from_millis(5)));
/// assert_eq!(start.checked_duration_since(later), None);
/// assert_eq!(Instant::from_std(later.into_std()), later);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current time: the runtime's virtual clock on a thread of a runtime whose time is
    /// [paused](super::pause) (or was paused, then [resumed](super::resume): the clock then
    /// runs again from where it was), the OS's monotonic clock everywhere else.
    ///
    /// # Examples
    ///
    /// ```
    /// use filch::time::{Duration, Instant};
    ///
    /// let rt = filch::runtime::Builder::new_current_thread()
    ///     .start_paused(true)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     filch::time::sleep(Duration::from_secs(3600)).await; // no real waiting
    ///     assert_eq!(Instant::now(), start + Duration::from_secs(3600));
    /// });
    /// ```
    #[inline]
    pub fn now() -> Instant {
        if !crate::driver::time::clock::any_shifted() {
            return Instant {
                std: std::time::Instant::now(),
            };
        }
        Instant {
            std: now_on_this_thread(),
        }
    }

    /// The `filch` instant of a `std` one (the same point in time).
    #[inline]
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std` instant of this one (the same point in time).
    #[inline]
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// How long after `earlier` this instant is; zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// How long after `earlier` this instant is, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// How long after `earlier` this instant is; zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time since this instant ([`Instant::now`] minus it; zero if it is in the
    /// future). On a paused runtime's thread, virtual time: it grows only as the clock is
    /// advanced.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that cannot be represented.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that cannot be represented.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

/// The time on this thread while some clock is virtual: the clock of the runtime this
/// thread is in (virtual once paused), or the real one outside a runtime, and also where
/// the thread-local cannot be read (thread teardown: `now` may be called from any
/// destructor).
#[inline(never)]
fn now_on_this_thread() -> std::time::Instant {
    crate::runtime::context::try_with_current(|handle| match handle {
        Some(handle) => handle.inner.clock_now(),
        None => std::time::Instant::now(),
    })
    .unwrap_or_else(std::time::Instant::now)
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// Panics if the result cannot be represented (as `std`'s); see
    /// [`checked_add`](Instant::checked_add).
    fn add(self, duration: Duration) -> Instant {
        Instant::from_std(self.std + duration)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// Panics if the result cannot be represented (as `std`'s); see
    /// [`checked_sub`](Instant::checked_sub).
    fn sub(self, duration: Duration) -> Instant {
        Instant::from_std(self.std - duration)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// [`duration_since`](Instant::duration_since): saturates to zero.
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_std() {
        let std_now = std::time::Instant::now();
        let now = Instant::from_std(std_now);
        let ms = Duration::from_millis(7);
        assert_eq!((now + ms).into_std(), std_now + ms);
        assert_eq!((now + ms - ms), now);
        let mut moving = now;
        moving += ms;
        moving += ms;
        assert_eq!(moving - now, 2 * ms);
        moving -= ms;
        assert_eq!(moving, now + ms);
        assert_eq!(now - moving, Duration::ZERO, "saturates");
        assert_eq!(now.duration_since(moving), Duration::ZERO);
        assert_eq!(moving.saturating_duration_since(now), ms);
        assert_eq!(moving.checked_duration_since(now), Some(ms));
        assert_eq!(now.checked_duration_since(moving), None);
        assert_eq!(now.checked_add(ms), Some(moving));
        assert_eq!(moving.checked_sub(ms), Some(now));
        assert_eq!(now.checked_add(Duration::MAX), None);
        assert!(now < moving);
        assert_eq!(std::time::Instant::from(moving), moving.into_std());
        assert_eq!(Instant::from(std_now), now);
        assert_eq!(format!("{now:?}"), format!("{std_now:?}"));
    }

    #[test]
    fn hash_and_ord_follow_the_point_in_time() {
        use std::collections::{BTreeSet, HashSet};
        let now = Instant::now();
        let later = now + Duration::from_nanos(1);
        let hashed: HashSet<_> = [now, now, later].into_iter().collect();
        assert_eq!(hashed.len(), 2);
        let ordered: Vec<_> = [later, now]
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(ordered, [now, later]);
    }

    #[test]
    fn now_outside_a_runtime_is_the_real_clock() {
        let before = std::time::Instant::now();
        let now = Instant::now().into_std();
        assert!(before <= now && now <= std::time::Instant::now());
        assert!(Instant::now().elapsed() < Duration::from_secs(60));
    }
}
