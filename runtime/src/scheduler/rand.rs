//! [`FastRand`]: the tiny, per-thread random source behind victim selection.
use std::cell::Cell;

/// Xorshift-style generator (Marsaglia's xorshift64*, truncated); quality is irrelevant,
/// only speed and a different start per thread matter.
#[derive(Debug)]
pub(crate) struct FastRand {
    state: Cell<u64>,
}

impl FastRand {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: Cell::new(seed | 1),
        }
    }

    /// A seed that differs per thread and per call.
    pub(crate) fn seed() -> u64 {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::thread::current().id())
    }

    fn next(&self) -> u64 {
        let mut x = self.state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&self, n: usize) -> usize {
        // Lemire's multiply-shift reduction on 32 bits.
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::FastRand;

    #[test]
    fn below_stays_in_range_and_varies() {
        let rng = FastRand::new(FastRand::seed());
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = rng.below(5);
            assert!(v < 5);
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s), "every value appears: {seen:?}");
    }
}
