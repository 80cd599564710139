//! File-system benchmark: tmpfs through rump_server with the client
//! library, beside the same work on the host's own file systems (its
//! tmpfs, /dev/shm, and /tmp), and beside the protocol's cost: the same
//! round trips, carrying the same bytes (and copying file data once, as a
//! file system must), on a raw unix-socket ping-pong, measured in slices
//! that alternate with the server's. Each figure is the median of three
//! runs.
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
/// Slices of each row, alternating with slices of its floor.
const SLICES: usize = 10;

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

/// A connection to the raw ping-pong server, which plays an operation's
/// round trips with the bytes they carry (see the pingpong helper).
struct Raw {
    s: UnixStream,
    req: Vec<u8>,
    reply: Vec<u8>,
}

impl Raw {
    fn connect(path: &str) -> Raw {
        Raw {
            s: UnixStream::connect(path).unwrap(),
            req: Vec::new(),
            reply: Vec::new(),
        }
    }

    /// Plays the round trips `trips` `n` times; returns the time taken.
    fn play(&mut self, trips: &[Trip], n: usize) -> Duration {
        let t = Instant::now();
        for _ in 0..n {
            for &(up, down, copy) in trips {
                let up = up.max(24);
                self.req.resize(up, 0);
                self.req[..8].copy_from_slice(&(up as u64).to_le_bytes());
                self.req[8..16].copy_from_slice(&(down as u64).to_le_bytes());
                self.req[16..24].copy_from_slice(&copy.to_le_bytes());
                self.reply.resize(down, 0);
                self.s.write_all(&self.req).unwrap();
                self.s.read_exact(&mut self.reply).unwrap();
            }
        }
        t.elapsed()
    }
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

/// One round trip: bytes up, bytes down, and which way the ping-pong
/// server copies the data as a file system must (see the pingpong
/// helper): a write's data into new memory, a read's out of what was
/// written.
type Trip = (usize, usize, u64);
const NO_COPY: u64 = 0;
const COPY_IN: u64 = 1;
const COPY_OUT: u64 = 2;

/// open(path) + write(4 KiB) + close: open copies its path in.
const CREATE_TRIPS: &[Trip] = &[
    (call(3), COPYIN_REQ, NO_COPY),
    (COPY_HDR + PATH, REPLY, NO_COPY),
    (call(3), COPYIN_REQ, NO_COPY),
    (COPY_HDR + 4096, REPLY, COPY_IN),
    (call(1), REPLY, NO_COPY),
];
/// stat(path): the path in, the stat structure out with the reply.
const STAT_TRIPS: &[Trip] = &[
    (call(2), COPYIN_REQ, NO_COPY),
    (COPY_HDR + PATH, 40 + 152 + REPLY, NO_COPY),
];
const WRITE_TRIPS: &[Trip] = &[
    (call(3), COPYIN_REQ, NO_COPY),
    (COPY_HDR + CALL, REPLY, COPY_IN),
];
const READ_TRIPS: &[Trip] = &[(call(3), 40 + CALL + REPLY, COPY_OUT)];

/// The file operations the benchmark times, on the kernel or the host.
trait Files {
    /// Creates `name`, writes `data` to it and closes it.
    fn create(&self, name: &str, data: &[u8]);
    fn stat(&self, name: &str);
    /// Creates `name` empty, open for the sequential rows.
    fn open_seq(&self, name: &str) -> Box<dyn Seq + '_>;
    fn remove(&self, name: &str);
}

/// A file open for sequential writes and reads.
trait Seq {
    fn write(&mut self, block: &[u8]);
    /// Fills `buf` (the file has that much left).
    fn read(&mut self, buf: &mut [u8]);
    fn rewind(&mut self);
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

    fn open_seq(&self, name: &str) -> Box<dyn Seq + '_> {
        let path = format!("{}/{name}", self.1);
        let fd = self
            .0
            .open(path.as_bytes(), O_RDWR | O_CREAT | O_TRUNC, 0o644)
            .unwrap();
        Box::new(KernelSeq(self.0, fd))
    }

    fn remove(&self, name: &str) {
        self.0
            .unlink(format!("{}/{name}", self.1).as_bytes())
            .unwrap();
    }
}

/// A kernel file and its descriptor, closed when dropped.
struct KernelSeq<'a>(&'a Client, i32);

impl Seq for KernelSeq<'_> {
    fn write(&mut self, block: &[u8]) {
        assert_eq!(self.0.write(self.1, block).unwrap(), block.len());
    }

    fn read(&mut self, buf: &mut [u8]) {
        assert_eq!(self.0.read(self.1, buf).unwrap(), buf.len());
    }

    fn rewind(&mut self) {
        self.0.lseek(self.1, 0, SEEK_SET).unwrap();
    }
}

