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
//! The captures that open files (basic, extra, errors, hijack, statdir,
//! tmpfs, fork-*) need the VFS faction and are replayed by its tests.

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
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("vectors")
            .join(name),
    )
    .expect("capture file");
    let conns = capture::parse(&text);
    let s = Scratch::new();
    let url = s.url("sock");
    let mut srv = Server::start("rump_server", &["-c", "2"], &url);
    setup(&url);
    let path = s.path().join("sock");
    for (i, conn) in conns.iter().enumerate() {
        let mut sock = UnixStream::connect(&path).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        for step in &conn.steps {
            match step {
                Step::Banner(want) => {
                    let mut b = vec![0u8; 95];
                    let n = sock.read(&mut b).unwrap();
                    assert_eq!(&b[..n], &want[..], "{name}#{i}: banner in one read");
                }
                Step::Frame {
                    dir: Dir::ClientToServer,
                    bytes,
                    ..
                } => sock.write_all(bytes).unwrap(),
                Step::Frame {
                    dir: Dir::ServerToClient,
                    bytes,
                    title,
                } => {
                    let got = read_frame(&mut sock)
                        .unwrap_or_else(|| panic!("{name}#{i}: EOF instead of `{title}`"));
                    compare(name, title, check, bytes, &got);
                }
                Step::Eof(Dir::ServerToClient) => {
                    let mut b = [0u8; 1];
                    assert_eq!(
                        sock.read(&mut b).unwrap_or(0),
                        0,
                        "{name}#{i}: the server closes"
                    );
                }
                Step::Eof(Dir::ClientToServer) => drop(sock.try_clone()),
            }
        }
    }
    if name == "halt.frames.txt" {
        let st = srv
            .wait_exit(Duration::from_secs(10))
            .expect("the server exits after reboot");
        assert_eq!(st.code(), Some(0));
    }
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
