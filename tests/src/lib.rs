//! Helpers for the black-box tests: find the built binaries and plugins,
//! start servers on real sockets, run the rump.* tools.
//!
//! The tests run what `cargo build --workspace` produced (the README's
//! test command builds first); a missing artifact stops a test with a
//! message saying so.

pub mod capture;
pub mod posix;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use rumpclient::{Client, Errno};

/// The directory holding the workspace's build artifacts (target/debug).
pub fn artifacts() -> PathBuf {
    if let Some(d) = std::env::var_os("RUMP_TEST_ARTIFACTS") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    let dir = if deps.ends_with("deps") {
        deps.parent().unwrap()
    } else {
        deps
    };
    dir.to_path_buf()
}

fn artifact(name: &str) -> PathBuf {
    let p = artifacts().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the workspace first (make test, or cargo build --workspace)",
        p.display()
    );
    p
}

/// A binary of the workspace.
pub fn bin(name: &str) -> PathBuf {
    artifact(name)
}

/// A module file of the workspace (`<name>.kmod`, made by `make build`).
pub fn kmod(name: &str) -> PathBuf {
    artifact(&format!("{name}.kmod"))
}

/// A component library of the workspace (`lib<name>.so`).
pub fn plugin(name: &str) -> PathBuf {
    artifact(&format!("lib{name}.so"))
}

/// A scratch directory with the rump.* tool links; unix sockets go here
/// too (its path is short enough for sun_path).
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("rt")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let rump = bin("rump");
        for (t, _) in rumpclient::tools::TOOLS {
            std::os::unix::fs::symlink(&rump, dir.path().join(format!("rump.{t}"))).unwrap();
        }
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `unix://<scratch>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("unix://{}", self.path().join(name).display())
    }

    /// A rump.* tool, with RUMP_SERVER set to `url`.
    pub fn tool(&self, name: &str, url: &str) -> Command {
        let mut c = Command::new(self.path().join(format!("rump.{name}")));
        c.env("RUMP_SERVER", url)
            .env_remove("RUMP__PARSEDSERVER")
            .env_remove("RUMPCLIENT__EXECFD");
        c
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

/// A command for a server binary with a clean environment for it.
pub fn server_cmd(binary: &str) -> Command {
    let mut c = Command::new(bin(binary));
    for v in [
        "RUMP_NCPU",
        "RUMP_MEMLIMIT",
        "RUMP_VERBOSE",
        "LD_BIND_NOW",
        "RUMP_PLUGIN_DIR",
        "RUMP_LOG",
    ] {
        c.env_remove(v);
    }
    c
}

/// A server running in the foreground (-s), killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    /// Starts `binary -s args... url` and waits until it accepts clients.
    pub fn start(binary: &str, args: &[&str], url: &str) -> Server {
        Self::start_cmd(server_cmd(binary), args, url)
    }

    /// Like [`Server::start`] with a prepared command (environment, stdio).
    pub fn start_cmd(mut cmd: Command, args: &[&str], url: &str) -> Server {
        cmd.arg("-s").args(args).arg(url);
        let child = cmd.spawn().expect("start server");
        let mut s = Server {
            child,
            url: url.to_string(),
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("server exited early with {st}");
            }
            if accepts(&self.url) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server at {} did not come up", self.url);
    }

    /// A client connection as a new process.
    pub fn client(&self) -> Client {
        Client::connect(&self.url, "test").expect("connect")
    }

    /// Waits for the server to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        wait_child(&mut self.child, limit)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a server at `url` accepts a connection and sends its banner.
/// No handshake is made, so no process is created in its kernel.
pub fn accepts(url: &str) -> bool {
    use std::io::Read;
    let Ok(ep) = sysproxy::url::parse(url, sysproxy::url::Side::Client, None) else {
        return false;
    };
    let mut b = [0u8; 96];
    match ep {
        sysproxy::url::Endpoint::Unix { path, .. } => std::os::unix::net::UnixStream::connect(path)
            .and_then(|mut s| s.read(&mut b))
            .is_ok_and(|n| n > 0),
        sysproxy::url::Endpoint::Tcp(a) => std::net::TcpStream::connect(a)
            .and_then(|mut s| s.read(&mut b))
            .is_ok_and(|n| n > 0),
    }
}

/// Waits up to `limit` for `child` to exit.
pub fn wait_child(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Runs a command to completion with a time limit (then it is killed),
/// capturing its output, however long.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(30)).is_err() {
            signal(pid, 9);
        }
    });
    let out = child.wait_with_output().expect("output");
    let _ = done.send(());
    let _ = watchdog.join();
    out
}

/// Text of a byte stream, for assertions.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a process is still alive (kill -0).
pub fn alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// Finds the pid of the process listening on a unix socket path, by
/// asking the kernel's sysctl for its hostname (rump-<pid>.<host>).
pub fn server_pid(url: &str) -> i32 {
    let c = Client::connect(url, "pidprobe").expect("connect");
    let mut buf = [0u8; 256];
    let out = c.sysctl(&[1, 10], Some(&mut buf), None);
    out.result.expect("kern.hostname");
    let name = String::from_utf8_lossy(&buf[..out.oldlen.saturating_sub(1)]).into_owned();
    name.trim_start_matches("rump-")
        .split('.')
        .next()
        .unwrap()
        .parse()
        .expect("pid in hostname")
}
