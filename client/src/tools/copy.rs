//! The copy engine of cp(1), also behind mv(1) across file systems and
//! behind put and get between the host and the kernel: cp's target rules
//! (copy to a name, or into a directory), its tree walk, and its
//! messages. Sources and destination are any two [`Fs`]es.

use super::common::{
    basename, is_dir, is_link, join, parse_args, say, show, trim_slashes, usage, warn, warn_op,
    warnx,
};
use super::fsops::Fs;
use super::getopt::Opt;
use crate::Client;
use netbsd_abi::stat::{
    Stat, ALLPERMS, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_ISGID, S_ISUID,
};
use netbsd_abi::Errno;

/// Size of one read and write when copying file data.
const CHUNK: usize = 64 * 1024;

/// How to copy.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CopyOpts {
    /// Copy directories and their contents (-R); device nodes and FIFOs
    /// are then recreated rather than read.
    pub recursive: bool,
    /// Keep owner, mode and times (-p).
    pub preserve: bool,
    /// Copy what symbolic links point to; otherwise copy them as links.
    pub follow: bool,
    /// Replace a destination that cannot be opened (-f).
    pub force: bool,
    /// Print "source -> target" for each file copied (-v).
    pub verbose: bool,
    /// Source and destination are one file system: refuse to copy a file
    /// onto itself.
    pub same_fs: bool,
}

/// How the operands relate, as cp(1) decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `cp file target`: the target is the copy's name.
    FileToFile,
    /// `cp -R dir new`: the new directory is the copy of dir.
    DirToNew,
    /// `cp src ... dir`: each source is copied into dir.
    IntoDir,
}

/// The result of a copy run.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Everything copied (true) or something failed and was reported.
    Done(bool),
    /// The operands do not fit the synopsis: print the usage.
    Usage,
}

/// Copies between two file systems.
pub(super) struct Copier<'a, S: Fs, D: Fs> {
    prog: &'a str,
    src: &'a S,
    dst: &'a D,
    opts: CopyOpts,
    failed: bool,
}

impl<'a, S: Fs, D: Fs> Copier<'a, S, D> {
    pub(super) fn new(prog: &'a str, src: &'a S, dst: &'a D, opts: CopyOpts) -> Self {
        Copier {
            prog,
            src,
            dst,
            opts,
            failed: false,
        }
    }

    /// Copies `sources` to `target` with cp(1)'s rules.
    pub(super) fn run(&mut self, sources: &[String], target: &str) -> Outcome {
        let slash = target.ends_with('/');
        let target = trim_slashes(target.as_bytes());
        let kind = match self.kind(sources, target, slash) {
            Ok(k) => k,
            Err(outcome) => return outcome,
        };
        for s in sources {
            self.copy_root(trim_slashes(s.as_bytes()), target, kind);
        }
        Outcome::Done(!self.failed)
    }

    /// Copies one file or tree to exactly `dst` (mv's fallback).
    pub(super) fn copy_to(&mut self, src: &[u8], dst: &[u8]) -> bool {
        self.copy_root(src, dst, Kind::FileToFile);
        !self.failed
    }

    fn kind(&self, sources: &[String], target: &[u8], slash: bool) -> Result<Kind, Outcome> {
        let first = sources.first().ok_or(Outcome::Usage)?.as_bytes();
        let exists = match self.dst.stat(target) {
            Ok(st) if is_dir(st.mode) => return Ok(Kind::IntoDir),
            Ok(_) => true,
            Err(Errno::ENOENT) => false,
            Err(e) => {
                warn(self.prog, target, e);
                return Err(Outcome::Done(false));
            }
        };
        if sources.len() > 1 {
            return Err(Outcome::Usage);
        }
        let mut kind = Kind::FileToFile;
        if !exists {
            match self.src.lstat(first) {
                Ok(st) if is_dir(st.mode) && self.opts.recursive => kind = Kind::DirToNew,
                Ok(_) => {}
                Err(e) => {
                    warn(self.prog, first, e);
                    return Err(Outcome::Done(false));
                }
            }
        }
        if slash && kind == Kind::FileToFile {
            let t = show(target);
            match exists {
                true => warnx(self.prog, format!("{t} is not a directory")),
                false => warnx(self.prog, format!("directory {t} does not exist")),
            }
            return Err(Outcome::Done(false));
        }
        Ok(kind)
    }

