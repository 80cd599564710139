//! Benchmark helper: the raw unix-socket ping-pong the sysproxy numbers
//! are compared with. `pingpong serve PATH` serves, one thread per
//! connection until killed, requests that start with a 24-byte header:
//! bytes 0..8 hold the request's whole length (header included), bytes
//! 8..16 the length of the reply wanted (0 means 48, the size of a null
//! syscall's reply), bytes 16..24 flags. The rest of the request is read
//! and dropped, unless flag [`COPY_IN`] asks to copy it into a [`Store`]
//! (as a file system keeps a write's data), or flag [`COPY_OUT`] asks to
//! fill the reply from the store (as a read's data comes out of a file).

use memmap2::{Advice, MmapMut};
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;

/// Copy the request's body into the store.
const COPY_IN: u64 = 1;
/// Fill the reply from the store.
const COPY_OUT: u64 = 2;

/// The store's chunks: 2 MiB, with huge pages asked for, as tmpfs keeps
/// the body of a big file.
const CHUNK: usize = 2 << 20;
/// The most the store holds before it is dropped and begun again (as a
/// file is removed and written anew).
const STORE_MAX: usize = 256 << 20;

/// Data copied in, always into memory not used before (as a file grows
/// into new pages), and read back round-robin.
#[derive(Default)]
struct Store {
    chunks: Vec<MmapMut>,
    len: usize,
    read_at: usize,
}

impl Store {
    fn put(&mut self, mut data: &[u8]) {
        if self.len + data.len() > STORE_MAX {
            *self = Store::default();
        }
        while !data.is_empty() {
            let at = self.len % CHUNK;
            if at == 0 {
                let map = MmapMut::map_anon(CHUNK).expect("anonymous memory");
                let _ = map.advise(Advice::HugePage);
                self.chunks.push(map);
            }
            let n = data.len().min(CHUNK - at);
            self.chunks.last_mut().unwrap()[at..at + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
        }
    }

    fn get(&mut self, mut out: &mut [u8]) {
        while !out.is_empty() && self.len > 0 {
            if self.read_at >= self.len {
                self.read_at = 0;
            }
            let at = self.read_at % CHUNK;
            let n = out.len().min(CHUNK - at).min(self.len - self.read_at);
            out[..n].copy_from_slice(&self.chunks[self.read_at / CHUNK][at..at + n]);
            self.read_at += n;
            out = &mut out[n..];
        }
    }
}

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
            let mut store = Store::default();
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
                match flags {
                    COPY_IN => store.put(&body),
                    COPY_OUT => store.get(&mut reply),
                    _ => {}
                }
                if s.write_all(&reply).is_err() {
                    break;
                }
            }
        });
    }
}
