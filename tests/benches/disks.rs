//! Disk file-system benchmark: FFS, ext2fs and FAT32 on a host image
//! through rump_server (`-r 16m`, the image mapped with `-d`), beside the
//! same work on the host's /tmp and beside dd on the host: 256 MiB
//! written (then fsync) and read in 64 KiB calls, 10,000 small files
//! created, and the server's peak resident memory while it streams 1 GiB.
//!
//! Run with `make bench` (or `cargo bench -p rump-tests --bench disks`
//! after a release build of the workspace).

use netbsd_abi::fcntl::*;
use rump_tests::{artifacts, Client};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SEQ: usize = 256 << 20;
const STREAM: usize = 1 << 30;
const CALL: usize = 64 << 10;
const FILES: usize = 10_000;
const DIRS: usize = 100;
const SMALL: usize = 4096;
const IMAGE: u64 = 1600 << 20;

/// A file system to measure: its type, library and how to make it.
struct Case {
    fstype: &'static str,
    lib: &'static str,
    newfs: &'static [&'static str],
}

const CASES: [Case; 3] = [
    Case {
        fstype: "ffs",
        lib: "rumpfs_ffs",
        newfs: &["newfs", "-O", "2"],
    },
    Case {
        fstype: "ext2fs",
        lib: "rumpfs_ext2fs",
        newfs: &["newfs_ext2fs"],
    },
    Case {
        fstype: "msdos",
        lib: "rumpfs_msdos",
        newfs: &["newfs_msdos", "-F", "32", "-c", "8"],
    },
];

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_socket(path: &Path) {
    for _ in 0..500 {
        if UnixStream::connect(path).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never listened", path.display());
}

/// A `rump.NAME` tool run against the server at `url`; panics on failure.
fn tool(url: &str, name: &str, args: &[&str]) {
    let out = Command::new(artifacts().join(format!("rump.{name}")))
        .args(args)
        .env("RUMP_SERVER", url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rump.{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A /proc/PID/status field in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// What one file system measured.
struct Row {
    what: String,
    write: Duration,
    read: Duration,
    files: Duration,
    /// (resident at the start, peak while streaming), in KiB.
    rss: Option<(u64, u64)>,
}

/// Writes `total` bytes to `path` in 64 KiB calls and fsyncs; then reads
/// them back. Returns both times.
fn kernel_stream(c: &Client, path: &[u8], total: usize, read_back: bool) -> (Duration, Duration) {
    let block: Vec<u8> = (0..CALL).map(|i| (i % 251) as u8).collect();
    let fd = c.open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644).unwrap();
    let t = Instant::now();
    for _ in 0..total / CALL {
        assert_eq!(c.write(fd, &block).unwrap(), CALL);
    }
    c.fsync(fd).unwrap();
    let w = t.elapsed();
    let mut r = Duration::ZERO;
    if read_back {
        c.lseek(fd, 0, SEEK_SET).unwrap();
        let mut buf = vec![0u8; CALL];
        let t = Instant::now();
        for _ in 0..total / CALL {
            assert_eq!(c.read(fd, &mut buf).unwrap(), CALL);
        }
        r = t.elapsed();
    }
    c.close(fd).unwrap();
    (w, r)
}

fn kernel_files(c: &Client, root: &str) -> Duration {
    let data = vec![0x5au8; SMALL];
    let t = Instant::now();
    for d in 0..DIRS {
        c.mkdir(format!("{root}/d{d}").as_bytes(), 0o755).unwrap();
        for f in 0..FILES / DIRS {
            let fd = c
                .open(
                    format!("{root}/d{d}/f{f}").as_bytes(),
                    O_WRONLY | O_CREAT | O_TRUNC,
                    0o644,
                )
                .unwrap();
            c.write(fd, &data).unwrap();
            c.close(fd).unwrap();
        }
    }
    c.sync().unwrap();
    t.elapsed()
}

fn measure_kernel(case: &Case, dir: &Path) -> Row {
    let img = dir.join(format!("{}.img", case.fstype));
    std::fs::File::create(&img).unwrap().set_len(IMAGE).unwrap();
    let sock = dir.join(format!("{}.sock", case.fstype));
    let url = format!("unix://{}", sock.display());
    let srv = Proc(
        Command::new(artifacts().join("rump_server"))
            .args(["-s", "-r", "16m", "-l"])
            .arg(artifacts().join("librumpvfs.so"))
            .arg("-l")
            .arg(artifacts().join(format!("lib{}.so", case.lib)))
            .arg("-d")
            .arg(format!("key=/dev/dk,hostpath={},size=host", img.display()))
            .arg(&url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_socket(&sock);
    tool(
        &url,
        case.newfs[0],
        &[&case.newfs[1..], &["/dev/dk"]].concat(),
    );
    tool(&url, "mkdir", &["/mnt"]);
    tool(&url, "mount", &["-t", case.fstype, "/dev/dk", "/mnt"]);
    let c = Client::connect(&url, "bench").unwrap();
    let pid = srv.0.id();
    let (write, read) = kernel_stream(&c, b"/mnt/seq", SEQ, true);
    c.unlink(b"/mnt/seq").unwrap();
    let files = kernel_files(&c, "/mnt");
    let base = status_kib(pid, "VmRSS:");
    kernel_stream(&c, b"/mnt/stream", STREAM, false);
    let peak = status_kib(pid, "VmHWM:");
    Row {
        what: format!("{} through rump_server", case.fstype),
        write,
        read,
        files,
        rss: Some((base, peak)),
    }
}

fn measure_host(dir: &Path) -> Row {
    let block: Vec<u8> = (0..CALL).map(|i| (i % 251) as u8).collect();
    let path = dir.join("seq");
    let mut f = std::fs::File::create(&path).unwrap();
    let t = Instant::now();
    for _ in 0..SEQ / CALL {
        f.write_all(&block).unwrap();
    }
    f.sync_all().unwrap();
    let write = t.elapsed();
    drop(f);
    let mut f = std::fs::File::open(&path).unwrap();
    let mut buf = vec![0u8; CALL];
    let t = Instant::now();
    for _ in 0..SEQ / CALL {
        f.read_exact(&mut buf).unwrap();
    }
    let read = t.elapsed();
    std::fs::remove_file(&path).unwrap();
    let data = vec![0x5au8; SMALL];
    let t = Instant::now();
    for d in 0..DIRS {
        let sub = dir.join(format!("d{d}"));
        std::fs::create_dir(&sub).unwrap();
        for i in 0..FILES / DIRS {
            std::fs::write(sub.join(format!("f{i}")), &data).unwrap();
        }
    }
    Command::new("sync").status().unwrap();
    Row {
        what: "host /tmp".into(),
        write,
        read,
        files: t.elapsed(),
        rss: None,
    }
}

fn dd(args: &[String]) -> Duration {
    let t = Instant::now();
    let st = Command::new("dd")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    t.elapsed()
}

fn measure_dd(dir: &Path) -> Row {
    let out = dir.join("dd.img");
    let count = format!("count={}", SEQ / CALL);
    let write = dd(&[
        "if=/dev/zero".into(),
        format!("of={}", out.display()),
        "bs=64k".into(),
        count.clone(),
        "conv=fsync".into(),
    ]);
    let read = dd(&[
        format!("if={}", out.display()),
        "of=/dev/null".into(),
        "bs=64k".into(),
        count,
    ]);
    Row {
        what: "dd on a host file".into(),
        write,
        read,
        files: Duration::ZERO,
        rss: None,
    }
}

fn mb_s(d: Duration) -> String {
    format!("{:.0} MB/s", SEQ as f64 / d.as_secs_f64() / 1e6)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir: PathBuf = tempfile::Builder::new()
        .prefix("rdb")
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    let mut rows: Vec<Row> = CASES.iter().map(|c| measure_kernel(c, &dir)).collect();
    let host = dir.join("host");
    std::fs::create_dir(&host).unwrap();
    rows.push(measure_host(&host));
    rows.push(measure_dd(&dir));
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "File systems on a host image through rump_server -r 16m (unix socket), \
         beside the host's /tmp and dd; writes end with fsync"
    );
    println!();
    println!("| | write 256 MiB | read 256 MiB | create 10,000 4 KiB files | server RSS: idle / peak streaming 1 GiB |");
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        let files = if r.files.is_zero() {
            "-".to_string()
        } else {
            format!("{:.0}/s", FILES as f64 / r.files.as_secs_f64())
        };
        let rss = r.rss.map_or("-".to_string(), |(base, peak)| {
            format!(
                "{:.1} / {:.1} MiB",
                base as f64 / 1024.0,
                peak as f64 / 1024.0
            )
        });
        println!(
            "| {} | {} | {} | {} | {} |",
            r.what,
            mb_s(r.write),
            mb_s(r.read),
            files,
            rss
        );
    }
}
