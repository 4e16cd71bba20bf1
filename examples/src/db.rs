//! PostgreSQL over filch: [tokio-postgres] on filch's sockets and tasks, with no tokio
//! runtime anywhere.
//!
//! tokio-postgres is built without its `runtime` feature, so it never touches tokio's
//! reactor, timers or spawner: it needs only a stream implementing tokio's `AsyncRead` and
//! `AsyncWrite` traits and someone to poll its [`Connection`](tokio_postgres::Connection).
//! filch's [`TcpStream`] implements the `futures-io` traits, and
//! [`tokio_util::compat`] turns them into tokio's; `filch::spawn` polls the connection.
//!
//! The three workloads here are what the `db_queries` example runs and what the
//! `examples/tests/db.rs` tests check:
//!
//! - [`concurrent_queries`]: many tasks sharing one client (`Arc<Client>`), at most N queries
//!   in flight behind a [`Semaphore`], every result checked;
//! - [`transactions`]: a rolled-back, a committed and a failed (and so rolled-back)
//!   transaction on a temporary table, with the row counts each leaves;
//! - [`listen_notify`]: `LISTEN` on a second connection driven by hand with
//!   [`Connection::poll_message`](tokio_postgres::Connection::poll_message), notifications
//!   forwarded into an [`mpsc`] channel, `NOTIFY` from the first client.
//!
//! [tokio-postgres]: https://docs.rs/tokio-postgres

use filch::net::TcpStream;
use filch::sync::{mpsc, Semaphore};
use filch::task::JoinSet;
use filch::time::{timeout, Duration, Instant};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

/// The server used when `DATABASE_URL` is not set: a local server's `postgres` superuser
/// and database, over TCP on the default port.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long to wait for the TCP connection, and then for the startup handshake, unless the
/// URL sets `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`listen_notify`] waits for each notification.
pub const NOTIFICATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The error type of the workloads: any error, sendable between tasks.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A tokio-postgres connection over a filch TCP stream, without TLS.
pub type Connection = tokio_postgres::Connection<Compat<TcpStream>, NoTlsStream>;

/// An error and its chain of [`source`](std::error::Error::source)s, joined by `": "`:
/// tokio-postgres's errors say only what kind they are ("db error"), their sources say what
/// the server said.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `DATABASE_URL` from the environment, or [`DEFAULT_DATABASE_URL`] when it is unset or
/// empty.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
}

/// Why [`open`] or [`connect`] failed. Its messages never include the URL itself, which may
/// hold a password. As usual, the message does not repeat the underlying error (the
/// [`source`](std::error::Error::source)); [`error_chain`] writes both.
#[derive(Debug)]
pub enum ConnectError {
    /// The URL does not parse, or names no TCP host to connect to.
    BadUrl(String),
    /// No TCP connection could be made to any of the URL's addresses.
    Unreachable {
        /// Every `host:port` tried, in order.
        addrs: Vec<String>,
        /// The error of the last attempt.
        source: io::Error,
    },
    /// The TCP connection was made, but the server refused the startup handshake (an
    /// unknown user or database, a password needed, ...).
    Startup {
        /// The `host:port` connected to.
        addr: String,
        /// The server's (or the protocol's) error.
        source: tokio_postgres::Error,
    },
    /// The TCP connection was made, but the startup handshake did not finish in time.
    StartupTimedOut {
        /// The `host:port` connected to.
        addr: String,
    },
}

impl ConnectError {
    /// What the user can do about this error, in a sentence.
    pub fn hint(&self) -> &'static str {
        match self {
            ConnectError::BadUrl(_) => {
                "set DATABASE_URL to a URL such as postgres://postgres@127.0.0.1:5432/postgres \
                 (see README.md, \"Running the database example\")"
            }
            ConnectError::Unreachable { .. } | ConnectError::StartupTimedOut { .. } => {
                "start a PostgreSQL server, or set DATABASE_URL to one you can reach, e.g. \
                 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (README.md, \
                 \"Running the database example\", starts a throwaway one)"
            }
            ConnectError::Startup { .. } => {
                "check the user, password and database in DATABASE_URL, and that the server \
                 lets that user in over TCP (pg_hba.conf); see README.md, \"Running the \
                 database example\""
            }
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::BadUrl(reason) => write!(f, "bad DATABASE_URL: {reason}"),
            ConnectError::Unreachable { addrs, .. } => {
                write!(f, "cannot reach PostgreSQL at {}", addrs.join(", "))
            }
            ConnectError::Startup { addr, .. } => {
                write!(f, "PostgreSQL at {addr} refused the connection")
            }
            ConnectError::StartupTimedOut { addr } => {
                write!(
                    f,
                    "PostgreSQL at {addr} accepted the connection but did not answer"
                )
            }
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Unreachable { source, .. } => Some(source),
            ConnectError::Startup { source, .. } => Some(source),
            ConnectError::BadUrl(_) | ConnectError::StartupTimedOut { .. } => None,
        }
    }
}

