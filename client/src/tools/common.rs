//! Helpers shared by the file tools: option parsing that prints the
//! usage, err(3)-style diagnostics, path joining, owner names and a
//! buffered standard output that notices write errors.

use super::getopt::{getopt, Opt};
use crate::Client;
use netbsd_abi::stat::{Stat, S_IFDIR, S_IFLNK, S_IFMT};
use netbsd_abi::Errno;
use std::borrow::Cow;
use std::io::Write;

/// Parses `args` against `spec`; on a bad option prints getopt's message
/// and `usage`, and returns the exit status.
pub(super) fn parse_args(
    prog: &str,
    args: &[String],
    spec: &str,
    usage: &str,
) -> Result<(Vec<Opt>, Vec<String>), i32> {
    getopt(args, spec).map_err(|e| {
        eprintln!("{prog}: {e}");
        eprint!("{usage}");
        1
    })
}

/// Prints a usage text and returns the usage exit status.
pub(super) fn usage(text: &str) -> i32 {
    eprint!("{text}");
    1
}

/// A path or name as text, for messages and listings.
pub(super) fn show(p: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(p)
}

/// warn(3): `prog: what: message`.
pub(super) fn warn(prog: &str, what: &[u8], e: Errno) {
    eprintln!("{prog}: {}: {e}", show(what));
}

/// warnx(3): `prog: message`.
pub(super) fn warnx(prog: &str, msg: impl std::fmt::Display) {
    eprintln!("{prog}: {msg}");
}

/// warn(3) with a leading word: `prog: word: what: message`.
pub(super) fn warn_op(prog: &str, op: &str, what: &[u8], e: Errno) {
    eprintln!("{prog}: {op}: {}: {e}", show(what));
}

/// Prints a line on standard output, ignoring a closed output (for
/// verbose reports).
pub(super) fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Runs `each` on every entry of directory `dir` but `.` and `..`, with
/// its path and lstat; a directory or entry that cannot be read is
/// reported (as `prog`) and counts as a failure. Returns whether every
/// entry succeeded.
pub(super) fn for_each_child(
    client: &Client,
    prog: &str,
    dir: &[u8],
    mut each: impl FnMut(&[u8], &Stat) -> bool,
) -> bool {
    let names = match client.read_dir(dir) {
        Ok(n) => n,
        Err(e) => {
            warn(prog, dir, e);
            return false;
        }
    };
    let mut ok = true;
    for d in names.iter().filter(|d| d.name != b"." && d.name != b"..") {
        let p = join(dir, &d.name);
        ok &= match client.lstat(&p) {
            Ok(st) => each(&p, &st),
            Err(e) => {
                warn(prog, &p, e);
                false
            }
        };
    }
    ok
}

/// `dir/name`, without doubling a slash that ends `dir`; `dir` itself
/// when `name` is empty.
pub(super) fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if name.is_empty() {
        return p;
    }
    if !p.is_empty() && !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// `p` without trailing slashes (a lone "/" stays).
pub(super) fn trim_slashes(p: &[u8]) -> &[u8] {
    let mut end = p.len();
    while end > 1 && p[end - 1] == b'/' {
        end -= 1;
    }
    &p[..end]
}

/// The last component of `p` (trailing slashes ignored); empty for "/".
pub(super) fn basename(p: &[u8]) -> &[u8] {
    let p = trim_slashes(p);
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

/// The owner shown for a uid: the kernel knows only root by name.
pub(super) fn user_name(uid: u32) -> String {
    if uid == 0 {
        "root".into()
    } else {
        uid.to_string()
    }
}

/// The group shown for a gid: the kernel knows only wheel by name.
pub(super) fn group_name(gid: u32) -> String {
    if gid == 0 {
        "wheel".into()
    } else {
        gid.to_string()
    }
}

pub(super) fn is_dir(mode: u32) -> bool {
    mode & S_IFMT == S_IFDIR
}

pub(super) fn is_link(mode: u32) -> bool {
    mode & S_IFMT == S_IFLNK
}

/// Whether an error means the name does not exist (rm's NONEXISTENT).
pub(super) fn nonexistent(e: Errno) -> bool {
    matches!(e, Errno::ENOENT | Errno::ENAMETOOLONG | Errno::ENOTDIR)
}

/// Buffered standard output that remembers the first write error.
pub(super) struct Output {
    w: std::io::BufWriter<std::io::Stdout>,
    error: Option<Errno>,
}

impl Output {
    pub(super) fn new() -> Output {
        Output {
            w: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            error: None,
        }
    }

    pub(super) fn bytes(&mut self, b: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.w.write_all(b) {
                self.error = Some(Errno::from_io(&e));
            }
        }
    }

    pub(super) fn text(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// Flushes; false (after a message) when anything failed.
    pub(super) fn finish(mut self, prog: &str) -> bool {
        if self.error.is_none() {
            if let Err(e) = self.w.flush() {
                self.error = Some(Errno::from_io(&e));
            }
        }
        match self.error {
            Some(e) => {
                warn(prog, b"stdout", e);
                false
            }
            None => true,
        }
    }
}

/// Reads the kernel process's file creation mask without changing it.
pub(super) fn kernel_umask(client: &crate::Client) -> u32 {
    match client.umask(0o022) {
        Ok(old) => {
            let _ = client.umask(old);
            old
        }
        Err(_) => 0o022,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(join(b"dir", b"x"), b"dir/x");
        assert_eq!(join(b"dir/", b"x"), b"dir/x");
        assert_eq!(join(b"/", b"x"), b"/x");
        assert_eq!(join(b"t", b""), b"t");
        assert_eq!(trim_slashes(b"a/b//"), b"a/b");
        assert_eq!(trim_slashes(b"/"), b"/");
        assert_eq!(basename(b"a/b/"), b"b");
        assert_eq!(basename(b"name"), b"name");
        assert_eq!(basename(b"/"), b"");
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(1000), "1000");
        assert_eq!(group_name(0), "wheel");
        assert_eq!(group_name(5), "5");
        assert!(is_dir(0o040755) && !is_dir(0o100644));
        assert!(is_link(0o120777) && !is_link(0o100777));
        assert!(nonexistent(Errno::ENOTDIR) && !nonexistent(Errno::EACCES));
    }
}
