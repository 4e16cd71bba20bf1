//! Runnable examples of filch live beside this file; see `Cargo.toml`.

pub mod axum_app;
pub mod db;
pub mod websocket_chat;
