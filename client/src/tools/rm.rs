//! rump.rm [-f] [-dRrv] file ...: removes kernel files and, with -r,
//! whole trees, as rm(1) (without its prompts).

use super::common::{
    basename, is_dir, join, nonexistent, parse_args, say, show, trim_slashes, usage, warn, warnx,
};
use super::getopt::Opt;
use crate::Client;

/// What rm was asked to do.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    force: bool,
    dirs: bool,
    recursive: bool,
    verbose: bool,
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("usage: {prog} [-f] [-dRrv] file ...\n");
    let (opts, operands) = match parse_args(prog, args, "dfRrv", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let mut f = Flags::default();
    for o in &opts {
        match o {
            Opt::Flag('d') => f.dirs = true,
            Opt::Flag('f') => f.force = true,
            Opt::Flag('R' | 'r') => f.recursive = true,
            Opt::Flag('v') => f.verbose = true,
            _ => {}
        }
    }
    if operands.is_empty() {
        return if f.force { 0 } else { usage(&text) };
    }
    let (operands, dots) = without_dots(&operands);
    if dots {
        warnx(prog, "\".\" and \"..\" may not be removed");
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut ok = !dots;
    for p in &operands {
        ok &= if f.recursive {
            remove_tree(&client, prog, p, f.force, f.verbose)
        } else {
            remove_file(&client, prog, p, f)
        };
    }
    i32::from(!ok)
}

/// The operands with trailing slashes removed and those naming "." or
/// ".." dropped; true if any was dropped.
fn without_dots(operands: &[String]) -> (Vec<Vec<u8>>, bool) {
    let mut dropped = false;
    let mut kept = Vec::new();
    for o in operands {
        let p = trim_slashes(o.as_bytes());
        if matches!(basename(p), b"." | b"..") {
            dropped = true;
        } else {
            kept.push(p.to_vec());
        }
    }
    (kept, dropped)
}

fn remove_file(client: &Client, prog: &str, p: &[u8], f: Flags) -> bool {
    let st = match client.lstat(p) {
        Ok(st) => st,
        Err(e) if f.force && nonexistent(e) => return true,
        Err(e) => {
            warn(prog, p, e);
            return false;
        }
    };
    if is_dir(st.mode) && !f.dirs {
        warnx(prog, format!("{}: is a directory", show(p)));
        return false;
    }
    let r = if is_dir(st.mode) {
        client.rmdir(p)
    } else {
        client.unlink(p)
    };
    match r {
        Ok(()) => {
            if f.verbose {
                say(&show(p));
            }
            true
        }
        Err(e) if f.force && nonexistent(e) => true,
        Err(e) => {
            warn(prog, p, e);
            false
        }
    }
}

/// Removes `p` and everything below it (rm -r); with `force`, missing
/// files are no error. Returns false if anything failed (reported).
pub(super) fn remove_tree(
    client: &Client,
    prog: &str,
    p: &[u8],
    force: bool,
    verbose: bool,
) -> bool {
    let st = match client.lstat(p) {
        Ok(st) => st,
        Err(e) if force && nonexistent(e) => return true,
        Err(e) => {
            warn(prog, p, e);
            return false;
        }
    };
    let r = if is_dir(st.mode) {
        let names = match client.read_dir(p) {
            Ok(n) => n,
            Err(e) if force && e == netbsd_abi::Errno::ENOENT => return true,
            Err(e) => {
                warn(prog, p, e);
                return false;
            }
        };
        for d in names.iter().filter(|d| d.name != b"." && d.name != b"..") {
            remove_tree(client, prog, &join(p, &d.name), force, verbose);
        }
        client.rmdir(p)
    } else {
        client.unlink(p)
    };
    match r {
        Ok(()) => {
            if verbose {
                say(&show(p));
            }
            true
        }
        Err(e) if force && nonexistent(e) => true,
        Err(e) => {
            warn(prog, p, e);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_operands() {
        let ops: Vec<String> = ["a/", "b/..", ".", "c/./", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (kept, dropped) = without_dots(&ops);
        assert!(dropped);
        assert_eq!(kept, vec![b"a".to_vec(), b"d".to_vec()]);
        let (kept, dropped) = without_dots(&["x".to_string()]);
        assert!(!dropped && kept == vec![b"x".to_vec()]);
    }
}
