//! rump.cat [-beflnstuv] [-] [file ...]: writes kernel files to standard
//! output, as cat(1). "-" (or no operand) is the host's standard input.

use super::common::{parse_args, warn, warnx};
use super::getopt::Opt;
use crate::Client;
use netbsd_abi::fcntl::{O_NONBLOCK, O_RDONLY};
use netbsd_abi::stat::{S_IFMT, S_IFREG};
use netbsd_abi::Errno;
use std::io::{Read, Write};

const CHUNK: usize = 64 * 1024;

/// The -b, -e, -n, -s, -t and -v switches ("cooked" output).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cook {
    number_nonblank: bool,
    dollar: bool,
    number: bool,
    squeeze: bool,
    tabs: bool,
    visible: bool,
}

impl Cook {
    fn any(&self) -> bool {
        *self != Cook::default()
    }
}

/// The cooking state that carries over between reads of one file (each
/// file starts afresh, its lines numbered from 1).
#[derive(Debug)]
struct CookState {
    prev: u8,
    gobble: bool,
    line: u64,
}

impl CookState {
    fn new() -> CookState {
        CookState {
            prev: b'\n',
            gobble: false,
            line: 0,
        }
    }
}

/// Where input comes from.
enum Input {
    Stdin,
    Kernel(i32),
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = format!("Usage: {prog} [-beflnstuv] [-B bsize] [-] [file ...]\n");
    let (opts, files) = match parse_args(prog, args, "B:beflnstuv", &usage) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let (cook, regular_only) = switches(&opts);
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut cat = Cat {
        prog,
        client: &client,
        cook,
        state: CookState::new(),
        out: std::io::stdout().lock(),
        failed: false,
    };
    let files = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files
    };
    for f in &files {
        if let Err(e) = cat.file(f, regular_only) {
            warn(prog, b"stdout", e);
            return 1;
        }
    }
    if let Err(e) = cat.out.flush() {
        warn(prog, b"stdout", Errno::from_io(&e));
        return 1;
    }
    i32::from(cat.failed)
}

fn switches(opts: &[Opt]) -> (Cook, bool) {
    let mut c = Cook::default();
    let mut regular_only = false;
    for o in opts {
        match o {
            Opt::Flag('b') => (c.number_nonblank, c.number) = (true, true),
            Opt::Flag('e') => (c.dollar, c.visible) = (true, true),
            Opt::Flag('f') => regular_only = true,
            Opt::Flag('n') => c.number = true,
            Opt::Flag('s') => c.squeeze = true,
            Opt::Flag('t') => (c.tabs, c.visible) = (true, true),
            Opt::Flag('v') => c.visible = true,
            _ => {}
        }
    }
    (c, regular_only)
}

struct Cat<'a> {
    prog: &'a str,
    client: &'a Client,
    cook: Cook,
    state: CookState,
    out: std::io::StdoutLock<'static>,
    failed: bool,
}

