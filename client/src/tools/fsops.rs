//! One interface to two file systems, the rump kernel's (through a
//! [`Client`]) and the host's (through std), so that cp, mv, put and get
//! share one copy engine. Errors are NetBSD errno values on both sides.

use crate::region::{cstring, Region};
use crate::Client;
use netbsd_abi::fcntl::{AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY};
use netbsd_abi::stat::{Stat, Timespec, ALLPERMS, S_IFBLK, S_IFCHR, S_IFIFO, S_IFLNK, S_IFMT};
use netbsd_abi::sysno as nr;
use netbsd_abi::Errno;
use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The file operations the copy engine needs.
pub(super) trait Fs {
    type File;
    fn lstat(&self, p: &[u8]) -> Result<Stat, Errno>;
    fn stat(&self, p: &[u8]) -> Result<Stat, Errno>;
    /// The names in a directory, without "." and "..".
    fn names(&self, dir: &[u8]) -> Result<Vec<Vec<u8>>, Errno>;
    fn readlink(&self, p: &[u8]) -> Result<Vec<u8>, Errno>;
    fn open_read(&self, p: &[u8]) -> Result<Self::File, Errno>;
    /// Opens for writing, truncated; creates with `create`'s mode if given.
    fn open_write(&self, p: &[u8], create: Option<u32>) -> Result<Self::File, Errno>;
    fn read(&self, f: &mut Self::File, buf: &mut [u8]) -> Result<usize, Errno>;
    fn write(&self, f: &mut Self::File, buf: &[u8]) -> Result<usize, Errno>;
    fn close(&self, f: Self::File) -> Result<(), Errno>;
    fn mkdir(&self, p: &[u8], mode: u32) -> Result<(), Errno>;
    fn symlink(&self, target: &[u8], p: &[u8]) -> Result<(), Errno>;
    /// Makes a device node or a FIFO (`rdev` in NetBSD's encoding).
    fn mknod(&self, p: &[u8], mode: u32, rdev: u64) -> Result<(), Errno>;
    fn unlink(&self, p: &[u8]) -> Result<(), Errno>;
    /// chown, or lchown when not `follow`.
    fn chown(&self, p: &[u8], uid: u32, gid: u32, follow: bool) -> Result<(), Errno>;
    /// chmod, or lchmod when not `follow`.
    fn chmod(&self, p: &[u8], mode: u32, follow: bool) -> Result<(), Errno>;
    /// Sets the access and modification times.
    fn set_times(&self, p: &[u8], at: Timespec, mt: Timespec, follow: bool) -> Result<(), Errno>;
}

/// The rump kernel's file system.
pub(super) struct Kernel<'a>(pub &'a Client);

impl Fs for Kernel<'_> {
    type File = i32;

    fn lstat(&self, p: &[u8]) -> Result<Stat, Errno> {
        self.0.lstat(p)
    }

    fn stat(&self, p: &[u8]) -> Result<Stat, Errno> {
        self.0.stat(p)
    }

    fn names(&self, dir: &[u8]) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(self
            .0
            .read_dir(dir)?
            .into_iter()
            .map(|d| d.name)
            .filter(|n| n != b"." && n != b"..")
            .collect())
    }

    fn readlink(&self, p: &[u8]) -> Result<Vec<u8>, Errno> {
        self.0.readlink(p)
    }

    fn open_read(&self, p: &[u8]) -> Result<i32, Errno> {
        self.0.open(p, O_RDONLY, 0)
    }

    fn open_write(&self, p: &[u8], create: Option<u32>) -> Result<i32, Errno> {
        match create {
            Some(mode) => self.0.open(p, O_WRONLY | O_TRUNC | O_CREAT, mode),
            None => self.0.open(p, O_WRONLY | O_TRUNC, 0),
        }
    }

    fn read(&self, f: &mut i32, buf: &mut [u8]) -> Result<usize, Errno> {
        self.0.read(*f, buf)
    }

    fn write(&self, f: &mut i32, buf: &[u8]) -> Result<usize, Errno> {
        self.0.write(*f, buf)
    }

    fn close(&self, f: i32) -> Result<(), Errno> {
        self.0.close(f)
    }

    fn mkdir(&self, p: &[u8], mode: u32) -> Result<(), Errno> {
        self.0.mkdir(p, mode)
    }

    fn symlink(&self, target: &[u8], p: &[u8]) -> Result<(), Errno> {
        self.0.symlink(target, p)
    }

    fn mknod(&self, p: &[u8], mode: u32, rdev: u64) -> Result<(), Errno> {
        if mode & S_IFMT == S_IFIFO {
            return mkfifo(self.0, p, mode & ALLPERMS);
        }
        self.0.mknod(p, mode, rdev)
    }

    fn unlink(&self, p: &[u8]) -> Result<(), Errno> {
        self.0.unlink(p)
    }

    fn chown(&self, p: &[u8], uid: u32, gid: u32, follow: bool) -> Result<(), Errno> {
        if follow {
            self.0.chown(p, uid, gid)
        } else {
            self.0.lchown(p, uid, gid)
        }
    }

    fn chmod(&self, p: &[u8], mode: u32, follow: bool) -> Result<(), Errno> {
        if follow {
            self.0.chmod(p, mode)
        } else {
            self.0.lchmod(p, mode)
        }
    }

    fn set_times(&self, p: &[u8], at: Timespec, mt: Timespec, follow: bool) -> Result<(), Errno> {
        let flags = if follow { 0 } else { AT_SYMLINK_NOFOLLOW };
        self.0.utimensat(AT_FDCWD, p, Some([at, mt]), flags)
    }
}