/// The `(host, port)` pairs a config asks for, in order: its `hostaddr`s if it has any,
/// else its TCP hosts (Unix-socket hosts are skipped: this module connects over TCP).
fn tcp_targets(config: &Config) -> Result<Vec<(String, u16)>, ConnectError> {
    let hosts: Vec<String> = if config.get_hostaddrs().is_empty() {
        config
            .get_hosts()
            .iter()
            .filter_map(|host| match host {
                Host::Tcp(name) => Some(name.clone()),
                #[cfg(unix)]
                Host::Unix(_) => None,
            })
            .collect()
    } else {
        let addrs = config.get_hostaddrs().iter();
        addrs.map(|ip| ip.to_string()).collect()
    };
    if hosts.is_empty() {
        return Err(ConnectError::BadUrl(
            "it names no TCP host (a Unix-socket directory does not work here: this example \
             connects over TCP)"
                .to_owned(),
        ));
    }
    let ports = config.get_ports();
    // As in libpq: no port means 5432, one port is every host's, else one port per host.
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    Ok(hosts
        .into_iter()
        .enumerate()
        .map(|(i, host)| (host, port(i)))
        .collect())
}

fn display_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}") // an IPv6 address
    } else {
        format!("{host}:{port}")
    }
}

/// Connects to the server at `url` (a `postgres://` URL or a `key=value` string) and returns
/// the client and its connection, which the caller must poll (await it, spawn it, or drive
/// it with `poll_message`) for the client to make progress.
///
/// The URL's hosts are tried in order until a TCP connection succeeds; the startup
/// handshake then runs on that one.
pub async fn open(url: &str) -> Result<(Client, Connection), ConnectError> {
    let config: Config = url
        .parse()
        .map_err(|err: tokio_postgres::Error| ConnectError::BadUrl(error_chain(&err)))?;
    let limit = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let targets = tcp_targets(&config)?;
    let mut tried = Vec::with_capacity(targets.len());
    let mut last_error = None;
    for (host, port) in targets {
        let addr = display_addr(&host, port);
        tried.push(addr.clone());
        let stream = match timeout(limit, TcpStream::connect((host, port))).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                last_error = Some(err);
                continue;
            }
            Err(elapsed) => {
                last_error = Some(io::Error::from(elapsed));
                continue;
            }
        };
        // One small message per query, each waited on: do not let Nagle hold them back.
        if let Err(err) = stream.set_nodelay(true) {
            last_error = Some(err);
            continue;
        }
        return match timeout(limit, config.connect_raw(stream.compat(), NoTls)).await {
            Ok(Ok(pair)) => Ok(pair),
            Ok(Err(source)) => Err(ConnectError::Startup { addr, source }),
            Err(_) => Err(ConnectError::StartupTimedOut { addr }),
        };
    }
    Err(ConnectError::Unreachable {
        addrs: tried,
        source: last_error.unwrap_or_else(|| io::Error::other("no address to try")),
    })
}

/// Connects to the server at `url` and spawns a filch task that drives the connection until
/// the client (and every clone of it) is dropped. An error that ends the connection is
/// printed to stderr, and the client's next query fails with it.
pub async fn connect(url: &str) -> Result<Client, ConnectError> {
    let (client, connection) = open(url).await?;
    filch::spawn(async move {
        if let Err(err) = connection.await {
            eprintln!("the PostgreSQL connection closed with an error: {err}");
        }
    });
    Ok(client)
}

/// What [`concurrent_queries`] did.
#[derive(Debug, Clone)]
pub struct QueryReport {
    /// Queries run, every one answered with the expected result.
    pub queries: usize,
    /// Tasks that shared the client.
    pub tasks: usize,
    /// The semaphore's permits: the most queries allowed in flight at once.
    pub max_in_flight: usize,
    /// The most queries that were in flight at once.
    pub peak_in_flight: usize,
    /// Wall time from the first query to the last answer.
    pub elapsed: Duration,
}

