//! File-system benchmark: tmpfs through rump_server with the client
//! library, beside the same work on the host's own file systems (its
//! tmpfs, /dev/shm, and /tmp), and beside the protocol's cost: the same
//! round trips, carrying the same bytes, on a raw unix-socket ping-pong
//! measured after each run. Each figure is the median of three runs.
//!
//! Run with `make bench` (or `cargo bench -p rump-tests --bench vfs` after
//! a release build of the workspace).

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::TmpfsArgs;
use rump_tests::{artifacts, Client};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 10_000;
const SEQ_BYTES: usize = 256 << 20;
const CALL: usize = 64 << 10;
const RUNS: usize = 3;

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

/// The file operations the benchmark times, on the kernel or the host.
trait Files {
    /// Creates `name`, writes `data` to it and closes it.
    fn create(&self, name: &str, data: &[u8]);
    fn stat(&self, name: &str);
    /// Writes `total` bytes to `name` in `block`-sized calls, then reads
    /// them back in calls of the same size; returns both times.
    fn stream(&self, name: &str, block: &[u8], total: usize) -> (Duration, Duration);
    fn remove(&self, name: &str);
}

/// Files under a directory of the kernel, through the client library.
struct Kernel<'a>(&'a Client, String);

impl Files for Kernel<'_> {
    fn create(&self, name: &str, data: &[u8]) {
        let path = format!("{}/{name}", self.1);
        let fd = self
            .0
            .open(path.as_bytes(), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            .unwrap();
        self.0.write(fd, data).unwrap();
        self.0.close(fd).unwrap();
    }

    fn stat(&self, name: &str) {
        self.0
            .stat(format!("{}/{name}", self.1).as_bytes())
            .unwrap();
    }

    fn stream(&self, name: &str, block: &[u8], total: usize) -> (Duration, Duration) {
        let path = format!("{}/{name}", self.1);
        let c = self.0;
        let fd = c
            .open(path.as_bytes(), O_RDWR | O_CREAT | O_TRUNC, 0o644)
            .unwrap();
        let t = Instant::now();
        for _ in 0..total / block.len() {
            c.write(fd, block).unwrap();
        }
        let w = t.elapsed();
        c.lseek(fd, 0, SEEK_SET).unwrap();
        let mut buf = vec![0u8; block.len()];
        let t = Instant::now();
        for _ in 0..total / block.len() {
            assert_eq!(c.read(fd, &mut buf).unwrap(), block.len());
        }
        let r = t.elapsed();
        c.close(fd).unwrap();
        (w, r)
    }

    fn remove(&self, name: &str) {
        self.0
            .unlink(format!("{}/{name}", self.1).as_bytes())
            .unwrap();
    }
}

/// Files under a directory of the host.
struct Host(std::path::PathBuf);

impl Files for Host {
    fn create(&self, name: &str, data: &[u8]) {
        let mut f = std::fs::File::create(self.0.join(name)).unwrap();
        f.write_all(data).unwrap();
    }

    fn stat(&self, name: &str) {
        std::fs::metadata(self.0.join(name)).unwrap();
    }

    fn stream(&self, name: &str, block: &[u8], total: usize) -> (Duration, Duration) {
        let mut f = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.0.join(name))
            .unwrap();
        let t = Instant::now();
        for _ in 0..total / block.len() {
            f.write_all(block).unwrap();
        }
        let w = t.elapsed();
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut buf = vec![0u8; block.len()];
        let t = Instant::now();
        for _ in 0..total / block.len() {
            f.read_exact(&mut buf).unwrap();
        }
        (w, t.elapsed())
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.0.join(name)).unwrap();
    }
}

/// The four measurements of one run: create, stat, write, read.
fn run(files: &dyn Files, round: usize) -> [Duration; 4] {
    let data4k = vec![0x5au8; 4096];
    let t = Instant::now();
    for i in 0..FILES {
        files.create(&format!("r{round}f{i}"), &data4k);
    }
    let create = t.elapsed();
    let t = Instant::now();
    for i in 0..FILES {
        files.stat(&format!("r{round}f{i}"));
    }
    let stat = t.elapsed();
    let block: Vec<u8> = (0..CALL).map(|i| (i % 253) as u8).collect();
    let (write, read) = files.stream("seq", &block, SEQ_BYTES);
    files.remove("seq");
    [create, stat, write, read]
}

