//! Runnable examples of filch live beside this file; see `Cargo.toml`.
