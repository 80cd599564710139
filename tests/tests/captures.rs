//! Replays the client side of NetBSD's wire captures against our server
//! and checks that the server side matches, frame by frame.
//!
//! Each capture was recorded against a fresh NetBSD server, so each replay
//! starts a fresh server of ours. Bytes a capture cannot pin down are
//! left out of the comparison, each with its reason: the 4 padding bytes
//! of a syscall reply (uninitialised in NetBSD), the version counters,
//! child counts and kernel pointers inside sysctl nodes, and the module
//! list of modstat (our kernel is made of other components than
//! NetBSD's; the exchange itself is checked).
//!
//! The captures that open files run on a server with the VFS faction.
//! There a few more bytes are left out: st_dev of rumpfs nodes (NetBSD's
//! rumpfs reports st_ino there by a bug this server fixes), the times of
//! files created during the capture (they carry the moment of creation),
//! and the padding after names in directory records (stale bytes in
//! NetBSD).

use rump_tests::capture::{self, Dir, Step};
use rump_tests::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How much of a server frame a capture can pin down.
#[derive(Clone, Copy)]
enum Check {
    Exact,
    SysctlNodes,
    ModstatRecords,
    Files,
}

/// Zeroes what a capture of file operations cannot pin down in a copy-out
/// body `b` (the part after the 16-byte address block).
fn mask_files(b: &mut [u8]) {
    let data = &mut b[16..];
    if data.len() == 152 {
        data[0..8].fill(0); // st_dev
        data[48..112].fill(0); // the four times
        return;
    }
    // Directory records: clear the padding after each name.
    let mut off = 0;
    while off + 13 <= data.len() {
        let reclen = u16::from_le_bytes([data[off + 8], data[off + 9]]) as usize;
        let namlen = u16::from_le_bytes([data[off + 10], data[off + 11]]) as usize;
        if reclen < 13 || off + reclen > data.len() || 13 + namlen + 1 > reclen {
            return;
        }
        data[off + 13 + namlen + 1..off + reclen].fill(0);
        off += reclen;
    }
}

fn read_exact_or_eof(s: &mut UnixStream, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match s.read(&mut b[got..]) {
            Ok(0) => return None,
            Ok(k) => got += k,
            Err(e) => panic!("read: {e}"),
        }
    }
    Some(b)
}

fn read_frame(s: &mut UnixStream) -> Option<Vec<u8>> {
    let mut f = read_exact_or_eof(s, 24)?;
    let len = u64::from_le_bytes(f[..8].try_into().unwrap()) as usize;
    f.extend(read_exact_or_eof(s, len - 24)?);
    Some(f)
}

fn compare(name: &str, title: &str, check: Check, want: &[u8], got: &[u8]) {
    let ctx = format!("{name}: server frame `{title}`");
    let (wh, gh) = (&want[..24], &got[..24]);
    let body = |f: &[u8]| f[24..].to_vec();
    let is_sysresp = want[16..20] == [1, 0, 1, 0];
    match check {
        Check::ModstatRecords if want[18] == 4 && want.len() > 40 + 16 => {
            // A COPYOUT of modstat_t records: same address, whole records.
            assert_eq!(&wh[8..24], &gh[8..24], "{ctx}: header");
            assert_eq!(&want[32..40], &got[32..40], "{ctx}: address");
            assert_eq!((got.len() - 40) % 392, 0, "{ctx}: whole records");
            return;
        }
        Check::ModstatRecords if want[18] == 4 && want.len() == 56 => {
            // The iovec written back: same base, iov_len = the records' size.
            assert_eq!(&wh[..24], &gh[..24], "{ctx}: header");
            assert_eq!(&want[40..48], &got[40..48], "{ctx}: iov_base");
            let n = u64::from_le_bytes(got[48..56].try_into().unwrap());
            assert!(n > 0 && n % 392 == 0, "{ctx}: iov_len {n}");
            return;
        }
        _ => {}
    }
    assert_eq!(wh, gh, "{ctx}: header");
    let (mut w, mut g) = (body(want), body(got));
    if is_sysresp {
        // Padding after the error: uninitialised in NetBSD.
        w[4..8].fill(0);
        g[4..8].fill(0);
    }
    if let Check::Files = check {
        if want[18] == 4 {
            mask_files(&mut w);
            mask_files(&mut g);
        }
    }
    if let Check::SysctlNodes = check {
        if want[18] == 4 && want.len() == 40 + 96 {
            // struct sysctlnode: ver, child counts and pointers are the
            // kernel's own.
            for b in [&mut w, &mut g] {
                b[16 + 40..16 + 64].fill(0);
                b[16 + 72..16 + 96].fill(0);
            }
        }
    }
    assert_eq!(w, g, "{ctx}: body");
}

fn replay(name: &str, check: Check, setup: impl Fn(&str)) {
    replay_on(name, &["-c", "2"], check, setup)
}

fn load(name: &str) -> Vec<capture::Connection> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    capture::parse(&std::fs::read_to_string(path).expect("capture file"))
}

fn connect(path: &std::path::Path) -> UnixStream {
    let sock = UnixStream::connect(path).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock
}

