//! [`Config`]: what a run does, and the test-only [`Fault`] it can plant.
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A fault planted in the harness's own wake path, to prove the watchdog catches what it
/// claims to. filch itself is never modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The ping-pong scenario's baton drops one wakeup in `N`: the value is handed over
    /// but the waiting task's waker is discarded instead of woken, the exact shape of a
    /// lost wakeup. The watchdog must report the stall.
    DropWake(u64),
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, arg) = s
            .split_once(':')
            .ok_or_else(|| format!("fault `{s}`: expected KIND:N, e.g. drop-wake:1000"))?;
        match kind {
            "drop-wake" => {
                let n: u64 = arg
                    .parse()
                    .map_err(|e| format!("fault `{s}`: N must be a positive integer ({e})"))?;
                if n == 0 {
                    return Err(format!("fault `{s}`: N must be at least 1"));
                }
                Ok(Fault::DropWake(n))
            }
            other => Err(format!("unknown fault kind `{other}` (known: drop-wake)")),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::DropWake(n) => write!(f, "drop-wake:{n}"),
        }
    }
}

/// Settings of one run; see [`Harness`](crate::Harness) for the builder methods.
#[derive(Debug, Clone)]
pub struct Config {
    /// The master seed: every scenario's parameters derive from it and the scenario name.
    pub seed: u64,
    /// How long the scenarios run before the stop signal.
    pub duration: Duration,
    /// Worker threads of the runtime under test.
    pub workers: usize,
    /// A scenario whose progress counter does not move for this long, or a probe whose
    /// wake is not polled within it, is reported as a stall (lost wakeup or starvation).
    pub stall: Duration,
    /// A planted fault, for the harness's own tests.
    pub fault: Option<Fault>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress_bar: bool,
    /// Print each violation to stderr as it happens.
    pub echo_violations: bool,
    /// Deterministic mode (`--deterministic`): one current-thread runtime with paused
    /// time whose scheduler is seeded by [`scheduler_seed`]`(seed)`; only the scenarios
    /// marked [`Scenario::deterministic`](crate::Scenario::deterministic) run, and the
    /// report is the same, byte for byte, for the same seed. `workers` must be 1.
    pub deterministic: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 0,
            duration: Duration::from_secs(10),
            workers: 4,
            stall: Duration::from_secs(10),
            fault: None,
            progress_bar: false,
            echo_violations: true,
            deterministic: false,
        }
    }
}

/// SplitMix64 finalizer: spreads a seed so that nearby seeds give unrelated streams.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a of `name`.
fn fnv1a(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The seed of scenario `name` under master seed `seed` (FNV-1a of the name, mixed): it
/// does not depend on which other scenarios run, so `--scenario X` replays X's parameters
/// from a mixed run.
pub(crate) fn scenario_seed(seed: u64, name: &str) -> u64 {
    mix64(seed ^ fnv1a(name))
}

/// The name whose [`scenario_seed`] seeds the scheduler in deterministic mode. The `/`
/// keeps it apart from the built-in names; a scenario of your own given this very name
/// would draw the scheduler's stream (harmless, but pick another name).
const SCHEDULER_STREAM: &str = "filch-stress/scheduler";

/// The seed given to `Builder::rng_seed` in deterministic mode: the master seed's stream
/// for the name `filch-stress/scheduler`, derived exactly as a scenario's seed is. It
/// depends on the master seed only (not on which scenarios run), and it is not the master
/// seed itself, so the scheduler's generator and the scenarios' `fastrand` generators do
/// not draw correlated numbers.
pub fn scheduler_seed(seed: u64) -> u64 {
    scenario_seed(seed, SCHEDULER_STREAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_faults() {
        assert_eq!("drop-wake:7".parse::<Fault>(), Ok(Fault::DropWake(7)));
        assert!("drop-wake:0".parse::<Fault>().is_err());
        assert!("drop-wake".parse::<Fault>().is_err());
        assert!("eat-cpu:3".parse::<Fault>().is_err());
        assert_eq!(Fault::DropWake(9).to_string(), "drop-wake:9");
    }

    #[test]
    fn scenario_seeds_are_stable_and_distinct() {
        assert_eq!(
            scenario_seed(42, "ping-pong"),
            scenario_seed(42, "ping-pong")
        );
        assert_ne!(
            scenario_seed(42, "ping-pong"),
            scenario_seed(43, "ping-pong")
        );
        assert_ne!(
            scenario_seed(42, "ping-pong"),
            scenario_seed(42, "yield-storm")
        );
    }

    #[test]
    fn the_scheduler_seed_is_its_own_stream() {
        assert_eq!(scheduler_seed(42), scheduler_seed(42));
        assert_ne!(scheduler_seed(42), scheduler_seed(43));
        assert_ne!(scheduler_seed(42), 42);
        for name in crate::scenarios::NAMES {
            assert_ne!(scheduler_seed(42), scenario_seed(42, name));
        }
    }
}
