//! The `db_queries` example's workloads (`filch_examples::db`) against a real PostgreSQL:
//! tokio-postgres on filch, with no tokio runtime.
//!
//! The tests that need a server are ignored by default, so `cargo test --workspace` passes
//! on a machine without one; with a server at `DATABASE_URL` (by default
//! `postgres://postgres@127.0.0.1:5432/postgres`; see README.md, "Running the database
//! example"), run them with
//!
//! ```text
//! cargo test -p filch-examples --test db -- --ignored
//! ```
//!
//! CI (`.ci/run`) starts a throwaway server and does.
use filch_examples::db::{self, ConnectError};
use std::sync::Arc;

#[filch::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set DATABASE_URL (see README)"]
async fn a_thousand_queries_from_32_tasks_all_answer_right() -> Result<(), db::Error> {
    let client = Arc::new(db::connect(&db::database_url()).await?);
    let report = db::concurrent_queries(client.clone(), 1_000, 32, 16).await?;
    assert_eq!(report.queries, 1_000);
    assert_eq!(report.tasks, 32);
    assert!(
        (1..=16).contains(&report.peak_in_flight),
        "peak in flight {} with 16 permits",
        report.peak_in_flight
    );

    // One permit: one query at a time, however many tasks.
    let report = db::concurrent_queries(client.clone(), 200, 32, 1).await?;
    assert_eq!((report.queries, report.peak_in_flight), (200, 1));

    // Fewer queries than tasks: the idle tasks finish at once.
    let report = db::concurrent_queries(client, 5, 32, 4).await?;
    assert_eq!(report.queries, 5);
    Ok(())
}

#[filch::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set DATABASE_URL (see README)"]
async fn rolled_back_committed_and_failed_transactions_leave_exact_counts() -> Result<(), db::Error>
{
    let mut client = db::connect(&db::database_url()).await?;
    let first = db::transactions(&mut client, 10, 25).await?;
    assert_eq!(first.rolled_back_inserts, 10);
    assert_eq!(first.seen_before_rollback, 10);
    assert_eq!(first.after_rollback, 0);
    assert_eq!(first.committed_inserts, 25);
    assert_eq!(first.after_commit, 25);
    assert_eq!(first.after_failure, 25);
    assert!(
        first.failure.contains("duplicate key"),
        "unexpected failure message {:?}",
        first.failure
    );

    // Again on the same session: a fresh table, the same counts.
    let second = db::transactions(&mut client, 3, 1).await?;
    assert_ne!(second.table, first.table);
    let counts = (
        second.rolled_back_inserts,
        second.seen_before_rollback,
        second.after_rollback,
        second.committed_inserts,
        second.after_commit,
        second.after_failure,
    );
    assert_eq!(counts, (3, 3, 0, 1, 1, 1));

    // The tables were temporary, and are gone.
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ($1, $2)",
            &[&first.table, &second.table],
        )
        .await?
        .try_get(0)?;
    assert_eq!(left, 0);
    Ok(())
}

#[filch::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set DATABASE_URL (see README)"]
async fn notifications_arrive_in_order_with_their_payloads() -> Result<(), db::Error> {
    let url = db::database_url();
    let client = db::connect(&url).await?;
    let payloads = ["first", "second", "third, with spaces", ""];
    let report = db::listen_notify(&client, &url, &payloads).await?;
    let expected: Vec<db::Received> = payloads
        .iter()
        .map(|payload| db::Received {
            channel: report.channel.clone(),
            payload: (*payload).to_owned(),
            process_id: report.notifier_pid,
        })
        .collect();
    assert_eq!(report.received, expected);

    // A second round on the same notifying client gets its own channel.
    let again = db::listen_notify(&client, &url, &["again"]).await?;
    assert_ne!(again.channel, report.channel);
    assert_eq!(again.received.len(), 1);
    assert_eq!(again.received[0].payload, "again");
    Ok(())
}

// No server needed from here on.

#[filch::test]
async fn an_unreachable_server_is_reported_as_such_with_a_hint() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener.local_addr().expect("local address").port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    match db::connect(&url).await {
        Err(err @ ConnectError::Unreachable { .. }) => {
            let message = db::error_chain(&err);
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
            let ConnectError::Unreachable { source, .. } = &err else {
                unreachable!()
            };
            assert_eq!(
                source.kind(),
                std::io::ErrorKind::ConnectionRefused,
                "{message}"
            );
            assert!(err.hint().contains("DATABASE_URL"), "{}", err.hint());
        }
        Err(err) => panic!("expected Unreachable, got {err:?}"),
        Ok(_) => panic!("connected to a port nothing listens on"),
    }
}

#[filch::test]
async fn a_url_without_a_tcp_host_or_that_does_not_parse_is_a_bad_url() {
    for url in [
        "host=/var/run/postgresql user=postgres",
        "postgres://host:notaport/db",
    ] {
        match db::connect(url).await {
            Err(err @ ConnectError::BadUrl(_)) => {
                assert!(err.hint().contains("DATABASE_URL"), "{}", err.hint());
            }
            Err(err) => panic!("{url:?}: expected BadUrl, got {err:?}"),
            Ok(_) => panic!("{url:?}: connected"),
        }
    }
}