/// Plays `steps` of capture `name` on `sock`. A PREFORK answer's cookie
/// is random: it is kept in `cookie` and put into FORK handshakes.
fn play(
    name: &str,
    sock: &mut UnixStream,
    steps: &[Step],
    check: Check,
    cookie: &mut Option<Vec<u8>>,
) {
    for step in steps {
        match step {
            Step::Banner(want) => {
                let mut b = vec![0u8; 95];
                let n = sock.read(&mut b).unwrap();
                assert_eq!(&b[..n], &want[..], "{name}: banner in one read");
            }
            Step::Frame {
                dir: Dir::ClientToServer,
                bytes,
                ..
            } => {
                let mut bytes = bytes.clone();
                let is_fork = bytes.len() == 44 && bytes[18] == 0 && bytes[20] == 2;
                if let (true, Some(c)) = (is_fork, cookie.as_ref()) {
                    bytes[24..40].copy_from_slice(c);
                }
                sock.write_all(&bytes).unwrap();
            }
            Step::Frame {
                dir: Dir::ServerToClient,
                bytes,
                title,
            } => {
                let got =
                    read_frame(sock).unwrap_or_else(|| panic!("{name}: EOF instead of `{title}`"));
                if bytes.len() == 40 && bytes[16] == 1 && bytes[18] == 7 {
                    assert_eq!(&got[..24], &bytes[..24], "{name}: PREFORK answer header");
                    *cookie = Some(got[24..40].to_vec());
                    continue;
                }
                compare(name, title, check, bytes, &got);
            }
            Step::Eof(Dir::ServerToClient) => {
                let mut b = [0u8; 1];
                assert_eq!(
                    sock.read(&mut b).unwrap_or(0),
                    0,
                    "{name}: the server closes"
                );
            }
            Step::Eof(Dir::ClientToServer) => {
                let _ = sock.shutdown(std::net::Shutdown::Write);
            }
        }
    }
}

fn replay_on(name: &str, args: &[&str], check: Check, setup: impl Fn(&str)) {
    let s = Scratch::new();
    let url = s.url("sock");
    let mut srv = Server::start("rump_server", args, &url);
    setup(&url);
    let path = s.path().join("sock");
    let mut cookie = None;
    for conn in load(name) {
        let mut sock = connect(&path);
        play(name, &mut sock, &conn.steps, check, &mut cookie);
    }
    if name == "halt.frames.txt" {
        let st = srv
            .wait_exit(Duration::from_secs(10))
            .expect("the server exits after reboot");
        assert_eq!(st.code(), Some(0));
    }
}

/// The parent's capture up to its PREFORK, then the child's, then the
/// rest of the parent's, on one server.
fn replay_pair(parent: &str, child: &str, args: &[&str]) {
    let s = Scratch::new();
    let url = s.url("sock");
    let _srv = Server::start("rump_server", args, &url);
    let path = s.path().join("sock");
    let p = load(parent).remove(0);
    let split = p
        .steps
        .iter()
        .position(|st| matches!(st, Step::Frame { dir: Dir::ServerToClient, bytes, .. } if bytes.len() == 40 && bytes[18] == 7))
        .expect("a PREFORK answer")
        + 1;
    let mut cookie = None;
    let mut ps = connect(&path);
    play(
        parent,
        &mut ps,
        &p.steps[..split],
        Check::Files,
        &mut cookie,
    );
    let mut cs = connect(&path);
    play(
        child,
        &mut cs,
        &load(child).remove(0).steps,
        Check::Files,
        &mut cookie,
    );
    play(
        parent,
        &mut ps,
        &p.steps[split..],
        Check::Files,
        &mut cookie,
    );
}

#[test]
fn halt() {
    replay("halt.frames.txt", Check::Exact, |_| {});
}

#[test]
fn malformed_frames() {
    replay("malformed.frames.txt", Check::Exact, |_| {});
}

#[test]
fn sysctl() {
    // The capture's kern.hostname carries its server's pid; give ours the
    // same name first (through another client, which does not disturb the
    // replay: it asks no pids).
    replay("sysctl.frames.txt", Check::SysctlNodes, |url| {
        let c = Client::connect(url, "setup").unwrap();
        c.sysctl(&[1, 10], None, Some(b"rump-01137.vm\0"))
            .result
            .unwrap();
    });
}

#[test]
fn modstat() {
    replay("modstat.frames.txt", Check::ModstatRecords, |_| {});
}

fn vfs_args() -> Vec<String> {
    let vfs = plugin("rumpvfs");
    let tmpfs = plugin("rumpfs_tmpfs");
    vec![
        "-c".into(),
        "2".into(),
        "-l".into(),
        vfs.display().to_string(),
        "-l".into(),
        tmpfs.display().to_string(),
    ]
}

fn replay_vfs(name: &str) {
    replay_vfs_after(name, 0);
}

/// Replays `name` after `earlier` other processes came and went (the
/// capture was made on a server that had served them: its pids start
/// later).
fn replay_vfs_after(name: &str, earlier: usize) {
    let args = vfs_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    replay_on(name, &args, Check::Files, |url| {
        for _ in 0..earlier {
            drop(Client::connect(url, "earlier").unwrap());
        }
    });
}

#[test]
fn basic() {
    replay_vfs("basic.frames.txt");
}

#[test]
fn extra() {
    // Recorded on the server that had served basic's client (pid 2).
    replay_vfs_after("extra.frames.txt", 1);
}

#[test]
fn errors() {
    replay_vfs("errors.frames.txt");
}

#[test]
fn hijack() {
    replay_vfs("hijack.frames.txt");
}

#[test]
fn statdir() {
    replay_vfs("statdir.frames.txt");
}

#[test]
fn tmpfs() {
    replay_vfs("tmpfs.frames.txt");
}

#[test]
fn fork() {
    // The parent's capture, then the child's, on one server (the child
    // claims the cookie the parent got; both captures carry the same one).
    let args = vfs_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    replay_pair("fork-parent.frames.txt", "fork-child.frames.txt", &args);
}
