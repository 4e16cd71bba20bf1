//! filch
