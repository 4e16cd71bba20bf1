//! `filch::fs`: a large buffered round trip, seeks mixed with reads and writes, directory
//! listing, the free functions, and OS errors passed through intact.
use filch::fs::{self, File, OpenOptions};
use filch::runtime::{Builder, Runtime};
use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures::StreamExt;
use std::collections::BTreeSet;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("filch-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rt() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Deterministic bytes for chunk `index`.
fn fill_chunk(index: u64, chunk: &mut [u8]) {
    let mut x = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for word in chunk.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        word.copy_from_slice(&x.to_le_bytes()[..word.len()]);
    }
}

/// FNV-1a over 8-byte words (order-sensitive, cheap in debug builds).
fn checksum(mut hash: u64, bytes: &[u8]) -> u64 {
    for word in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..word.len()].copy_from_slice(word);
        hash ^= u64::from_le_bytes(w);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

#[test]
fn round_trip_64_mib_in_8_kib_chunks() {
    const CHUNK: usize = 8 * 1024;
    const SIZE: usize = 64 * 1024 * 1024;
    let dir = TempDir::new("roundtrip");
    let path = dir.join("big.bin");
    let begin = Instant::now();
    rt().block_on(async {
        let mut file = File::create(&path).await.unwrap();
        let mut chunk = vec![0u8; CHUNK];
        let mut written = 0xcbf2_9ce4_8422_2325;
        for i in 0..(SIZE / CHUNK) as u64 {
            fill_chunk(i, &mut chunk);
            written = checksum(written, &chunk);
            file.write_all(&chunk).await.unwrap();
        }
        file.close().await.unwrap();
        drop(file);
        assert_eq!(fs::metadata(&path).await.unwrap().len(), SIZE as u64);

        let mut file = File::open(&path).await.unwrap();
        let mut read = 0xcbf2_9ce4_8422_2325;
        let mut total = 0;
        loop {
            let n = file.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            read = checksum(read, &chunk[..n]);
            total += n;
        }
        assert_eq!(total, SIZE);
        assert_eq!(
            read, written,
            "the bytes read back differ from those written"
        );
    });
    eprintln!("64 MiB round trip: {:?}", begin.elapsed());
}

#[test]
fn read_exact_across_buffer_refills() {
    // Odd-sized reads straddle every read-ahead boundary (64 KiB, 128 KiB, ...).
    let dir = TempDir::new("straddle");
    let path = dir.join("data");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    rt().block_on(async {
        let mut file = File::open(&path).await.unwrap();
        let mut out = Vec::with_capacity(data.len());
        let mut piece = [0u8; 4099];
        loop {
            let n = file.read(&mut piece).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&piece[..n]);
        }
        assert!(out == data, "read back {} bytes that differ", out.len());
        // A large single read goes straight for the whole request.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut all = vec![0u8; data.len()];
        file.read_exact(&mut all).await.unwrap();
        assert!(all == data);
    });
}

/// `path` created (or truncated) and opened for reading and writing.
async fn create_read_write(path: &std::path::Path) -> filch::fs::File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .await
        .unwrap()
}

#[test]
fn seek_after_write_sees_the_written_bytes() {
    let dir = TempDir::new("seek-write");
    let path = dir.join("f");
    rt().block_on(async {
        let mut file = create_read_write(&path).await;
        file.write_all(b"hello world").await.unwrap();
        // No flush: the seek must write the buffer out first.
        assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
        let mut word = String::new();
        file.read_to_string(&mut word).await.unwrap();
        assert_eq!(word, "world");
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 11);

        // Write then read without a seek: the read starts after the written bytes.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        file.write_all(b"HELLO").await.unwrap();
        let mut rest = String::new();
        file.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, " world");
        file.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"HELLO world");
}

#[test]
fn write_after_read_lands_at_the_logical_position() {
    let dir = TempDir::new("read-write");
    let path = dir.join("f");
    std::fs::write(&path, b"0123456789").unwrap();
    rt().block_on(async {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut two = [0u8; 2];
        // The read-ahead takes the whole file; the OS cursor is at its end.
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"01");
        file.write_all(b"ab").await.unwrap();
        // A relative seek counts from the logical position, not the OS cursor.
        assert_eq!(file.seek(SeekFrom::Current(1)).await.unwrap(), 5);
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"56");
        file.close().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"01ab456789");
}

