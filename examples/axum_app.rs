//! An axum REST service on filch: JSON in and out, path parameters, shared state behind
//! `filch::sync::RwLock`, `404` and `422` answers, served by `filch::hyper::serve` with
//! graceful shutdown on Ctrl-C. The app itself is `filch_examples::axum_app::app()`
//! (`examples/src/axum_app.rs`); its test, `examples/tests/axum_app.rs`, drives it with
//! hyper's pooled client.
//!
//! ```text
//! cargo run --release --example axum_app [addr]     # default 127.0.0.1:3000
//! curl -i -H 'content-type: application/json' -d '{"text": "buy milk"}' http://127.0.0.1:3000/items
//! curl -i http://127.0.0.1:3000/items
//! curl -i http://127.0.0.1:3000/items/1
//! curl -i http://127.0.0.1:3000/items/99                  # 404, {"error": "..."}
//! curl -i -H 'content-type: application/json' -d '{"text": 5}' http://127.0.0.1:3000/items   # 422
//! curl -i -X DELETE http://127.0.0.1:3000/items/1         # 204
//! ```
//!
//! Ctrl-C stops accepting, lets the requests in flight finish (for at most 10 s), and exits.
use filch_examples::axum_app::app;
use std::time::Duration;

#[filch::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = filch::net::TcpListener::bind(addr.as_str()).await?;
    println!("listening on http://{}/items", listener.local_addr()?);
    filch::hyper::serve(listener, app())
        .with_graceful_shutdown(async {
            filch::signal::ctrl_c().await.ok();
        })
        .drain_timeout(Duration::from_secs(10))
        .await?;
    println!("shut down");
    Ok(())
}