impl QueryReport {
    /// Queries answered per second.
    pub fn per_second(&self) -> f64 {
        self.queries as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `queries` queries (`SELECT $1::INT4 * 2` for `$1` = 0, 1, 2, ...) from `tasks` tasks
/// sharing `client`, at most `max_in_flight` at once, and checks every answer.
///
/// The statement is prepared once; queries in flight at the same time are pipelined on the
/// one connection. Fails at the first error or wrong answer (the other tasks are then
/// aborted).
pub async fn concurrent_queries(
    client: Arc<Client>,
    queries: usize,
    tasks: usize,
    max_in_flight: usize,
) -> Result<QueryReport, Error> {
    if tasks == 0 || max_in_flight == 0 {
        return Err("concurrent_queries needs at least one task and one permit".into());
    }
    let double = client.prepare("SELECT $1::INT4 * 2").await?;
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for task in 0..tasks {
        let (client, double) = (client.clone(), double.clone());
        let (permits, in_flight, peak) = (permits.clone(), in_flight.clone(), peak.clone());
        // Task `task` runs queries task, task + tasks, task + 2 * tasks, ...
        workers.spawn(async move {
            let mut answered = 0usize;
            for n in (task..queries).step_by(tasks) {
                let n = i32::try_from(n)?;
                let _permit = permits.acquire().await?;
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let row = client.query_one(&double, &[&n]).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let doubled: i32 = row?.try_get(0)?;
                if i64::from(doubled) != 2 * i64::from(n) {
                    return Err(format!("SELECT {n}::INT4 * 2 answered {doubled}").into());
                }
                answered += 1;
            }
            Ok::<_, Error>(answered)
        });
    }
    let mut answered = 0;
    while let Some(joined) = workers.join_next().await {
        answered += joined??;
    }
    let elapsed = started.elapsed();
    if answered != queries {
        return Err(format!("{answered} of {queries} queries were answered").into());
    }
    Ok(QueryReport {
        queries: answered,
        tasks,
        max_in_flight,
        peak_in_flight: peak.load(Ordering::SeqCst),
        elapsed,
    })
}

/// What [`transactions`] did, and the row counts each step left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionReport {
    /// The temporary table the transactions wrote to (dropped again at the end).
    pub table: String,
    /// Rows the rolled-back transaction inserted.
    pub rolled_back_inserts: u64,
    /// Rows that transaction saw in the table just before it rolled back.
    pub seen_before_rollback: i64,
    /// Rows in the table after the rollback.
    pub after_rollback: i64,
    /// Rows the committed transaction inserted.
    pub committed_inserts: u64,
    /// Rows in the table after the commit.
    pub after_commit: i64,
    /// The server's message for the failed transaction's duplicate key.
    pub failure: String,
    /// Rows in the table after the failed transaction was dropped (and so rolled back).
    pub after_failure: i64,
}

/// Creates a temporary table and runs three transactions on it: one inserts
/// `rolled_back_rows` rows and rolls back, one inserts `committed_rows` rows and commits,
/// and one inserts a new row and then a duplicate key, fails, and is dropped, which rolls
/// it back. Counts the table's rows after each. Needs `committed_rows >= 1` (the duplicate
/// is of a committed row).
pub async fn transactions(
    client: &mut Client,
    rolled_back_rows: u32,
    committed_rows: u32,
) -> Result<TransactionReport, Error> {
    if committed_rows == 0 {
        return Err("transactions needs at least one committed row".into());
    }
    // Temporary tables are private to their session; the counter tells apart the tables of
    // several runs on one client.
    static TABLES: AtomicU64 = AtomicU64::new(0);
    let table = format!(
        "filch_demo_{}_{}",
        std::process::id(),
        TABLES.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!(
            "CREATE TEMPORARY TABLE {table} (id INT4 PRIMARY KEY, note TEXT NOT NULL)"
        ))
        .await?;
    let insert_sql = format!("INSERT INTO {table} (id, note) VALUES ($1, $2)");
    let count_sql = format!("SELECT count(*) FROM {table}");

    // 1. Insert, look, roll back.
    let transaction = client.transaction().await?;
    let insert = transaction.prepare(&insert_sql).await?;
    let mut rolled_back_inserts = 0;
    for id in 1..=rolled_back_rows {
        let id = i32::try_from(id)?;
        let note = format!("rolled back {id}");
        rolled_back_inserts += transaction.execute(&insert, &[&id, &note]).await?;
    }
    let seen_before_rollback: i64 = transaction.query_one(&count_sql, &[]).await?.try_get(0)?;
    transaction.rollback().await?;
    let after_rollback: i64 = client.query_one(&count_sql, &[]).await?.try_get(0)?;

    // 2. Insert and commit.
    let transaction = client.transaction().await?;
    let insert = transaction.prepare(&insert_sql).await?;
    let mut committed_inserts = 0;
    for id in 1..=committed_rows {
        let id = i32::try_from(id)?;
        let note = format!("committed {id}");
        committed_inserts += transaction.execute(&insert, &[&id, &note]).await?;
    }
    transaction.commit().await?;
    let after_commit: i64 = client.query_one(&count_sql, &[]).await?.try_get(0)?;

    // 3. A new row, then a committed row's key again: the statement fails, the transaction
    // is aborted, and dropping it rolls it back (the new row goes too).
    let transaction = client.transaction().await?;
    let insert = transaction.prepare(&insert_sql).await?;
    let new_id = i32::try_from(committed_rows)? + 1;
    transaction.execute(&insert, &[&new_id, &"kept?"]).await?;
    let failure = match transaction.execute(&insert, &[&1i32, &"duplicate"]).await {
        Ok(_) => return Err("inserting a duplicate primary key succeeded".into()),
        Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => match err.as_db_error() {
            Some(db) => db.message().to_owned(),
            None => err.to_string(),
        },
        Err(err) => return Err(err.into()),
    };
    drop(transaction);
    let after_failure: i64 = client.query_one(&count_sql, &[]).await?.try_get(0)?;

    client.batch_execute(&format!("DROP TABLE {table}")).await?;
    Ok(TransactionReport {
        table,
        rolled_back_inserts,
        seen_before_rollback,
        after_rollback,
        committed_inserts,
        after_commit,
        failure,
        after_failure,
    })
}

/// One notification as [`listen_notify`] received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The channel it was sent on.
    pub channel: String,
    /// Its payload.
    pub payload: String,
    /// The process id of the server backend that sent it.
    pub process_id: i32,
}

