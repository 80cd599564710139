//! Null-syscall round trips: getpid through rump_server and our client,
//! beside a raw unix-socket ping-pong of the same frame sizes (24 bytes
//! out, 48 back), measured in the same run, with the processes free to
//! run on any CPU and with everything pinned to CPU 0.
//!
//! Run with `make bench` (or `cargo bench -p rump-tests --bench syscall`
//! after a release build).

use nix::sched::{sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use rump_tests::{artifacts, Client};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Each cell alternates raw and rump slices of this length ...
const SLICE: Duration = Duration::from_millis(250);
/// ... this many times each, and reports the median slice: both sides
/// see the same machine conditions.
const ROUNDS: usize = 9;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(pinned: bool, prog: &str, args: &[&str]) -> Proc {
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(artifacts().join(prog));
        c
    } else {
        Command::new(artifacts().join(prog))
    };
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    Proc(
        cmd.spawn()
            .unwrap_or_else(|e| panic!("{prog}: {e} (build with --release first)")),
    )
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

/// Runs one slice: every connection's thread calls `call` in a loop for
/// [`SLICE`]; returns calls per second over all of them.
fn slice<C: Send>(conns: &mut [C], call: fn(&mut C)) -> f64 {
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let threads: Vec<_> = conns
            .iter_mut()
            .map(|c| {
                s.spawn(move || {
                    let mut n = 0u64;
                    while start.elapsed() < SLICE {
                        for _ in 0..50 {
                            call(c);
                        }
                        n += 50;
                    }
                    n
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn raw_call(s: &mut UnixStream) {
    let mut req = [0u8; 24];
    req[0] = 24;
    s.write_all(&req).unwrap();
    let mut reply = [0u8; 48];
    s.read_exact(&mut reply).unwrap();
}

fn getpid_call(c: &mut Client) {
    c.getpid().unwrap();
}

fn pin_self(pinned: bool) {
    let mut set = CpuSet::new();
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    for cpu in 0..if pinned { 1 } else { n } {
        set.set(cpu).unwrap();
    }
    sched_setaffinity(Pid::from_raw(0), &set).expect("sched_setaffinity");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("rb")
        .tempdir_in("/tmp")
        .unwrap();
    let raw_path = dir.path().join("raw").display().to_string();
    let rump_path = dir.path().join("rump").display().to_string();
    let url = format!("unix://{rump_path}");
    println!(
        "null syscall round trips over a unix socket (median of {ROUNDS} alternating {} ms slices)",
        SLICE.as_millis()
    );
    println!();
    println!("| CPUs | clients | raw ping-pong | rump_server getpid | ratio per call |");
    println!("|---|---:|---:|---:|---:|");
    for pinned in [false, true] {
        pin_self(pinned);
        let _raw = spawn(pinned, "pingpong", &["serve", &raw_path]);
        let _rump = spawn(pinned, "rump_server", &["-s", &url]);
        wait_socket(&raw_path);
        wait_socket(&rump_path);
        for clients in [1, 4] {
            let mut raws: Vec<UnixStream> = (0..clients)
                .map(|_| UnixStream::connect(&raw_path).unwrap())
                .collect();
            let mut rumps: Vec<Client> = (0..clients)
                .map(|_| Client::connect(&url, "bench").unwrap())
                .collect();
            for c in &mut raws {
                (0..1000).for_each(|_| raw_call(c));
            }
            for c in &mut rumps {
                (0..1000).for_each(|_| getpid_call(c));
            }
            let (mut raw, mut rump) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                raw.push(slice(&mut raws, raw_call));
                rump.push(slice(&mut rumps, getpid_call));
            }
            let (raw, rump) = (median(raw), median(rump));
            let cpus = if pinned { "all on CPU 0" } else { "any" };
            println!(
                "| {cpus} | {clients} | {:.1} µs ({:.0}/s) | {:.1} µs ({:.0}/s) | {:.2}x |",
                1e6 / raw,
                raw,
                1e6 / rump,
                rump,
                raw / rump
            );
        }
    }
}
