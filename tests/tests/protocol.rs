//! Protocol robustness beyond the captures: broken frames from one client
//! never disturb another, and limits are enforced.

use rump_tests::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;
use sysproxy::frame::{self, handshake};

fn raw(s: &Scratch) -> UnixStream {
    let mut c = UnixStream::connect(s.path().join("sock")).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut banner = [0u8; 95];
    let n = c.read(&mut banner).unwrap();
    assert_eq!(&banner[..n], b"RUMPSP-0.4-NetBSD-7.99.34/amd64\n");
    c
}

fn read_to_end(c: &mut UnixStream) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = c.read_to_end(&mut v);
    v
}

#[test]
fn oversized_and_truncated_frames_close_only_their_connection() {
    let s = Scratch::new();
    let srv = Server::start("rump_server", &[], &s.url("sock"));
    let good = srv.client();

    // A length beyond the limit: the connection is closed, unanswered.
    let mut c = raw(&s);
    c.write_all(&frame::handshake_req(1, handshake::GUEST, b"big"))
        .unwrap();
    let mut resp = [0u8; 28];
    c.read_exact(&mut resp).unwrap();
    let mut h = frame::Header::new(0, 2, 0, 1, 20).encode();
    h[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    c.write_all(&h).unwrap();
    assert!(read_to_end(&mut c).is_empty());

    // A frame cut short by the client going away.
    let mut c = raw(&s);
    c.write_all(&frame::handshake_req(1, handshake::GUEST, b"cut")[..20])
        .unwrap();
    drop(c);

    // An empty GUEST name and a syscall body longer than any syscall's.
    let mut c = raw(&s);
    c.write_all(&frame::Header::new(0, 1, 0, 0, handshake::GUEST).encode())
        .unwrap();
    c.read_exact(&mut resp).unwrap();
    assert_eq!(&resp[24..], &[0, 0, 0, 0]);
    let long: Vec<u64> = vec![0; 40];
    c.write_all(&frame::syscall_req(2, 20, &long)).unwrap();
    let mut r = [0u8; 48];
    c.read_exact(&mut r).unwrap();
    assert_eq!(
        r[32], 4,
        "getpid answered (pid 3 is `big`), extra slots ignored"
    );

    assert_eq!(
        good.getpid().unwrap().0,
        2,
        "the first client is still served"
    );
}

#[test]
fn a_syscall_waiting_on_its_client_does_not_hold_the_cpu() {
    // With one virtual CPU: a client that never answers the copy-in of its
    // write(2) blocks only itself.
    let s = Scratch::new();
    let srv = Server::start("rump_server", &["-c", "1"], &s.url("sock"));
    let mut c = raw(&s);
    c.write_all(&frame::handshake_req(1, handshake::GUEST, b"stuck"))
        .unwrap();
    let mut resp = [0u8; 28];
    c.read_exact(&mut resp).unwrap();
    c.write_all(&frame::syscall_req(2, 4, &[1, 0x1000, 10]))
        .unwrap();
    let mut req = [0u8; 40];
    c.read_exact(&mut req).unwrap();
    assert_eq!(req[18], 2, "the server asks for the data (COPYIN)");
    let other = srv.client();
    assert!(other.getpid().is_ok(), "another client is served meanwhile");
    drop(c);
    assert!(other.getpid().is_ok());
}
