//! Benchmark helper: the raw unix-socket ping-pong the sysproxy numbers
//! are compared with. `pingpong serve PATH` serves, one thread per
//! connection until killed, requests that start with a 24-byte header:
//! bytes 0..8 hold the request's whole length (header included), bytes
//! 8..16 the length of the reply wanted (0 means 48, the size of a null
//! syscall's reply), bytes 16..24 flags. The rest of the request is read
//! and dropped, unless flag [`COPY_IN`] asks to copy it into a store (as
//! a file system stores a write's data), or flag [`COPY_OUT`] asks to
//! fill the reply from the store (as a read's data comes out of a file).

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;

/// Copy the request's body into the store.
const COPY_IN: u64 = 1;
/// Fill the reply from the store.
const COPY_OUT: u64 = 2;
/// The store, written and read round-robin.
const STORE: usize = 1 << 20;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || args[1] != "serve" {
        eprintln!("usage: pingpong serve PATH");
        std::process::exit(1);
    }
    let _ = std::fs::remove_file(&args[2]);
    let listener = UnixListener::bind(&args[2]).expect("bind");
    for conn in listener.incoming() {
        let Ok(mut s) = conn else { continue };
        std::thread::spawn(move || {
            let mut hdr = [0u8; 24];
            let mut body = Vec::new();
            let mut reply = Vec::new();
            let mut store = vec![0u8; STORE];
            let mut at = 0;
            while s.read_exact(&mut hdr).is_ok() {
                let len = u64::from_le_bytes(hdr[..8].try_into().unwrap()) as usize;
                let want = match u64::from_le_bytes(hdr[8..16].try_into().unwrap()) {
                    0 => 48,
                    n => n as usize,
                };
                let flags = u64::from_le_bytes(hdr[16..24].try_into().unwrap());
                body.resize(len.saturating_sub(24), 0);
                reply.resize(want, 0);
                if s.read_exact(&mut body).is_err() {
                    break;
                }
                let (copy, n) = match flags {
                    COPY_IN => (true, body.len()),
                    COPY_OUT => (true, reply.len()),
                    _ => (false, 0),
                };
                if copy && n <= STORE {
                    if at + n > STORE {
                        at = 0;
                    }
                    match flags {
                        COPY_IN => store[at..at + n].copy_from_slice(&body),
                        _ => reply.copy_from_slice(&store[at..at + n]),
                    }
                    at += n;
                }
                if s.write_all(&reply).is_err() {
                    break;
                }
            }
        });
    }
}
