//! rump.chmod [-R] [-fh] mode file ...: changes kernel file modes, as
//! chmod(1): octal or symbolic modes ("u+x", "go-w", "a=r,u+w", "+X").

use super::common::{for_each_child, is_dir, is_link, kernel_umask, usage, warn, warnx};
use super::modes::{parse_mode, ModeChange};
use crate::Client;
use netbsd_abi::stat::{Stat, ALLPERMS};
use netbsd_abi::Errno;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    recursive: bool,
    force: bool,
    links: bool,
}

/// Letters that begin a symbolic mode, so that "-w" is a mode, not an
/// option.
const MODE_LETTERS: &str = "gorstuwxX";

/// Splits chmod's arguments into its switches and operands (the mode
/// first); Err carries getopt's complaint.
fn split_args(args: &[String]) -> Result<(Flags, Vec<String>), String> {
    let mut f = Flags::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
            break;
        };
        if letters.starts_with(|c| MODE_LETTERS.contains(c)) {
            break;
        }
        for c in letters.chars() {
            match c {
                'R' => f.recursive = true,
                'f' => f.force = true,
                'h' => f.links = true,
                _ => return Err(format!("unknown option -- {c}")),
            }
        }
        i += 1;
    }
    Ok((f, args[i..].to_vec()))
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("Usage: {prog} [-R] [-fh] mode file ...\n");
    let (f, operands) = match split_args(args) {
        Ok(v) => v,
        Err(e) => {
            warnx(prog, e);
            return usage(&text);
        }
    };
    if operands.len() < 2 {
        return usage(&text);
    }
    if f.recursive && f.links {
        warnx(prog, "the -R and -h options may not be specified together.");
        return 1;
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let Some(change) = parse_mode(&operands[0], kernel_umask(&client)) else {
        let m = &operands[0];
        warnx(
            prog,
            format!("Cannot set file mode `{m}': {}", Errno::EINVAL),
        );
        return 1;
    };
    let ch = Chmod {
        prog,
        client: &client,
        f,
        change,
    };
    let mut ok = true;
    for p in &operands[1..] {
        ok &= ch.root(p.as_bytes());
    }
    i32::from(!ok)
}

struct Chmod<'a> {
    prog: &'a str,
    client: &'a Client,
    f: Flags,
    change: ModeChange,
}

impl Chmod<'_> {
    /// An operand: followed through a symbolic link unless -R or -h; a
    /// dangling link is passed over.
    fn root(&self, p: &[u8]) -> bool {
        let follow = !self.f.recursive && !self.f.links;
        let st = if follow {
            match self.client.stat(p) {
                Ok(st) => Ok(st),
                Err(e) => match self.client.lstat(p) {
                    Ok(l) if is_link(l.mode) && !self.f.links => return true,
                    Ok(l) => Ok(l),
                    Err(_) => Err(e),
                },
            }
        } else {
            self.client.lstat(p)
        };
        match st {
            Ok(st) => self.entry(p, &st),
            Err(e) => {
                warn(self.prog, p, e);
                false
            }
        }
    }

    fn entry(&self, p: &[u8], st: &Stat) -> bool {
        if is_link(st.mode) && !self.f.links {
            return true;
        }
        let mode = self.change.apply(st.mode) & ALLPERMS;
        let r = if self.f.links {
            self.client.lchmod(p, mode)
        } else {
            self.client.chmod(p, mode)
        };
        let mut ok = true;
        if let Err(e) = r {
            if !self.f.force {
                warn(self.prog, p, e);
                ok = false;
            }
        }
        if self.f.recursive && is_dir(st.mode) {
            ok &= self.children(p);
        }
        ok
    }

    fn children(&self, dir: &[u8]) -> bool {
        for_each_child(self.client, self.prog, dir, |p, st| self.entry(p, st))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn modes_that_look_like_options() {
        let (f, ops) = split_args(&s(&["-R", "-w", "file"])).unwrap();
        assert!(f.recursive);
        assert_eq!(ops, s(&["-w", "file"]));
        let (f, ops) = split_args(&s(&["-fh", "u+x", "a"])).unwrap();
        assert!(f.force && f.links && !f.recursive);
        assert_eq!(ops, s(&["u+x", "a"]));
        let (_, ops) = split_args(&s(&["--", "-x", "a"])).unwrap();
        assert_eq!(ops, s(&["-x", "a"]));
        assert_eq!(
            split_args(&s(&["-q", "1", "a"])).unwrap_err(),
            "unknown option -- q"
        );
        let (f, ops) = split_args(&s(&["-rwx", "a"])).unwrap();
        assert_eq!((f, ops), (Flags::default(), s(&["-rwx", "a"])));
    }
}
