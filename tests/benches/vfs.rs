//! File-system benchmark: tmpfs through rump_server with the client
//! library, beside the same work on the host's own tmpfs (/dev/shm), and
//! beside the protocol's cost: the same round trips, carrying the same
//! bytes, on a raw unix-socket ping-pong measured in the same run.
//!
//! Run with `make bench` (or `cargo bench -p rump-tests --bench vfs` after
//! a release build of the workspace).

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::TmpfsArgs;
use rump_tests::{artifacts, Client};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 10_000;
const SEQ_BYTES: usize = 256 << 20;
const CALL: usize = 64 << 10;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_socket(path: &str) {
    for _ in 0..500 {
        if UnixStream::connect(path).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{path} never listened");
}

/// Median time of a raw round trip that sends `up` bytes and receives
/// `down` bytes (see the pingpong helper).
fn raw_rtt(path: &str, up: usize, down: usize) -> Duration {
    let mut s = UnixStream::connect(path).unwrap();
    let up = up.max(24);
    let mut req = vec![0u8; up];
    req[..8].copy_from_slice(&(up as u64).to_le_bytes());
    req[8..16].copy_from_slice(&(down as u64).to_le_bytes());
    let mut reply = vec![0u8; down];
    let mut samples = Vec::new();
    let n = if up + down > 4096 { 2_000 } else { 20_000 };
    for round in 0..7 {
        let t = Instant::now();
        for _ in 0..n {
            s.write_all(&req).unwrap();
            s.read_exact(&mut reply).unwrap();
        }
        if round > 0 {
            samples.push(t.elapsed() / n);
        }
    }
    samples.sort();
    samples[samples.len() / 2]
}

struct Row {
    what: &'static str,
    rump: Duration,
    host: Duration,
    /// The round trips of one operation, as (bytes up, bytes down).
    trips: &'static [(usize, usize)],
    per: usize,
}

/// Frame sizes of the protocol: a syscall request with `n` argument
/// words, a reply, a copy-in request, and a copy answer or copy-out
/// header (each followed by its data).
const fn call(n: usize) -> usize {
    24 + 8 * n
}
const REPLY: usize = 48;
const COPYIN_REQ: usize = 40;
const COPY_HDR: usize = 24;
const PATH: usize = 16;

/// open(path) + write(4 KiB) + close: open copies its path in.
const CREATE_TRIPS: &[(usize, usize)] = &[
    (call(3), COPYIN_REQ),
    (COPY_HDR + PATH, REPLY),
    (call(3), COPYIN_REQ),
    (COPY_HDR + 4096, REPLY),
    (call(1), REPLY),
];
/// stat(path): the path in, the stat structure out with the reply.
const STAT_TRIPS: &[(usize, usize)] = &[(call(2), COPYIN_REQ), (COPY_HDR + PATH, 40 + 152 + REPLY)];
const WRITE_TRIPS: &[(usize, usize)] = &[(call(3), COPYIN_REQ), (COPY_HDR + CALL, REPLY)];
const READ_TRIPS: &[(usize, usize)] = &[(call(3), 40 + CALL + REPLY)];

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("rvb")
        .tempdir_in("/tmp")
        .unwrap();
    let raw_path = dir.path().join("raw").display().to_string();
    let sock = dir.path().join("rump").display().to_string();
    let _raw = Proc(
        Command::new(artifacts().join("pingpong"))
            .args(["serve", &raw_path])
            .spawn()
            .unwrap(),
    );
    let vfs = artifacts().join("librumpvfs.so");
    let tmpfs = artifacts().join("librumpfs_tmpfs.so");
    let _srv = Proc(
        Command::new(artifacts().join("rump_server"))
            .args([
                "-s",
                "-l",
                vfs.to_str().unwrap(),
                "-l",
                tmpfs.to_str().unwrap(),
                &format!("unix://{sock}"),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_socket(&raw_path);
    wait_socket(&sock);
    let c = Client::connect(&format!("unix://{sock}"), "bench").unwrap();
    c.mkdir(b"/mnt", 0o755).unwrap();
    let mut args = TmpfsArgs {
        version: 1,
        root_mode: 0o755,
        ..Default::default()
    }
    .encode()
    .to_vec();
    c.mount(b"tmpfs", b"/mnt", 0, &mut args).unwrap();
    let shm = std::path::Path::new("/dev/shm");
    let host_dir = tempfile::Builder::new()
        .prefix("rvb")
        .tempdir_in(if shm.is_dir() { shm } else { dir.path() })
        .unwrap();
    let host = host_dir.path();

    let data4k = vec![0x5au8; 4096];
    let mut rows = Vec::new();

    // Create, write 4 KiB, close.
    let t = Instant::now();
    for i in 0..FILES {
        let fd = c
            .open(
                format!("/mnt/f{i}").as_bytes(),
                O_WRONLY | O_CREAT | O_TRUNC,
                0o644,
            )
            .unwrap();
        c.write(fd, &data4k).unwrap();
        c.close(fd).unwrap();
    }
    let rump = t.elapsed();
    let t = Instant::now();
    for i in 0..FILES {
        let mut f = std::fs::File::create(host.join(format!("f{i}"))).unwrap();
        f.write_all(&data4k).unwrap();
    }
    rows.push(Row {
        what: "create + write 4 KiB + close",
        rump,
        host: t.elapsed(),
        trips: CREATE_TRIPS,
        per: FILES,
    });

    // stat.
    let t = Instant::now();
    for i in 0..FILES {
        c.stat(format!("/mnt/f{i}").as_bytes()).unwrap();
    }
    let rump = t.elapsed();
    let t = Instant::now();
    for i in 0..FILES {
        std::fs::metadata(host.join(format!("f{i}"))).unwrap();
    }
    rows.push(Row {
        what: "stat",
        rump,
        host: t.elapsed(),
        trips: STAT_TRIPS,
        per: FILES,
    });

    // Sequential write and read in 64 KiB calls.
    let block: Vec<u8> = (0..CALL).map(|i| (i % 253) as u8).collect();
    let fd = c
        .open(b"/mnt/seq", O_RDWR | O_CREAT | O_TRUNC, 0o644)
        .unwrap();
    let t = Instant::now();
    for _ in 0..SEQ_BYTES / CALL {
        c.write(fd, &block).unwrap();
    }
    let rump_w = t.elapsed();
    c.lseek(fd, 0, SEEK_SET).unwrap();
    let mut buf = vec![0u8; CALL];
    let t = Instant::now();
    for _ in 0..SEQ_BYTES / CALL {
        assert_eq!(c.read(fd, &mut buf).unwrap(), CALL);
    }
    let rump_r = t.elapsed();
    c.close(fd).unwrap();
    let mut f = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(host.join("seq"))
        .unwrap();
    let t = Instant::now();
    for _ in 0..SEQ_BYTES / CALL {
        f.write_all(&block).unwrap();
    }
    let host_w = t.elapsed();
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    let t = Instant::now();
    for _ in 0..SEQ_BYTES / CALL {
        f.read_exact(&mut buf).unwrap();
    }
    let host_r = t.elapsed();
    rows.push(Row {
        what: "write 256 MiB in 64 KiB calls",
        rump: rump_w,
        host: host_w,
        trips: WRITE_TRIPS,
        per: SEQ_BYTES / CALL,
    });
    rows.push(Row {
        what: "read 256 MiB in 64 KiB calls",
        rump: rump_r,
        host: host_r,
        trips: READ_TRIPS,
        per: SEQ_BYTES / CALL,
    });

    println!(
        "tmpfs through rump_server (unix socket) beside the host's tmpfs ({}); \
         floor: the same round trips on a raw unix-socket ping-pong",
        host.display()
    );
    println!();
    println!("| operation | rump_server | per op | host | round trips | protocol floor | ratio to floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let per = r.rump / r.per as u32;
        let floor: Duration = r
            .trips
            .iter()
            .map(|&(up, down)| raw_rtt(&raw_path, up, down))
            .sum();
        let seq = r.what.contains("256 MiB");
        let (rump_s, host_s) = if seq {
            (
                format!("{:.0} MB/s", SEQ_BYTES as f64 / r.rump.as_secs_f64() / 1e6),
                format!("{:.0} MB/s", SEQ_BYTES as f64 / r.host.as_secs_f64() / 1e6),
            )
        } else {
            (
                format!("{:.0}/s", r.per as f64 / r.rump.as_secs_f64()),
                format!("{:.0}/s", r.per as f64 / r.host.as_secs_f64()),
            )
        };
        println!(
            "| {} | {} | {:.1} µs | {} | {} | {:.1} µs | {:.2}x |",
            r.what,
            rump_s,
            per.as_secs_f64() * 1e6,
            host_s,
            r.trips.len(),
            floor.as_secs_f64() * 1e6,
            per.as_secs_f64() / floor.as_secs_f64()
        );
    }
}
