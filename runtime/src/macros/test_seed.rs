//! [`TestSeed`]: the scheduler seed of one `#[filch::test]`: `seed = n` from the
//! attribute, overridden by the `FILCH_SEED` environment variable, and printed when the
//! test fails so that the failing run can be replayed.
use crate::runtime::Builder;
use std::fmt;

/// The environment variable that overrides every `#[filch::test]`'s seed: a `u64`, or
/// `random` for a fresh seed per test (printed if the test fails).
const FILCH_SEED: &str = "FILCH_SEED";

/// Where a test's seed came from (for the failure message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Attribute,
    Environment,
    Random,
}

/// The seed a `#[filch::test]` runs with, if any; reports it when dropped during a panic.
#[doc(hidden)]
#[derive(Debug)]
pub struct TestSeed {
    seed: Option<(u64, Source)>,
}

impl TestSeed {
    /// `FILCH_SEED` if set, else the attribute's `seed = n`, else none (FIFO scheduling).
    ///
    /// # Panics
    ///
    /// If `FILCH_SEED` is set to something other than a `u64` or `random`.
    #[track_caller]
    pub fn resolve(attribute: Option<u64>) -> TestSeed {
        let from_env = std::env::var_os(FILCH_SEED).map(|value| {
            parse_env(&value.to_string_lossy()).unwrap_or_else(|message| panic!("{message}"))
        });
        TestSeed {
            seed: from_env.or(attribute.map(|n| (n, Source::Attribute))),
        }
    }

    /// Sets the seed on the test's builder, if there is one.
    pub fn apply(&self, builder: &mut Builder) {
        if let Some((seed, _)) = self.seed {
            builder.rng_seed(seed);
        }
    }
}

/// Parses `FILCH_SEED`'s value.
fn parse_env(value: &str) -> Result<(u64, Source), String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("random") {
        use std::hash::{BuildHasher, RandomState};
        return Ok((RandomState::new().hash_one(()), Source::Random));
    }
    value
        .parse::<u64>()
        .map(|n| (n, Source::Environment))
        .map_err(|error| {
            format!(
                "{FILCH_SEED}={value:?} is not a seed ({error}); set it to an integer from 0 \
                 to {} (e.g. {FILCH_SEED}=7), or to `random`, or unset it",
                u64::MAX
            )
        })
}

impl fmt::Display for TestSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seed {
            None => write!(f, "no seed"),
            Some((seed, source)) => {
                let from = match source {
                    Source::Attribute => "`seed` of #[filch::test]",
                    Source::Environment => FILCH_SEED,
                    Source::Random => "FILCH_SEED=random",
                };
                write!(
                    f,
                    "filch: this test ran with scheduler seed {seed} (from {from}); replay it \
                     with {FILCH_SEED}={seed}"
                )
            }
        }
    }
}

impl Drop for TestSeed {
    fn drop(&mut self) {
        if self.seed.is_some() && std::thread::panicking() {
            eprintln!("{self}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_env, Source, TestSeed};

    #[test]
    fn the_environment_value_is_a_u64_or_random() {
        assert_eq!(parse_env("7"), Ok((7, Source::Environment)));
        assert_eq!(
            parse_env(" 18446744073709551615 "),
            Ok((u64::MAX, Source::Environment))
        );
        assert_eq!(parse_env("RANDOM").map(|(_, s)| s), Ok(Source::Random));
        let error = parse_env("-1").unwrap_err();
        assert!(error.contains("FILCH_SEED=\"-1\" is not a seed"), "{error}");
        assert!(error.contains("or to `random`"), "{error}");
        assert!(parse_env("18446744073709551616").is_err());
    }

    #[test]
    fn the_failure_message_names_the_seed_and_how_to_replay_it() {
        let seed = TestSeed {
            seed: Some((42, Source::Attribute)),
        };
        let text = seed.to_string();
        assert!(text.contains("seed 42"), "{text}");
        assert!(text.contains("replay it with FILCH_SEED=42"), "{text}");
        std::mem::forget(seed);
    }
}
