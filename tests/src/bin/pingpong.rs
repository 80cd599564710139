//! Benchmark helper: the raw unix-socket ping-pong the sysproxy numbers
//! are compared with. `pingpong serve PATH` answers every 24-byte request
//! with a 48-byte reply (the sizes of a null syscall's frames), one thread
//! per connection, until killed.

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
            let mut req = [0u8; 24];
            let reply = [0u8; 48];
            while s.read_exact(&mut req).is_ok() {
                if s.write_all(&reply).is_err() {
                    break;
                }
            }
        });
    }
}