#[test]
fn set_len_metadata_and_into_std() {
    let dir = TempDir::new("set-len");
    let path = dir.join("f");
    rt().block_on(async {
        let mut file = create_read_write(&path).await;
        file.write_all(b"0123456789").await.unwrap();
        // metadata writes the buffer first.
        assert_eq!(file.metadata().await.unwrap().len(), 10);
        file.set_len(4).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 4);
        file.sync_all().await.unwrap();
        file.seek(SeekFrom::Start(1)).await.unwrap();
        let mut one = [0u8; 1];
        file.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"1");
        // The read-ahead is given back: std continues at logical position 2.
        let mut std_file = file.into_std().await.unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut std_file, &mut rest).unwrap();
        assert_eq!(rest, "23");
    });
}

#[test]
fn buffered_write_error_is_reported_by_flush() {
    let dir = TempDir::new("write-err");
    let path = dir.join("ro");
    std::fs::write(&path, b"x").unwrap();
    rt().block_on(async {
        // Opened read-only: the OS refuses the write when the buffer goes out.
        let mut file = File::open(&path).await.unwrap();
        assert_eq!(
            file.write(b"data").await.unwrap(),
            4,
            "the write is buffered"
        );
        let err = file.flush().await.unwrap_err();
        let expected = std::fs::File::open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"data"))
            .unwrap_err();
        assert_eq!(err.kind(), expected.kind());
        assert_eq!(err.raw_os_error(), expected.raw_os_error());
        // Reported once; the file is usable afterwards.
        file.flush().await.unwrap();
    });
}

#[test]
fn dropping_a_file_writes_its_buffer() {
    let dir = TempDir::new("drop-flush");
    let path = dir.join("f");
    let rt = rt();
    rt.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"kept").await.unwrap();
        drop(file);
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read(&path).unwrap() != b"kept" {
        assert!(
            Instant::now() < deadline,
            "the dropped file's buffer was never written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Outside any runtime the buffer is written on the spot.
    let mut file = rt.block_on(File::create(dir.join("g"))).unwrap();
    rt.block_on(file.write_all(b"inline")).unwrap();
    drop(file);
    assert_eq!(std::fs::read(dir.join("g")).unwrap(), b"inline");
}

#[test]
fn not_found_keeps_kind_and_os_error() {
    let dir = TempDir::new("not-found");
    let missing = dir.join("missing");
    let expected = std::fs::File::open(&missing).unwrap_err();
    rt().block_on(async {
        for err in [
            File::open(&missing).await.unwrap_err(),
            fs::read(&missing).await.unwrap_err(),
            fs::metadata(&missing).await.unwrap_err(),
            fs::remove_file(&missing).await.unwrap_err(),
            fs::read_dir(&missing).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::NotFound);
            assert_eq!(err.raw_os_error(), expected.raw_os_error());
            assert!(err.raw_os_error().is_some());
        }
    });
}

#[test]
fn read_dir_lists_every_created_file() {
    // More than one batch of 32.
    const FILES: usize = 100;
    let dir = TempDir::new("read-dir");
    let listed = rt().block_on(async {
        for i in 0..FILES {
            fs::write(dir.join(&format!("file-{i:03}")), i.to_string())
                .await
                .unwrap();
        }
        fs::create_dir(dir.join("sub")).await.unwrap();
        let mut entries = fs::read_dir(&dir.0).await.unwrap();
        let mut names = BTreeSet::new();
        while let Some(entry) = entries.next().await {
            let entry = entry.unwrap();
            assert_eq!(entry.path(), dir.0.join(entry.file_name()));
            let is_dir = entry.file_type().await.unwrap().is_dir();
            assert_eq!(is_dir, entry.file_name() == "sub");
            assert!(names.insert(entry.file_name().into_string().unwrap()));
        }
        assert!(
            entries.next().await.is_none(),
            "a finished stream stays finished"
        );
        names
    });
    let mut expected: BTreeSet<_> = (0..FILES).map(|i| format!("file-{i:03}")).collect();
    expected.insert("sub".to_owned());
    assert_eq!(listed, expected);
}