/// mkfifo(2) in the kernel.
fn mkfifo(client: &Client, p: &[u8], mode: u32) -> Result<(), Errno> {
    let c = cstring(p);
    client
        .syscall(
            nr::MKFIFO,
            &[c.as_ptr() as u64, u64::from(mode)],
            &mut [Region::In(&c)],
        )
        .map(|_| ())
}

/// The host's file system.
pub(super) struct Host;

fn host_path(p: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(p))
}

fn io(e: std::io::Error) -> Errno {
    Errno::from_io(&e)
}

fn nix_err(e: nix::Error) -> Errno {
    Errno::from_host(e as i32)
}

/// A host file's metadata as a NetBSD `struct stat` (device numbers
/// re-encoded the NetBSD way).
fn host_stat(m: &std::fs::Metadata) -> Stat {
    let ts = |sec: i64, nsec: i64| Timespec { sec, nsec };
    let rdev = m.rdev();
    let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    Stat {
        dev: m.dev(),
        mode: m.mode(),
        ino: m.ino(),
        nlink: u32::try_from(m.nlink()).unwrap_or(u32::MAX),
        uid: m.uid(),
        gid: m.gid(),
        rdev: netbsd_abi::stat::makedev(major as u32, minor as u32),
        atime: ts(m.atime(), m.atime_nsec()),
        mtime: ts(m.mtime(), m.mtime_nsec()),
        ctime: ts(m.ctime(), m.ctime_nsec()),
        birthtime: Timespec::default(),
        size: i64::try_from(m.size()).unwrap_or(i64::MAX),
        blocks: i64::try_from(m.blocks()).unwrap_or(i64::MAX),
        blksize: i32::try_from(m.blksize()).unwrap_or(i32::MAX),
        flags: 0,
        gen: 0,
    }
}

/// A NetBSD time as the host's.
fn system_time(t: Timespec) -> SystemTime {
    let nsec = Duration::from_nanos(t.nsec.clamp(0, 999_999_999) as u64);
    let when = if t.sec >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(t.sec as u64))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(t.sec.unsigned_abs()))
    };
    when.and_then(|w| w.checked_add(nsec)).unwrap_or(UNIX_EPOCH)
}

impl Fs for Host {
    type File = std::fs::File;

    fn lstat(&self, p: &[u8]) -> Result<Stat, Errno> {
        std::fs::symlink_metadata(host_path(p))
            .map(|m| host_stat(&m))
            .map_err(io)
    }

    fn stat(&self, p: &[u8]) -> Result<Stat, Errno> {
        std::fs::metadata(host_path(p))
            .map(|m| host_stat(&m))
            .map_err(io)
    }

    fn names(&self, dir: &[u8]) -> Result<Vec<Vec<u8>>, Errno> {
        std::fs::read_dir(host_path(dir))
            .map_err(io)?
            .map(|e| e.map(|e| e.file_name().into_vec()).map_err(io))
            .collect()
    }

    fn readlink(&self, p: &[u8]) -> Result<Vec<u8>, Errno> {
        std::fs::read_link(host_path(p))
            .map(|t| t.into_os_string().into_vec())
            .map_err(io)
    }

    fn open_read(&self, p: &[u8]) -> Result<std::fs::File, Errno> {
        std::fs::File::open(host_path(p)).map_err(io)
    }

