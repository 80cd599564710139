//! rump.umount [-fRv] special | node ..., rump.umount -a [-fv]: unmounts
//! kernel file systems, as umount(8); a mount is found by its mount
//! point or by what is mounted there.

use super::common::{parse_args, say, show, trim_slashes, usage, warn, warnx};
use super::getopt::Opt;
use crate::Client;
use netbsd_abi::mount::MNT_FORCE;
use netbsd_abi::statvfs::StatVfs;
use netbsd_abi::Errno;

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("Usage: {prog} [-fvR] special | node\n\t {prog} -a [-fv]\n");
    let (opts, operands) = match parse_args(prog, args, "aAfRv", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let flag = |c| opts.contains(&Opt::Flag(c));
    let all = flag('a') || flag('A');
    let raw = flag('R');
    if operands.is_empty() != all || (all && raw) {
        return usage(&text);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let u = Umount {
        prog,
        client: &client,
        flags: if flag('f') { MNT_FORCE } else { 0 },
        verbose: flag('v'),
    };
    if all {
        return u.all();
    }
    let mut ok = true;
    for name in &operands {
        ok &= if raw {
            u.unmount(name, name)
        } else {
            u.by_name(name)
        };
    }
    i32::from(!ok)
}

struct Umount<'a> {
    prog: &'a str,
    client: &'a Client,
    flags: i32,
    verbose: bool,
}

/// The mount point for `name`: a mount point itself, or what is mounted
/// (the latest mount of it).
fn find_mount<'a>(mounts: &'a [StatVfs], name: &str) -> Option<&'a StatVfs> {
    let dir = show(trim_slashes(name.as_bytes())).into_owned();
    mounts
        .iter()
        .rev()
        .find(|m| m.mntonname == dir)
        .or_else(|| mounts.iter().rev().find(|m| m.mntfromname == name))
}

impl Umount<'_> {
    /// Every mount but the first (the root), latest first.
    fn all(&self) -> i32 {
        let mounts = match self.client.getvfsstat() {
            Ok(m) => m,
            Err(e) => {
                warnx(self.prog, format!("getmntinfo: {e}"));
                return 1;
            }
        };
        let mut ok = true;
        for m in mounts.iter().skip(1).rev() {
            ok &= self.unmount(&m.mntfromname, &m.mntonname);
        }
        i32::from(!ok)
    }

    fn by_name(&self, name: &str) -> bool {
        let mounts = self.client.getvfsstat().unwrap_or_default();
        if let Some(m) = find_mount(&mounts, name) {
            return self.unmount(&m.mntfromname, &m.mntonname);
        }
        match self.client.unmount(name.as_bytes(), self.flags) {
            Ok(()) => true,
            Err(Errno::EINVAL) => {
                warnx(self.prog, format!("{name}: not currently mounted"));
                false
            }
            Err(e) => {
                warn(self.prog, name.as_bytes(), e);
                false
            }
        }
    }

    fn unmount(&self, what: &str, dir: &str) -> bool {
        if self.verbose {
            say(&format!("{what}: unmount from {dir}"));
        }
        match self.client.unmount(dir.as_bytes(), self.flags) {
            Ok(()) => true,
            Err(e) => {
                warn(self.prog, dir.as_bytes(), e);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(from: &str, on: &str) -> StatVfs {
        StatVfs {
            mntfromname: from.into(),
            mntonname: on.into(),
            ..StatVfs::default()
        }
    }

    #[test]
    fn finding_mounts() {
        let v = vec![
            m("rootfs", "/"),
            m("/dev/wd0a", "/mnt"),
            m("tmpfs", "/mnt/t"),
        ];
        assert_eq!(find_mount(&v, "/mnt/").unwrap().mntonname, "/mnt");
        assert_eq!(find_mount(&v, "/dev/wd0a").unwrap().mntonname, "/mnt");
        assert_eq!(find_mount(&v, "tmpfs").unwrap().mntonname, "/mnt/t");
        assert!(find_mount(&v, "/nowhere").is_none());
    }
}
