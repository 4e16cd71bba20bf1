//! [`FastRand`]: the tiny, per-thread random source behind the scheduler's choices (the
//! steal victim, the ready task a seeded current-thread runtime runs next, where an
//! unbiased `select!` starts), and [`RngSeed`], what `Builder::rng_seed` fixes it to.
use std::cell::Cell;

/// A seed for a runtime's random choices (`Builder::rng_seed`); each worker derives its own
/// generator from it with [`RngSeed::generator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RngSeed(pub(crate) u64);

impl RngSeed {
    /// The generator of stream `index` (a worker's index): seeds that differ in one bit,
    /// and streams of one seed, start far apart (splitmix64's finalizer).
    pub(crate) fn generator(self, index: usize) -> FastRand {
        let mut z = self.0.wrapping_add(
            (index as u64)
                .wrapping_add(1)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        FastRand::new(z ^ (z >> 31))
    }
}

/// Xorshift-style generator (Marsaglia's xorshift64*, truncated); quality is irrelevant,
/// only speed and a different start per thread matter.
#[derive(Debug, Clone)]
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

    /// 32 random bits (for `select!`'s starting branch).
    pub(crate) fn next_u32(&self) -> u32 {
        (self.next() >> 32) as u32
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&self, n: usize) -> usize {
        // Lemire's multiply-shift reduction on 32 bits.
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::{FastRand, RngSeed};

    #[test]
    fn one_seed_gives_one_sequence_and_neighbouring_seeds_differ() {
        let draw = |seed: u64, index: usize| {
            let rng = RngSeed(seed).generator(index);
            (0..32).map(|_| rng.below(1000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 0), draw(7, 0));
        // `FastRand::new` sets the low bit: the seeds 6 and 7 must not collide.
        assert_ne!(draw(6, 0), draw(7, 0));
        assert_ne!(draw(7, 0), draw(7, 1));
        assert_ne!(draw(0, 0), draw(u64::MAX, 0));
    }

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