    fn open_write(&self, p: &[u8], create: Option<u32>) -> Result<std::fs::File, Errno> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).truncate(true);
        if let Some(mode) = create {
            o.create(true).mode(mode & ALLPERMS);
        }
        o.open(host_path(p)).map_err(io)
    }

    fn read(&self, f: &mut std::fs::File, buf: &mut [u8]) -> Result<usize, Errno> {
        std::io::Read::read(f, buf).map_err(io)
    }

    fn write(&self, f: &mut std::fs::File, buf: &[u8]) -> Result<usize, Errno> {
        std::io::Write::write(f, buf).map_err(io)
    }

    fn close(&self, f: std::fs::File) -> Result<(), Errno> {
        drop(f);
        Ok(())
    }

    fn mkdir(&self, p: &[u8], mode: u32) -> Result<(), Errno> {
        std::fs::DirBuilder::new()
            .mode(mode & ALLPERMS)
            .create(host_path(p))
            .map_err(io)
    }

    fn symlink(&self, target: &[u8], p: &[u8]) -> Result<(), Errno> {
        std::os::unix::fs::symlink(host_path(target), host_path(p)).map_err(io)
    }

    fn mknod(&self, p: &[u8], mode: u32, rdev: u64) -> Result<(), Errno> {
        use nix::sys::stat::{Mode, SFlag};
        let perm = Mode::from_bits_truncate((mode & ALLPERMS) as libc::mode_t);
        if mode & S_IFMT == S_IFIFO {
            return nix::unistd::mkfifo(host_path(p), perm).map_err(nix_err);
        }
        let kind = match mode & S_IFMT {
            S_IFCHR => SFlag::S_IFCHR,
            S_IFBLK => SFlag::S_IFBLK,
            _ => return Err(Errno::EOPNOTSUPP),
        };
        let (ma, mi) = (netbsd_abi::stat::major(rdev), netbsd_abi::stat::minor(rdev));
        let dev = nix::sys::stat::makedev(u64::from(ma), u64::from(mi));
        nix::sys::stat::mknod(host_path(p), kind, perm, dev).map_err(nix_err)
    }

    fn unlink(&self, p: &[u8]) -> Result<(), Errno> {
        std::fs::remove_file(host_path(p)).map_err(io)
    }

    fn chown(&self, p: &[u8], uid: u32, gid: u32, follow: bool) -> Result<(), Errno> {
        let r = if follow {
            std::os::unix::fs::chown(host_path(p), Some(uid), Some(gid))
        } else {
            std::os::unix::fs::lchown(host_path(p), Some(uid), Some(gid))
        };
        r.map_err(io)
    }

    /// The host cannot change a symbolic link's mode; that is not an error.
    fn chmod(&self, p: &[u8], mode: u32, follow: bool) -> Result<(), Errno> {
        if !follow && self.lstat(p)?.mode & S_IFMT == S_IFLNK {
            return Ok(());
        }
        let perm = std::fs::Permissions::from_mode(mode & ALLPERMS);
        std::fs::set_permissions(host_path(p), perm).map_err(io)
    }

    /// Through an open descriptor (std has no path form): symbolic links
    /// and device nodes keep their times.
    fn set_times(&self, p: &[u8], at: Timespec, mt: Timespec, follow: bool) -> Result<(), Errno> {
        let st = if follow {
            self.stat(p)?
        } else {
            self.lstat(p)?
        };
        if matches!(st.mode & S_IFMT, S_IFLNK | S_IFCHR | S_IFBLK) {
            return Ok(());
        }
        let open = |write: bool| {
            std::fs::OpenOptions::new()
                .read(!write)
                .write(write)
                .custom_flags(libc::O_NONBLOCK)
                .open(host_path(p))
        };
        let f = open(false).or_else(|_| open(true)).map_err(io)?;
        let times = std::fs::FileTimes::new()
            .set_accessed(system_time(at))
            .set_modified(system_time(mt));
        f.set_times(times).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_convert() {
        let t = Timespec {
            sec: 1_000_000_000,
            nsec: 5,
        };
        let d = system_time(t).duration_since(UNIX_EPOCH).unwrap();
        assert_eq!((d.as_secs(), d.subsec_nanos()), (1_000_000_000, 5));
        let before = system_time(Timespec { sec: -10, nsec: 0 });
        assert_eq!(
            UNIX_EPOCH.duration_since(before).unwrap(),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn host_files_round_trip() {
        let dir = std::env::temp_dir().join(format!("rump-fsops-{}", std::process::id()));
        let d = dir.as_os_str().as_bytes().to_vec();
        let h = Host;
        h.mkdir(&d, 0o755).unwrap();
        let f = super::super::common::join(&d, b"f");
        let mut w = h.open_write(&f, Some(0o640)).unwrap();
        assert_eq!(h.write(&mut w, b"data").unwrap(), 4);
        h.close(w).unwrap();
        let t = Timespec {
            sec: 1_234_567_890,
            nsec: 0,
        };
        h.set_times(&f, t, t, true).unwrap();
        h.chmod(&f, 0o600, true).unwrap();
        let st = h.lstat(&f).unwrap();
        assert_eq!((st.mode & 0o7777, st.size, st.mtime.sec), (0o600, 4, t.sec));
        assert_eq!(h.names(&d).unwrap(), vec![b"f".to_vec()]);
        h.unlink(&f).unwrap();
        std::fs::remove_dir(&dir).unwrap();
        assert_eq!(h.lstat(&d).unwrap_err(), Errno::ENOENT);
    }
}
