//! Database queries: tokio-postgres on filch, with no tokio runtime.
//!
//! Connects to PostgreSQL with a filch `TcpStream` (through `tokio_util::compat`) and
//! `tokio_postgres::Config::connect_raw`, spawns the connection as a filch task, then:
//!
//! 1. runs 1,000 queries from 32 tasks sharing the client (`Arc<Client>`), at most N in
//!    flight behind a `filch::sync::Semaphore`, checking every answer, and prints the time;
//! 2. runs a rolled-back, a committed and a failed transaction on a temporary table and
//!    checks the rows each leaves;
//! 3. `LISTEN`s on a second connection, driven by hand with `poll_message`, which forwards
//!    notifications into a `filch::sync::mpsc` channel, `NOTIFY`s from the first client,
//!    and receives them with `filch::time::timeout`.
//!
//! The workloads live in `examples/src/db.rs` (`filch_examples::db`), which the tests in
//! `examples/tests/db.rs` check as well. The server is `DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/postgres`; README.md ("Running the database
//! example") shows how to start a throwaway one.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release --example db_queries [max_in_flight]
//! ```
use filch_examples::db::{self, ConnectError};
use std::process::ExitCode;
use std::sync::Arc;

/// Queries the first workload runs.
const QUERIES: usize = 1_000;
/// Tasks that share the client and its queries.
const TASKS: usize = 32;

#[filch::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("db_queries: {}", db::error_chain(&*err));
            if let Some(connect) = err.downcast_ref::<ConnectError>() {
                eprintln!("db_queries: {}", connect.hint());
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), db::Error> {
    let max_in_flight: usize = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("max_in_flight must be a positive number, not {arg:?}"))?,
        None => 16,
    };
    let url = db::database_url();
    let client = db::connect(&url).await?;
    let row = client
        .query_one(
            "SELECT current_user::TEXT, current_database()::TEXT, \
             current_setting('server_version')",
            &[],
        )
        .await?;
    let (user, database, version): (String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    println!("connected as {user} to database {database} (PostgreSQL {version})");

    let client = Arc::new(client);
    let report = db::concurrent_queries(client.clone(), QUERIES, TASKS, max_in_flight).await?;
    println!(
        "queries: {} from {} tasks, at most {} in flight (peak {}), every answer checked: \
         {:.1} ms, {:.0} queries/s",
        report.queries,
        report.tasks,
        report.max_in_flight,
        report.peak_in_flight,
        report.elapsed.as_secs_f64() * 1e3,
        report.per_second()
    );

    // Every task has finished with its clone: a transaction needs the client to itself.
    let mut client = Arc::into_inner(client).ok_or("the query tasks still hold the client")?;
    let (rolled_back, committed) = (10, 25);
    let tx = db::transactions(&mut client, rolled_back, committed).await?;
    let expected = (
        u64::from(rolled_back),
        i64::from(rolled_back),
        0,
        u64::from(committed),
        i64::from(committed),
        i64::from(committed),
    );
    let got = (
        tx.rolled_back_inserts,
        tx.seen_before_rollback,
        tx.after_rollback,
        tx.committed_inserts,
        tx.after_commit,
        tx.after_failure,
    );
    if got != expected {
        return Err(format!("transaction row counts {got:?}, expected {expected:?}").into());
    }
    println!(
        "transactions on {}: rolled back {} inserts (seen {} inside, {} rows after), \
         committed {} ({} rows after), a duplicate key failed and rolled back its \
         transaction ({} rows after: {:?})",
        tx.table,
        tx.rolled_back_inserts,
        tx.seen_before_rollback,
        tx.after_rollback,
        tx.committed_inserts,
        tx.after_commit,
        tx.after_failure,
        tx.failure
    );

    let payloads = ["first", "second", "third"];
    let notify = db::listen_notify(&client, &url, &payloads).await?;
    let wrong = notify.received.iter().zip(payloads).any(|(got, sent)| {
        got.channel != notify.channel
            || got.payload != sent
            || got.process_id != notify.notifier_pid
    });
    if wrong || notify.received.len() != payloads.len() {
        return Err(format!("sent {payloads:?}, received {:?}", notify.received).into());
    }
    let received: Vec<&str> = notify.received.iter().map(|n| n.payload.as_str()).collect();
    println!(
        "listen/notify on {}: received {received:?} from backend {} in {:.1} ms",
        notify.channel,
        notify.notifier_pid,
        notify.elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}