impl Cat<'_> {
    /// Copies one operand; Err only when standard output fails.
    fn file(&mut self, name: &str, regular_only: bool) -> Result<(), Errno> {
        let input = match self.open(name, regular_only) {
            Some(i) => i,
            None => {
                self.failed = true;
                return Ok(());
            }
        };
        self.state = CookState::new();
        let r = self.copy(&input, name);
        if let Input::Kernel(fd) = input {
            let _ = self.client.close(fd);
        }
        r
    }

    fn open(&self, name: &str, regular_only: bool) -> Option<Input> {
        if name == "-" {
            return Some(Input::Stdin);
        }
        let flags = if regular_only {
            O_RDONLY | O_NONBLOCK
        } else {
            O_RDONLY
        };
        let fd = match self.client.open(name.as_bytes(), flags, 0) {
            Ok(fd) => fd,
            Err(e) => {
                warn(self.prog, name.as_bytes(), e);
                return None;
            }
        };
        if regular_only {
            let complaint = match self.client.fstat(fd) {
                Ok(s) if s.mode & S_IFMT == S_IFREG => None,
                Ok(_) => Some(format!("{name}: not a regular file")),
                Err(e) => Some(format!("{name}: {e}")),
            };
            if let Some(c) = complaint {
                warnx(self.prog, c);
                let _ = self.client.close(fd);
                return None;
            }
        }
        Some(Input::Kernel(fd))
    }

    fn read(&self, input: &Input, buf: &mut [u8]) -> Result<usize, Errno> {
        match input {
            Input::Stdin => std::io::stdin()
                .lock()
                .read(buf)
                .map_err(|e| Errno::from_io(&e)),
            Input::Kernel(fd) => self.client.read(*fd, buf),
        }
    }

    fn copy(&mut self, input: &Input, name: &str) -> Result<(), Errno> {
        let mut buf = vec![0u8; CHUNK];
        let mut cooked = Vec::new();
        loop {
            let n = match self.read(input, &mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => {
                    let shown = if name == "-" { "stdin" } else { name };
                    warn(self.prog, shown.as_bytes(), e);
                    self.failed = true;
                    return Ok(());
                }
            };
            let data = if self.cook.any() {
                cooked.clear();
                cook(&self.cook, &mut self.state, &buf[..n], &mut cooked);
                &cooked[..]
            } else {
                &buf[..n]
            };
            self.out.write_all(data).map_err(|e| Errno::from_io(&e))?;
        }
    }
}

/// Applies the cooked switches to `input`, appending to `out`.
fn cook(c: &Cook, st: &mut CookState, input: &[u8], out: &mut Vec<u8>) {
    for &ch in input {
        let prev = std::mem::replace(&mut st.prev, ch);
        if prev == b'\n' {
            if c.squeeze {
                if ch == b'\n' {
                    if st.gobble {
                        continue;
                    }
                    st.gobble = true;
                } else {
                    st.gobble = false;
                }
            }
            if c.number && (!c.number_nonblank || ch != b'\n') {
                st.line += 1;
                out.extend_from_slice(format!("{:6}\t", st.line).as_bytes());
            } else if c.number && c.dollar {
                out.extend_from_slice(format!("{:6}\t", "").as_bytes());
            }
        }
        put_cooked(c, ch, out);
    }
}

/// One byte with -e, -t and -v applied.
fn put_cooked(c: &Cook, ch: u8, out: &mut Vec<u8>) {
    match ch {
        b'\n' if c.dollar => out.extend_from_slice(b"$\n"),
        b'\n' => out.push(ch),
        b'\t' if c.tabs => out.extend_from_slice(b"^I"),
        b'\t' => out.push(ch),
        _ if c.visible => {
            let mut ch = ch;
            if !ch.is_ascii() {
                out.extend_from_slice(b"M-");
                ch &= 0x7f;
            }
            if ch.is_ascii_control() {
                out.push(b'^');
                out.push(if ch == 0x7f { b'?' } else { ch | 0o100 });
            } else {
                out.push(ch);
            }
        }
        _ => out.push(ch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(flags: &[char], input: &[u8]) -> String {
        let opts: Vec<Opt> = flags.iter().map(|&c| Opt::Flag(c)).collect();
        let (c, _) = switches(&opts);
        let mut out = Vec::new();
        let mut st = CookState::new();
        // Fed in two pieces: state carries across reads.
        let (a, b) = input.split_at(input.len() / 2);
        cook(&c, &mut st, a, &mut out);
        cook(&c, &mut st, b, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cooked_output() {
        assert_eq!(run(&['n'], b"a\n\nb\n"), "     1\ta\n     2\t\n     3\tb\n");
        assert_eq!(run(&['b'], b"a\n\nb\n"), "     1\ta\n\n     2\tb\n");
        assert_eq!(run(&['s'], b"a\n\n\n\nb\n"), "a\n\nb\n");
        assert_eq!(run(&['e'], b"x\ty\n"), "x\ty$\n");
        assert_eq!(run(&['t'], b"x\ty\x01\n"), "x^Iy^A\n");
        assert_eq!(run(&['v'], b"\x7f\xe9\n"), "^?M-i\n");
        assert_eq!(run(&['b', 'e'], b"a\n\n"), "     1\ta$\n      \t$\n");
        assert!(!switches(&[]).0.any());
    }
}
