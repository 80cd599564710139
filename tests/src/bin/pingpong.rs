//! Benchmark helper: the raw unix-socket ping-pong the sysproxy numbers
//! are compared with. `pingpong serve PATH` serves, one thread per
//! connection until killed, requests that start with a 24-byte header:
//! bytes 0..8 hold the request's whole length (header included), bytes
//! 8..16 the length of the reply wanted (0 means 48, the size of a null
//! syscall's reply). The rest of the request is read and dropped.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;

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
            while s.read_exact(&mut hdr).is_ok() {
                let len = u64::from_le_bytes(hdr[..8].try_into().unwrap()) as usize;
                let want = match u64::from_le_bytes(hdr[8..16].try_into().unwrap()) {
                    0 => 48,
                    n => n as usize,
                };
                body.resize(len.saturating_sub(24), 0);
                reply.resize(want, 0);
                if s.read_exact(&mut body).is_err() || s.write_all(&reply).is_err() {
                    break;
                }
            }
        });
    }
}