impl Drop for KernelSeq<'_> {
    fn drop(&mut self) {
        self.0.close(self.1).unwrap();
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

    fn open_seq(&self, name: &str) -> Box<dyn Seq + '_> {
        let f = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.0.join(name))
            .unwrap();
        Box::new(f)
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.0.join(name)).unwrap();
    }
}

impl Seq for std::fs::File {
    fn write(&mut self, block: &[u8]) {
        self.write_all(block).unwrap();
    }

    fn read(&mut self, buf: &mut [u8]) {
        self.read_exact(buf).unwrap();
    }

    fn rewind(&mut self) {
        self.seek(SeekFrom::Start(0)).unwrap();
    }
}

/// The four measurements of one run: create, stat, write, read. Each row
/// runs in [`SLICES`] slices; after each slice, `between(row, ops)` runs
/// (to measure the floor under the same conditions).
fn run(files: &dyn Files, round: usize, between: &mut dyn FnMut(usize, usize)) -> [Duration; 4] {
    let mut m = [Duration::ZERO; 4];
    let mut timed = |row: usize, ops: usize, work: &mut dyn FnMut(usize)| {
        for slice in 0..SLICES {
            let t = Instant::now();
            for i in slice * ops..(slice + 1) * ops {
                work(i);
            }
            m[row] += t.elapsed();
            between(row, ops);
        }
    };
    let data4k = vec![0x5au8; 4096];
    let per = FILES / SLICES;
    timed(0, per, &mut |i| {
        files.create(&format!("r{round}f{i}"), &data4k)
    });
    timed(1, per, &mut |i| files.stat(&format!("r{round}f{i}")));
    let block: Vec<u8> = (0..CALL).map(|i| (i % 253) as u8).collect();
    let calls = SEQ_BYTES / CALL / SLICES;
    let mut seq = files.open_seq("seq");
    timed(2, calls, &mut |_| seq.write(&block));
    seq.rewind();
    let mut buf = vec![0u8; CALL];
    timed(3, calls, &mut |_| seq.read(&mut buf));
    drop(seq);
    files.remove("seq");
    m
}

/// The median of each measurement over [`RUNS`] runs.
fn median_runs(files: &dyn Files) -> [Duration; 4] {
    let runs: Vec<[Duration; 4]> = (0..RUNS).map(|r| run(files, r, &mut |_, _| ())).collect();
    medians(&runs)
}

fn medians<T: Copy + PartialOrd>(runs: &[[T; 4]]) -> [T; 4] {
    std::array::from_fn(|i| {
        let mut v: Vec<T> = runs.iter().map(|r| r[i]).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    })
}

struct Row {
    what: &'static str,
    /// The round trips of one operation.
    trips: &'static [Trip],
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
    // Each slice of a row is followed by the same number of operations
    // on the raw ping-pong, so that both see the same machine.
    let mut raw = Raw::connect(&raw_path);
    let kernel = Kernel(&c, "/mnt".into());
    let mut rump = Vec::new();
    let mut floors = Vec::new();
    for r in 0..RUNS {
        let mut floor = [Duration::ZERO; 4];
        rump.push(run(&kernel, r, &mut |row, ops| {
            floor[row] += raw.play(ROWS[row].trips, ops)
        }));
        floors.push(floor);
    }
    let ratios: Vec<[f64; 4]> = rump
        .iter()
        .zip(&floors)
        .map(|(r, f)| std::array::from_fn(|i| r[i].as_secs_f64() / f[i].as_secs_f64()))
        .collect();
    let (rump, floor, ratio) = (medians(&rump), medians(&floors), medians(&ratios));
    let shm = tempfile::Builder::new()
        .prefix("rvb")
        .tempdir_in("/dev/shm");
    let shm_dir = shm.as_ref().map(|d| d.path().to_path_buf());
    let host_shm = shm_dir.as_ref().ok().map(|d| median_runs(&Host(d.clone())));
    let disk = dir.path().join("host");
    std::fs::create_dir(&disk).unwrap();
    let host_tmp = median_runs(&Host(disk));

    println!(
        "tmpfs through rump_server (unix socket) beside the host's tmpfs (/dev/shm) and /tmp; \
         floor: the same round trips on a raw unix-socket ping-pong, file data copied once on its \
         server, in {SLICES} slices alternating with the server's; medians of {RUNS} runs (the ratio \
         is the median of each run's ratio)"
    );
    println!();
    println!("| operation | rump_server | per op | host tmpfs | host /tmp | round trips | floor | ratio to floor |");
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
            floor[i].as_secs_f64() * 1e6 / r.per as f64,
            ratio[i]
        );
    }
}