#[test]
fn metadata_rename_copy_and_remove() {
    let dir = TempDir::new("ops");
    rt().block_on(async {
        let a = dir.join("a.txt");
        fs::write(&a, "contents").await.unwrap();
        let meta = fs::metadata(&a).await.unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.len(), 8);

        let b = dir.join("b.txt");
        fs::rename(&a, &b).await.unwrap();
        assert_eq!(
            fs::metadata(&a).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(fs::read_to_string(&b).await.unwrap(), "contents");

        let c = dir.join("c.txt");
        assert_eq!(fs::copy(&b, &c).await.unwrap(), 8);
        assert_eq!(fs::read(&c).await.unwrap(), b"contents");

        fs::remove_file(&b).await.unwrap();
        assert!(!b.exists());

        let nested = dir.join("x/y/z");
        fs::create_dir_all(&nested).await.unwrap();
        assert!(fs::metadata(&nested).await.unwrap().is_dir());
        let canonical = fs::canonicalize(&nested).await.unwrap();
        assert!(canonical.is_absolute());
        assert_eq!(canonical, std::fs::canonicalize(&nested).unwrap());
        let err = fs::remove_dir(dir.join("x")).await.unwrap_err();
        assert_ne!(err.kind(), ErrorKind::NotFound, "x is not empty");
        fs::remove_dir(&nested).await.unwrap();
        fs::remove_dir_all(dir.join("x")).await.unwrap();
        assert!(!Path::new(&dir.join("x")).exists());
    });
}

#[test]
fn works_on_the_current_thread_flavor() {
    let dir = TempDir::new("current-thread");
    let path = dir.join("f");
    let rt = Builder::new_current_thread().build().unwrap();
    let text = rt.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"one thread").await.unwrap();
        file.close().await.unwrap();
        fs::read_to_string(&path).await.unwrap()
    });
    assert_eq!(text, "one thread");
}

#[test]
fn write_vectored_takes_every_buffer() {
    let dir = TempDir::new("vectored");
    let path = dir.join("f");
    let rt = rt();
    rt.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        let parts: [&[u8]; 3] = [b"one ", b"", b"two three"];
        let slices: Vec<_> = parts.iter().map(|p| std::io::IoSlice::new(p)).collect();
        // The trait's default writes only the first non-empty buffer.
        assert_eq!(file.write_vectored(&slices).await.unwrap(), 13);
        // Past the buffer's room (2 MiB), it takes what fits and says so.
        let big = vec![7u8; 3 * 1024 * 1024];
        let slices = [std::io::IoSlice::new(b"x"), std::io::IoSlice::new(&big)];
        let n = file.write_vectored(&slices).await.unwrap();
        assert!(n > 1 && n < 1 + big.len(), "took {n}");
        file.write_all(&big[n - 1..]).await.unwrap();
        file.flush().await.unwrap();
    });
    let written = std::fs::read(&path).unwrap();
    assert_eq!(&written[..14], b"one two threex");
    assert_eq!(written.len(), 14 + 3 * 1024 * 1024);
}

#[test]
fn handle_block_on_runs_fs_calls_from_plain_threads_and_blocking_jobs() {
    let dir = TempDir::new("handle-block-on");
    for current_thread in [true, false] {
        let rt = if current_thread {
            Builder::new_current_thread().build().unwrap()
        } else {
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap()
        };
        let path = dir.join(if current_thread { "ct" } else { "mt" });
        let handle = rt.handle().clone();
        let p = path.clone();
        // From a thread the runtime does not own.
        std::thread::spawn(move || {
            handle
                .block_on(fs::write(&p, b"from a plain thread"))
                .unwrap();
            assert_eq!(
                handle.block_on(fs::read(&p)).unwrap(),
                b"from a plain thread"
            );
        })
        .join()
        .unwrap();
        // From a blocking job of the runtime itself.
        let p = path.clone();
        let read = rt
            .block_on(
                rt.spawn_blocking(move || filch::runtime::Handle::current().block_on(fs::read(&p))),
            )
            .unwrap()
            .unwrap();
        assert_eq!(read, b"from a plain thread");
    }
}