/// What [`listen_notify`] did.
#[derive(Debug, Clone)]
pub struct NotifyReport {
    /// The channel listened on.
    pub channel: String,
    /// The server backend process id of the notifying client's session.
    pub notifier_pid: i32,
    /// The notifications received, in the order they arrived.
    pub received: Vec<Received>,
    /// Wall time from the first `NOTIFY` to the last notification received.
    pub elapsed: Duration,
}

/// Opens a second connection to `url`, `LISTEN`s on a fresh channel there, sends each of
/// `payloads` with `NOTIFY` (`pg_notify`) from `notifier`, and receives them.
///
/// The listening connection is driven by hand, by a filch task that calls
/// [`Connection::poll_message`](tokio_postgres::Connection::poll_message) and forwards each
/// [`AsyncMessage::Notification`] into an [`mpsc`] channel; each is waited for with
/// [`timeout`] ([`NOTIFICATION_TIMEOUT`]). Payloads should differ: the server folds equal
/// notifications of one transaction into one.
pub async fn listen_notify(
    notifier: &Client,
    url: &str,
    payloads: &[&str],
) -> Result<NotifyReport, Error> {
    let (listener, mut connection) = open(url).await?;
    let (notifications, mut inbox) = mpsc::channel(16);
    let driver = filch::spawn(async move {
        // Polling for messages is also what sends the listener's queries and reads their
        // answers: `Connection`'s own `Future` impl is this loop, dropping notifications.
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            let notification = match message? {
                AsyncMessage::Notification(notification) => notification,
                AsyncMessage::Notice(notice) => {
                    eprintln!("server notice: {}: {}", notice.severity(), notice.message());
                    continue;
                }
                _ => continue, // `AsyncMessage` is non-exhaustive
            };
            if notifications.send(notification).await.is_err() {
                break; // nobody is listening any more
            }
        }
        Ok::<_, tokio_postgres::Error>(())
    });

    static CHANNELS: AtomicU64 = AtomicU64::new(0);
    let channel = format!(
        "filch_demo_{}_{}",
        std::process::id(),
        CHANNELS.fetch_add(1, Ordering::Relaxed)
    );
    listener.batch_execute(&format!("LISTEN {channel}")).await?;
    let notifier_pid: i32 = notifier
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .try_get(0)?;

    let started = Instant::now();
    for payload in payloads {
        notifier
            .execute("SELECT pg_notify($1, $2)", &[&channel, payload])
            .await?;
    }
    let mut received = Vec::with_capacity(payloads.len());
    for _ in payloads {
        match timeout(NOTIFICATION_TIMEOUT, inbox.recv()).await {
            Ok(Some(notification)) => received.push(Received {
                channel: notification.channel().to_owned(),
                payload: notification.payload().to_owned(),
                process_id: notification.process_id(),
            }),
            // The driver stopped: say why.
            Ok(None) => {
                driver.await??;
                return Err("the listening connection closed".into());
            }
            Err(_) => {
                return Err(format!(
                    "notification {} of {} did not arrive within {NOTIFICATION_TIMEOUT:?}",
                    received.len() + 1,
                    payloads.len()
                )
                .into())
            }
        }
    }
    let elapsed = started.elapsed();

    // Dropping the listener's client ends its connection, and with it the driver.
    drop(listener);
    drop(inbox);
    timeout(Duration::from_secs(5), driver)
        .await
        .map_err(|_| "the listening connection did not close within 5 s")???;
    Ok(NotifyReport {
        channel,
        notifier_pid,
        received,
        elapsed,
    })
}