    fn fail(&mut self) {
        self.failed = true;
    }

    /// The metadata of a source: followed through links when following
    /// (a dangling link is then the link itself).
    fn source_stat(&self, p: &[u8]) -> Result<Stat, Errno> {
        if !self.opts.follow {
            return self.src.lstat(p);
        }
        self.src
            .stat(p)
            .or_else(|e| self.src.lstat(p).map_err(|_| e))
    }

    fn copy_root(&mut self, src: &[u8], target: &[u8], kind: Kind) {
        let st = match self.source_stat(src) {
            Ok(st) => st,
            Err(e) => {
                warn(self.prog, src, e);
                return self.fail();
            }
        };
        let dst = match kind {
            Kind::IntoDir => match basename(src) {
                b".." => join(target, b"."),
                b => join(target, b),
            },
            _ => target.to_vec(),
        };
        self.entry(src, &dst, &st);
    }

    fn entry(&mut self, src: &[u8], dst: &[u8], st: &Stat) {
        let to = self.dst.stat(dst).ok();
        if let Some(t) = &to {
            if self.opts.same_fs && t.dev == st.dev && t.ino == st.ino {
                let (d, s) = (show(dst), show(src));
                warnx(
                    self.prog,
                    format!("{d} and {s} are identical (not copied)."),
                );
                return self.fail();
            }
            if !is_dir(st.mode) && is_dir(t.mode) {
                let (d, s) = (show(dst), show(src));
                let msg = format!("cannot overwrite directory {d} with non-directory {s}");
                warnx(self.prog, msg);
                return self.fail();
            }
        }
        let ok = match st.mode & S_IFMT {
            S_IFDIR => return self.dir(src, dst, st, to),
            S_IFLNK if !self.opts.follow => self.link(src, dst, st),
            S_IFBLK | S_IFCHR | S_IFIFO if self.opts.recursive => self.special(dst, st),
            _ => self.file(src, dst, st, to.is_none()),
        };
        self.report(ok, src, dst);
    }

    fn report(&mut self, ok: bool, src: &[u8], dst: &[u8]) {
        if !ok {
            self.fail();
        } else if self.opts.verbose {
            say(&format!("{} -> {}", show(src), show(dst)));
        }
    }

    fn dir(&mut self, src: &[u8], dst: &[u8], st: &Stat, to: Option<Stat>) {
        if !self.opts.recursive {
            warnx(
                self.prog,
                format!("{} is a directory (not copied).", show(src)),
            );
            return self.fail();
        }
        let mut names = match self.src.names(src) {
            Ok(n) => n,
            Err(e) => {
                warn(self.prog, src, e);
                return self.fail();
            }
        };
        names.sort();
        let Some(made) = self.make_dir(dst, st, to) else {
            return self.fail();
        };
        self.report(true, src, dst);
        for n in names {
            let (s, d) = (join(src, &n), join(dst, &n));
            match self.source_stat(&s) {
                Ok(cst) => self.entry(&s, &d, &cst),
                Err(e) => {
                    warn(self.prog, &s, e);
                    self.fail();
                }
            }
        }
        if self.opts.preserve {
            if !self.setfile(dst, st, false) {
                self.fail();
            }
        } else if made {
            let _ = self.dst.chmod(dst, st.mode & ALLPERMS, true);
        }
    }

    /// Makes the copy of a directory unless it exists; Some(true) if it
    /// was made, None (reported) if it cannot be had.
    fn make_dir(&self, dst: &[u8], st: &Stat, to: Option<Stat>) -> Option<bool> {
        let made = match to {
            None => self
                .dst
                .mkdir(dst, (st.mode & ALLPERMS) | 0o700)
                .map(|_| true),
            Some(t) if !is_dir(t.mode) => Err(Errno::ENOTDIR),
            Some(_) => Ok(false),
        };
        made.map_err(|e| warn(self.prog, dst, e)).ok()
    }

