//! rump.mv [-fv] source target, or source ... directory: renames inside
//! the kernel, as mv(1); across file systems (EXDEV), or where the file
//! system cannot rename (EOPNOTSUPP: rumpfs), it copies, keeping owner,
//! modes and times, and then removes the source.

use super::common::{
    basename, is_dir, join, parse_args, say, show, trim_slashes, usage, warn, warnx,
};
use super::copy::{Copier, CopyOpts};
use super::fsops::Kernel;
use super::getopt::Opt;
use super::rm::remove_tree;
use crate::Client;
use netbsd_abi::Errno;

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text =
        format!("usage: {prog} [-fv] source target\n       {prog} [-fv] source ... directory\n");
    let (opts, operands) = match parse_args(prog, args, "fv", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let verbose = opts.contains(&Opt::Flag('v'));
    let Some((target, sources)) = operands.split_last().filter(|(_, s)| !s.is_empty()) else {
        return usage(&text);
    };
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mv = Mover {
        prog,
        client: &client,
        verbose,
    };
    let into_dir = matches!(client.stat(target.as_bytes()), Ok(st) if is_dir(st.mode));
    if !into_dir {
        if sources.len() > 1 {
            return usage(&text);
        }
        return i32::from(!mv.move_one(sources[0].as_bytes(), target.as_bytes()));
    }
    let mut ok = true;
    for s in sources {
        let from = trim_slashes(s.as_bytes());
        ok &= mv.move_one(from, &join(target.as_bytes(), basename(from)));
    }
    i32::from(!ok)
}

struct Mover<'a> {
    prog: &'a str,
    client: &'a Client,
    verbose: bool,
}

impl Mover<'_> {
    fn move_one(&self, from: &[u8], to: &[u8]) -> bool {
        let ok = match self.client.rename(from, to) {
            Ok(()) => true,
            Err(Errno::EXDEV | Errno::EOPNOTSUPP) => self.copy_and_remove(from, to),
            Err(e) => {
                let what = format!("rename {} to {}", show(from), show(to));
                warnx(self.prog, format!("{what}: {e}"));
                false
            }
        };
        if ok && self.verbose {
            say(&format!("{} -> {}", show(from), show(to)));
        }
        ok
    }

    /// mv across file systems: replace the target with a copy of the
    /// source (owner, modes, times and links kept), then remove the source.
    fn copy_and_remove(&self, from: &[u8], to: &[u8]) -> bool {
        if let Ok(st) = self.client.lstat(to) {
            let r = if is_dir(st.mode) {
                self.client.rmdir(to)
            } else {
                self.client.unlink(to)
            };
            if let Err(e) = r {
                warnx(self.prog, format!("can't remove {}: {e}", show(to)));
                return false;
            }
        }
        let st = match self.client.lstat(from) {
            Ok(st) => st,
            Err(e) => {
                warn(self.prog, from, e);
                return false;
            }
        };
        let opts = CopyOpts {
            recursive: true,
            preserve: true,
            same_fs: true,
            ..CopyOpts::default()
        };
        let k = Kernel(self.client);
        if !Copier::new(self.prog, &k, &k, opts).copy_to(from, to) {
            return false;
        }
        if is_dir(st.mode) {
            return remove_tree(self.client, self.prog, from, true, false);
        }
        match self.client.unlink(from) {
            Ok(()) => true,
            Err(e) => {
                warnx(self.prog, format!("{}: remove: {e}", show(from)));
                false
            }
        }
    }
}