/// The median of each measurement over [`RUNS`] runs; `between` runs
/// after each run (to interleave other measurements with them).
fn median_runs(files: &dyn Files, mut between: impl FnMut()) -> [Duration; 4] {
    let runs: Vec<[Duration; 4]> = (0..RUNS)
        .map(|r| {
            let m = run(files, r);
            between();
            m
        })
        .collect();
    medians(&runs)
}

fn medians(runs: &[[Duration; 4]]) -> [Duration; 4] {
    std::array::from_fn(|i| {
        let mut v: Vec<Duration> = runs.iter().map(|r| r[i]).collect();
        v.sort();
        v[v.len() / 2]
    })
}

struct Row {
    what: &'static str,
    /// The round trips of one operation, as (bytes up, bytes down).
    trips: &'static [(usize, usize)],
    /// Operations per run (bytes for a transfer row).
    per: usize,
    transfer: bool,
}

const ROWS: [Row; 4] = [
    Row {
        what: "create + write 4 KiB + close",
        trips: CREATE_TRIPS,
        per: FILES,
        transfer: false,
    },
    Row {
        what: "stat",
        trips: STAT_TRIPS,
        per: FILES,
        transfer: false,
    },
    Row {
        what: "write 256 MiB in 64 KiB calls",
        trips: WRITE_TRIPS,
        per: SEQ_BYTES / CALL,
        transfer: true,
    },
    Row {
        what: "read 256 MiB in 64 KiB calls",
        trips: READ_TRIPS,
        per: SEQ_BYTES / CALL,
        transfer: true,
    },
];

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
    // The floor of each row, measured after each run of the server.
    let mut floors = Vec::new();
    let rump = median_runs(&Kernel(&c, "/mnt".into()), || {
        floors.push(ROWS.map(|r| {
            r.trips
                .iter()
                .map(|&(up, down)| raw_rtt(&raw_path, up, down))
                .sum::<Duration>()
        }))
    });
    let floor = medians(&floors);
    let shm = tempfile::Builder::new()
        .prefix("rvb")
        .tempdir_in("/dev/shm");
    let shm_dir = shm.as_ref().map(|d| d.path().to_path_buf());
    let host_shm = shm_dir
        .as_ref()
        .ok()
        .map(|d| median_runs(&Host(d.clone()), || ()));
    let disk = dir.path().join("host");
    std::fs::create_dir(&disk).unwrap();
    let host_tmp = median_runs(&Host(disk), || ());

    println!(
        "tmpfs through rump_server (unix socket) beside the host's tmpfs (/dev/shm) and /tmp; \
         floor: the same round trips on a raw unix-socket ping-pong; medians of {RUNS} runs"
    );
    println!();
    println!("| operation | rump_server | per op | host tmpfs | host /tmp | round trips | protocol floor | ratio to floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (i, r) in ROWS.iter().enumerate() {
        let rate = |d: Duration| {
            if r.transfer {
                format!("{:.0} MB/s", SEQ_BYTES as f64 / d.as_secs_f64() / 1e6)
            } else {
                format!("{:.0}/s", r.per as f64 / d.as_secs_f64())
            }
        };
        let per = rump[i] / r.per as u32;
        println!(
            "| {} | {} | {:.1} µs | {} | {} | {} | {:.1} µs | {:.2}x |",
            r.what,
            rate(rump[i]),
            per.as_secs_f64() * 1e6,
            host_shm.map_or("-".into(), |h| rate(h[i])),
            rate(host_tmp[i]),
            r.trips.len(),
            floor[i].as_secs_f64() * 1e6,
            per.as_secs_f64() / floor[i].as_secs_f64()
        );
    }
}