    /// Opens the destination of a file copy as cp does: truncate what is
    /// there, or create it; replace it when that fails and -f is given or
    /// links are being copied as links.
    fn open_dest(&self, dst: &[u8], st: &Stat, dne: bool) -> Result<D::File, Errno> {
        let mode = st.mode & ALLPERMS & !(S_ISUID | S_ISGID);
        let as_links = !self.opts.follow;
        let first = if dne {
            self.dst.open_write(dst, Some(mode))
        } else {
            let sb = match as_links {
                true => self.dst.lstat(dst),
                false => self.dst.stat(dst),
            };
            match sb {
                Err(e) => {
                    warn_op(self.prog, "stat", dst, e);
                    return Err(e);
                }
                Ok(sb) if as_links && is_link(sb.mode) => Err(Errno::EEXIST),
                Ok(_) => self.dst.open_write(dst, None),
            }
        };
        let to = match first {
            Err(_) if self.opts.force || as_links => {
                let _ = self.dst.unlink(dst);
                self.dst.open_write(dst, Some(mode))
            }
            r => r,
        };
        to.inspect_err(|&e| warn(self.prog, dst, e))
    }

    fn file(&mut self, src: &[u8], dst: &[u8], st: &Stat, dne: bool) -> bool {
        let mut from = match self.src.open_read(src) {
            Ok(f) => f,
            Err(e) => {
                warn(self.prog, src, e);
                return false;
            }
        };
        let Ok(mut to) = self.open_dest(dst, st, dne) else {
            let _ = self.src.close(from);
            return false;
        };
        let copied = self.pump(&mut from, &mut to, src, dst);
        let _ = self.src.close(from);
        let closed = self.dst.close(to);
        if !copied {
            return false;
        }
        if let Err(e) = closed {
            warn(self.prog, dst, e);
            return false;
        }
        !self.opts.preserve || self.setfile(dst, st, false)
    }

    /// Moves the data across in chunks.
    fn pump(&self, from: &mut S::File, to: &mut D::File, src: &[u8], dst: &[u8]) -> bool {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match self.src.read(from, &mut buf) {
                Ok(0) => return true,
                Ok(n) => n,
                Err(e) => {
                    warn(self.prog, src, e);
                    return false;
                }
            };
            if let Err(e) = write_all(self.dst, to, &buf[..n]) {
                warn(self.prog, dst, e);
                return false;
            }
        }
    }

    fn link(&mut self, src: &[u8], dst: &[u8], st: &Stat) -> bool {
        let target = match self.src.readlink(src) {
            Ok(t) => t,
            Err(e) => {
                warn_op(self.prog, "readlink", src, e);
                return false;
            }
        };
        if self.dst.lstat(dst).is_ok() {
            if let Err(e) = self.dst.unlink(dst) {
                warn_op(self.prog, "unlink", dst, e);
                return false;
            }
        }
        if let Err(e) = self.dst.symlink(&target, dst) {
            warn_op(self.prog, "symlink", &target, e);
            return false;
        }
        !self.opts.preserve || self.setfile(dst, st, true)
    }

    /// Recreates a device node or FIFO.
    fn special(&mut self, dst: &[u8], st: &Stat) -> bool {
        if self.dst.lstat(dst).is_ok() {
            if let Err(e) = self.dst.unlink(dst) {
                warn_op(self.prog, "unlink", dst, e);
                return false;
            }
        }
        if let Err(e) = self.dst.mknod(dst, st.mode, st.rdev) {
            let op = match st.mode & S_IFMT {
                S_IFIFO => "mkfifo",
                _ => "mknod",
            };
            warn_op(self.prog, op, dst, e);
            return false;
        }
        !self.opts.preserve || self.setfile(dst, st, false)
    }

    /// Gives the copy the source's owner, times and mode; a refused
    /// chown (EPERM) is silent but drops the setuid and setgid bits.
    fn setfile(&self, dst: &[u8], st: &Stat, link: bool) -> bool {
        let mut mode = st.mode & ALLPERMS;
        let mut ok = true;
        if let Err(e) = self.dst.chown(dst, st.uid, st.gid, !link) {
            if e != Errno::EPERM {
                warn_op(self.prog, "chown", dst, e);
                ok = false;
            }
            mode &= !(S_ISUID | S_ISGID);
        }
        if let Err(e) = self.dst.set_times(dst, st.atime, st.mtime, !link) {
            warn_op(self.prog, "lutimens", dst, e);
            ok = false;
        }
        match self.dst.chmod(dst, mode, !link) {
            Err(e) if !(link && e == Errno::EOPNOTSUPP) => {
                warn_op(self.prog, "chmod", dst, e);
                false
            }
            _ => ok,
        }
    }
}

