//! File-system benchmark: tmpfs through rump_server with the client
//! library, beside the same work on the host's own file system, and
//! beside the protocol's cost (round trips times a raw unix-socket
//! ping-pong measured in the same run).
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

/// Median time of a raw 24-byte request / 48-byte reply round trip.
fn raw_rtt(path: &str) -> Duration {
    let mut s = UnixStream::connect(path).unwrap();
    let mut req = [0u8; 24];
    req[0] = 24;
    let mut reply = [0u8; 48];
    let mut samples = Vec::new();
    for round in 0..7 {
        let n = 20_000;
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
    /// Protocol round trips per operation (0: a throughput row).
    trips: u32,
    per: usize,
}

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
    let host = dir.path().join("host");
    std::fs::create_dir(&host).unwrap();

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
        trips: 5,
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
        trips: 2,
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
        trips: 2,
        per: SEQ_BYTES / CALL,
    });
    rows.push(Row {
        what: "read 256 MiB in 64 KiB calls",
        rump: rump_r,
        host: host_r,
        trips: 1,
        per: SEQ_BYTES / CALL,
    });

    let rtt = raw_rtt(&raw_path);
    println!("tmpfs through rump_server (unix socket) beside the host's /tmp; raw ping-pong round trip {:.1} µs", rtt.as_secs_f64() * 1e6);
    println!();
    println!("| operation | rump_server | per op | host | round trips | protocol floor | ratio to floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let per = r.rump / r.per as u32;
        let floor = rtt * r.trips;
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
            r.trips,
            floor.as_secs_f64() * 1e6,
            per.as_secs_f64() / floor.as_secs_f64()
        );
    }
}
