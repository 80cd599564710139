//! rump.ln [-fhnsv] source [target], or source ... directory: makes hard
//! or (-s) symbolic links inside the kernel, as ln(1).

use super::common::{basename, is_dir, is_link, join, parse_args, say, show, usage, warn};
use super::getopt::Opt;
use crate::Client;
use netbsd_abi::Errno;

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    force: bool,
    no_follow: bool,
    symbolic: bool,
    verbose: bool,
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text =
        format!("usage:\t{prog} [-fhnsv] file1 file2\n\t{prog} [-fhnsv] file ... directory\n");
    let (opts, operands) = match parse_args(prog, args, "fhnsv", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let mut f = Flags::default();
    for o in &opts {
        match o {
            Opt::Flag('f') => f.force = true,
            Opt::Flag('h' | 'n') => f.no_follow = true,
            Opt::Flag('s') => f.symbolic = true,
            Opt::Flag('v') => f.verbose = true,
            _ => {}
        }
    }
    if operands.is_empty() {
        return usage(&text);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let ln = Linker {
        prog,
        client: &client,
        f,
    };
    match operands.as_slice() {
        [one] => i32::from(!ln.link(one.as_bytes(), b".", true)),
        [target, name] => i32::from(!ln.link(target.as_bytes(), name.as_bytes(), false)),
        [targets @ .., dir] => ln.link_into_dir(targets, dir.as_bytes(), &text),
        [] => usage(&text),
    }
}

struct Linker<'a> {
    prog: &'a str,
    client: &'a Client,
    f: Flags,
}

impl Linker<'_> {
    fn link_into_dir(&self, targets: &[String], dir: &[u8], text: &str) -> i32 {
        if self.f.no_follow && matches!(self.client.lstat(dir), Ok(st) if is_link(st.mode)) {
            warn(self.prog, dir, Errno::ENOTDIR);
            return 1;
        }
        match self.client.stat(dir) {
            Err(e) => {
                warn(self.prog, dir, e);
                return 1;
            }
            Ok(st) if !is_dir(st.mode) => return usage(text),
            Ok(_) => {}
        }
        let mut ok = true;
        for t in targets {
            ok &= self.link(t.as_bytes(), dir, true);
        }
        i32::from(!ok)
    }

    /// Whether `name` is a directory to link into (not through a
    /// symbolic link with -h).
    fn is_target_dir(&self, name: &[u8]) -> bool {
        if matches!(self.client.lstat(name), Ok(st) if is_dir(st.mode)) {
            return true;
        }
        !self.f.no_follow && matches!(self.client.stat(name), Ok(st) if is_dir(st.mode))
    }

    /// Makes `name` (or `name/<last component of target>` when it is a
    /// directory) a link to `target`.
    fn link(&self, target: &[u8], name: &[u8], into_dir: bool) -> bool {
        if !self.f.symbolic {
            if let Err(e) = self.client.stat(target) {
                warn(self.prog, target, e);
                return false;
            }
        }
        let name = if into_dir || self.is_target_dir(name) {
            join(name, basename(target))
        } else {
            name.to_vec()
        };
        if self.f.force && self.client.lstat(&name).is_ok() {
            if let Err(e) = self.client.unlink(&name) {
                warn(self.prog, &name, e);
                return false;
            }
        }
        let r = if self.f.symbolic {
            self.client.symlink(target, &name)
        } else {
            self.client.link(target, &name)
        };
        if let Err(e) = r {
            warn(self.prog, &name, e);
            return false;
        }
        if self.f.verbose {
            let arrow = if self.f.symbolic { '-' } else { '=' };
            say(&format!("{} {arrow}> {}", show(&name), show(target)));
        }
        true
    }
}