/// The shared body of put and get: -R and -v, the operands, the
/// connection, then `copy` with modes, times and links always kept.
pub(super) fn transfer(
    prog: &str,
    args: &[String],
    text: &str,
    copy: impl FnOnce(&Client, CopyOpts, &[String], &str) -> Outcome,
) -> i32 {
    let (opts, mut operands) = match parse_args(prog, args, "Rv", text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    if operands.len() < 2 {
        return usage(text);
    }
    let target = operands.pop().unwrap_or_default();
    let copy_opts = CopyOpts {
        recursive: opts.contains(&Opt::Flag('R')),
        verbose: opts.contains(&Opt::Flag('v')),
        preserve: true,
        ..CopyOpts::default()
    };
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match copy(&client, copy_opts, &operands, &target) {
        Outcome::Done(ok) => i32::from(!ok),
        Outcome::Usage => usage(text),
    }
}

/// Writes all of `buf`, in as many writes as it takes.
pub(super) fn write_all<F: Fs>(fs: &F, f: &mut F::File, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match fs.write(f, buf)? {
            0 => return Err(Errno::EIO),
            n => buf = &buf[n.min(buf.len())..],
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fsops::Host;
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    /// A scratch directory on the host, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!("rump-copy-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir(&p).unwrap();
            Scratch(p)
        }

        fn path(&self, name: &str) -> String {
            self.0.join(name).to_string_lossy().into_owned()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn opts(recursive: bool) -> CopyOpts {
        CopyOpts {
            recursive,
            preserve: true,
            same_fs: true,
            ..CopyOpts::default()
        }
    }

    #[test]
    fn trees_with_links_modes_and_times() {
        let s = Scratch::new("tree");
        std::fs::create_dir_all(s.path("a/sub")).unwrap();
        std::fs::write(s.path("a/sub/f"), vec![7u8; 200_000]).unwrap();
        std::os::unix::fs::symlink("sub/f", s.path("a/l")).unwrap();
        let h = Host;
        let t = netbsd_abi::stat::Timespec {
            sec: 1_000_000_000,
            nsec: 0,
        };
        h.set_times(s.path("a/sub/f").as_bytes(), t, t, true)
            .unwrap();
        h.chmod(s.path("a/sub/f").as_bytes(), 0o640, true).unwrap();
        let mut c = Copier::new("cp", &h, &h, opts(true));
        let r = c.run(&[s.path("a")], &s.path("b"));
        assert_eq!(r, Outcome::Done(true));
        let f = h.lstat(s.path("b/sub/f").as_bytes()).unwrap();
        assert_eq!(
            (f.size, f.mode & 0o7777, f.mtime.sec),
            (200_000, 0o640, t.sec)
        );
        assert_eq!(
            std::fs::read_link(s.path("b/l"))
                .unwrap()
                .as_os_str()
                .as_bytes(),
            b"sub/f"
        );
        // A second run copies into the now existing directory.
        let r = Copier::new("cp", &h, &h, opts(true)).run(&[s.path("a")], &s.path("b"));
        assert_eq!(r, Outcome::Done(true));
        assert!(h.lstat(s.path("b/a/sub/f").as_bytes()).is_ok());
    }

    #[test]
    fn operand_rules() {
        let s = Scratch::new("rules");
        std::fs::write(s.path("f"), b"x").unwrap();
        std::fs::write(s.path("g"), b"y").unwrap();
        std::fs::create_dir(s.path("d")).unwrap();
        let h = Host;
        let run =
            |srcs: &[String], t: &str, rec: bool| Copier::new("cp", &h, &h, opts(rec)).run(srcs, t);
        // Two sources need a directory target.
        assert_eq!(
            run(&[s.path("f"), s.path("g")], &s.path("g"), false),
            Outcome::Usage
        );
        // A directory without -R is not copied.
        assert_eq!(
            run(&[s.path("d")], &s.path("e"), false),
            Outcome::Done(false)
        );
        // A file onto itself is refused.
        assert_eq!(
            run(&[s.path("f")], &s.path("f"), false),
            Outcome::Done(false)
        );
        // A trailing slash names a directory that must exist.
        assert_eq!(
            run(&[s.path("f")], &format!("{}/", s.path("new")), false),
            Outcome::Done(false)
        );
        assert_eq!(
            run(&[s.path("f"), s.path("g")], &s.path("d"), false),
            Outcome::Done(true)
        );
        assert_eq!(std::fs::read(s.path("d/g")).unwrap(), b"y");
    }
}
