//! Child processes with `filch::process`: a filter fed through its pipes, a batch of
//! commands run concurrently, and a timeout that kills a command running too long.
//!
//! Run it with `cargo run --example subprocess` (needs `sort`, `sh` and `sleep`).
use filch::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use filch::process::Command;
use filch::task::JoinSet;
use filch::time::{timeout, Duration};
use std::process::Stdio;

#[filch::main]
async fn main() -> std::io::Result<()> {
    // 1. A filter: write lines to `sort` from one task while this one reads them back.
    let mut sort = Command::new("sort")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = sort.stdin.take().expect("stdin is piped");
    let writer = filch::spawn(async move {
        for word in ["pear", "apple", "fig", "banana"] {
            stdin.write_all(format!("{word}\n").as_bytes()).await?;
        }
        stdin.close().await // end of input: sort prints now
    });
    let mut reader = BufReader::new(sort.stdout.take().expect("stdout is piped"));
    let mut sorted = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).await? > 0 {
        sorted.push(line.trim_end().to_owned());
        line.clear();
    }
    writer.await.expect("writer task panicked")?;
    let status = sort.wait().await?;
    println!("1. sort ({status}): {}", sorted.join(", "));

    // 2. Ten commands at once; each `output()` collects stdout, stderr and the status.
    let mut set = JoinSet::new();
    for i in 0..10 {
        set.spawn(async move {
            let script = format!("echo job {i}; exit {}", i % 3);
            let out = Command::new("sh").args(["-c", &script]).output().await?;
            std::io::Result::Ok((i, out))
        });
    }
    let mut failed = 0;
    while let Some(result) = set.join_next().await {
        let (_, out) = result.expect("task panicked")?;
        if !out.status.success() {
            failed += 1;
        }
    }
    println!("2. ran 10 commands concurrently, {failed} exited non-zero");

    // 3. A deadline: `kill` sends SIGKILL and reaps the child.
    let mut slow = Command::new("sleep").arg("60").spawn()?;
    if timeout(Duration::from_millis(200), slow.wait())
        .await
        .is_err()
    {
        slow.kill().await?;
        println!(
            "3. sleep 60 timed out and was killed: {}",
            slow.wait().await?
        );
    }
    Ok(())
}
