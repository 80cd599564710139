//! Typed wrappers for the file syscalls of the VFS faction.
//!
//! Paths are byte strings (NetBSD paths need not be UTF-8); each wrapper
//! adds the NUL. Results are NetBSD values and layouts.

use crate::conn::Client;
use crate::region::{cstring, Region};
use netbsd_abi::dirent::{self, Dirent};
use netbsd_abi::fcntl::Flock;
use netbsd_abi::stat::{Stat, Timespec};
use netbsd_abi::statvfs::StatVfs;
use netbsd_abi::sysno as nr;
use netbsd_abi::Errno;

impl Client {
    fn path_call(&self, num: i32, path: &[u8], rest: &[u64]) -> Result<[i64; 2], Errno> {
        let p = cstring(path);
        let mut args = vec![p.as_ptr() as u64];
        args.extend_from_slice(rest);
        self.syscall(num, &args, &mut [Region::In(&p)])
    }

    fn two_paths(&self, num: i32, a: &[u8], b: &[u8]) -> Result<(), Errno> {
        let (a, b) = (cstring(a), cstring(b));
        self.syscall(
            num,
            &[a.as_ptr() as u64, b.as_ptr() as u64],
            &mut [Region::In(&a), Region::In(&b)],
        )
        .map(|_| ())
    }

    fn stat_call(&self, num: i32, path: &[u8]) -> Result<Stat, Errno> {
        let p = cstring(path);
        let mut b = [0u8; Stat::SIZE];
        let (pa, ba) = (p.as_ptr() as u64, b.as_ptr() as u64);
        self.syscall(num, &[pa, ba], &mut [Region::In(&p), Region::Out(&mut b)])?;
        Ok(Stat::decode(&b))
    }

    /// openat(2).
    pub fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> Result<i32, Errno> {
        let p = cstring(path);
        let args = [
            dirfd as u32 as u64,
            p.as_ptr() as u64,
            flags as u32 as u64,
            mode as u64,
        ];
        Ok(self.syscall(nr::OPENAT, &args, &mut [Region::In(&p)])?[0] as i32)
    }

    /// pread(2).
    pub fn pread(&self, fd: i32, buf: &mut [u8], offset: i64) -> Result<usize, Errno> {
        let (a, n) = (buf.as_ptr() as u64, buf.len() as u64);
        Ok(self.syscall(
            nr::PREAD,
            &[fd as u64, a, n, 0, offset as u64],
            &mut [Region::Out(buf)],
        )?[0] as usize)
    }

    /// pwrite(2).
    pub fn pwrite(&self, fd: i32, buf: &[u8], offset: i64) -> Result<usize, Errno> {
        let (a, n) = (buf.as_ptr() as u64, buf.len() as u64);
        Ok(self.syscall(
            nr::PWRITE,
            &[fd as u64, a, n, 0, offset as u64],
            &mut [Region::In(buf)],
        )?[0] as usize)
    }

    /// lseek(2).
    pub fn lseek(&self, fd: i32, offset: i64, whence: i32) -> Result<i64, Errno> {
        Ok(self.syscall(
            nr::LSEEK,
            &[fd as u64, 0, offset as u64, whence as u64],
            &mut [],
        )?[0])
    }

    /// stat(2).
    pub fn stat(&self, path: &[u8]) -> Result<Stat, Errno> {
        self.stat_call(nr::STAT50, path)
    }

    /// lstat(2).
    pub fn lstat(&self, path: &[u8]) -> Result<Stat, Errno> {
        self.stat_call(nr::LSTAT50, path)
    }

    /// fstatat(2).
    pub fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<Stat, Errno> {
        let p = cstring(path);
        let mut b = [0u8; Stat::SIZE];
        let args = [
            dirfd as u32 as u64,
            p.as_ptr() as u64,
            b.as_ptr() as u64,
            flags as u64,
        ];
        self.syscall(
            nr::FSTATAT,
            &args,
            &mut [Region::In(&p), Region::Out(&mut b)],
        )?;
        Ok(Stat::decode(&b))
    }

    /// access(2).
    pub fn access(&self, path: &[u8], mode: i32) -> Result<(), Errno> {
        self.path_call(nr::ACCESS, path, &[mode as u64]).map(|_| ())
    }

    /// mkdir(2).
    pub fn mkdir(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        self.path_call(nr::MKDIR, path, &[mode as u64]).map(|_| ())
    }

    /// rmdir(2).
    pub fn rmdir(&self, path: &[u8]) -> Result<(), Errno> {
        self.path_call(nr::RMDIR, path, &[]).map(|_| ())
    }

    /// unlink(2).
    pub fn unlink(&self, path: &[u8]) -> Result<(), Errno> {
        self.path_call(nr::UNLINK, path, &[]).map(|_| ())
    }

    /// rename(2).
    pub fn rename(&self, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        self.two_paths(nr::RENAME, from, to)
    }

    /// link(2): `link` becomes another name of `path`.
    pub fn link(&self, path: &[u8], link: &[u8]) -> Result<(), Errno> {
        self.two_paths(nr::LINK, path, link)
    }

    /// symlink(2): `link` is created, pointing at `target`.
    pub fn symlink(&self, target: &[u8], link: &[u8]) -> Result<(), Errno> {
        self.two_paths(nr::SYMLINK, target, link)
    }

    /// readlink(2).
    pub fn readlink(&self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let p = cstring(path);
        let mut b = vec![0u8; netbsd_abi::limits::MAXPATHLEN];
        let args = [p.as_ptr() as u64, b.as_ptr() as u64, b.len() as u64];
        let n = self.syscall(
            nr::READLINK,
            &args,
            &mut [Region::In(&p), Region::Out(&mut b)],
        )?[0] as usize;
        b.truncate(n);
        Ok(b)
    }

    /// chmod(2).
    pub fn chmod(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        self.path_call(nr::CHMOD, path, &[mode as u64]).map(|_| ())
    }

    /// lchmod(2).
    pub fn lchmod(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        self.path_call(nr::LCHMOD, path, &[mode as u64]).map(|_| ())
    }

    /// fchmod(2).
    pub fn fchmod(&self, fd: i32, mode: u32) -> Result<(), Errno> {
        self.syscall(nr::FCHMOD, &[fd as u64, mode as u64], &mut [])
            .map(|_| ())
    }

    /// chown(2); `u32::MAX` leaves a value unchanged.
    pub fn chown(&self, path: &[u8], uid: u32, gid: u32) -> Result<(), Errno> {
        self.path_call(nr::CHOWN, path, &[uid as u64, gid as u64])
            .map(|_| ())
    }

    /// lchown(2).
    pub fn lchown(&self, path: &[u8], uid: u32, gid: u32) -> Result<(), Errno> {
        self.path_call(nr::LCHOWN, path, &[uid as u64, gid as u64])
            .map(|_| ())
    }

    /// fchown(2).
    pub fn fchown(&self, fd: i32, uid: u32, gid: u32) -> Result<(), Errno> {
        self.syscall(nr::FCHOWN, &[fd as u64, uid as u64, gid as u64], &mut [])
            .map(|_| ())
    }

    fn times_call(
        &self,
        num: i32,
        first: u64,
        first_region: Option<&[u8]>,
        times: Option<[Timespec; 2]>,
    ) -> Result<(), Errno> {
        let tv: Option<Vec<u8>> =
            times.map(|t| t.iter().flat_map(|x| x.encode_timeval()).collect());
        let mut regions = Vec::new();
        if let Some(p) = first_region {
            regions.push(Region::In(p));
        }
        let tptr = match &tv {
            Some(b) => {
                regions.push(Region::In(b));
                b.as_ptr() as u64
            }
            None => 0,
        };
        self.syscall(num, &[first, tptr], &mut regions).map(|_| ())
    }

    /// utimes(2) with (atime, mtime) in microseconds precision; `None`
    /// sets both to now.
    pub fn utimes(&self, path: &[u8], times: Option<[Timespec; 2]>) -> Result<(), Errno> {
        let p = cstring(path);
        self.times_call(nr::UTIMES50, p.as_ptr() as u64, Some(&p), times)
    }

    /// lutimes(2).
    pub fn lutimes(&self, path: &[u8], times: Option<[Timespec; 2]>) -> Result<(), Errno> {
        let p = cstring(path);
        self.times_call(nr::LUTIMES50, p.as_ptr() as u64, Some(&p), times)
    }

    /// futimes(2).
    pub fn futimes(&self, fd: i32, times: Option<[Timespec; 2]>) -> Result<(), Errno> {
        self.times_call(nr::FUTIMES50, fd as u64, None, times)
    }

    /// utimensat(2) with nanosecond times (UTIME_NOW / UTIME_OMIT allowed).
    pub fn utimensat(
        &self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> Result<(), Errno> {
        let p = cstring(path);
        let ts: Option<Vec<u8>> = times.map(|t| t.iter().flat_map(|x| x.encode()).collect());
        let mut regions = vec![Region::In(&p)];
        let tptr = match &ts {
            Some(b) => {
                regions.push(Region::In(b));
                b.as_ptr() as u64
            }
            None => 0,
        };
        let args = [dirfd as u32 as u64, p.as_ptr() as u64, tptr, flags as u64];
        self.syscall(nr::UTIMENSAT, &args, &mut regions).map(|_| ())
    }

    /// truncate(2).
    pub fn truncate(&self, path: &[u8], len: i64) -> Result<(), Errno> {
        self.path_call(nr::TRUNCATE, path, &[0, len as u64])
            .map(|_| ())
    }

    /// ftruncate(2).
    pub fn ftruncate(&self, fd: i32, len: i64) -> Result<(), Errno> {
        self.syscall(nr::FTRUNCATE, &[fd as u64, 0, len as u64], &mut [])
            .map(|_| ())
    }

    /// fsync(2).
    pub fn fsync(&self, fd: i32) -> Result<(), Errno> {
        self.syscall(nr::FSYNC, &[fd as u64], &mut []).map(|_| ())
    }

    /// sync(2).
    pub fn sync(&self) -> Result<(), Errno> {
        self.syscall(nr::SYNC, &[], &mut []).map(|_| ())
    }

    /// getdents(2) into a buffer of `size` bytes; an empty result means the
    /// end of the directory.
    pub fn getdents(&self, fd: i32, size: usize) -> Result<Vec<Dirent>, Errno> {
        let mut b = vec![0u8; size];
        let (a, n) = (b.as_ptr() as u64, b.len() as u64);
        let got = self.syscall(
            nr::GETDENTS30,
            &[fd as u64, a, n],
            &mut [Region::Out(&mut b)],
        )?[0] as usize;
        Ok(dirent::decode(&b[..got]))
    }

    /// Every entry of the directory at `path` (by open, getdents, close).
    pub fn read_dir(&self, path: &[u8]) -> Result<Vec<Dirent>, Errno> {
        use netbsd_abi::fcntl::{O_DIRECTORY, O_RDONLY};
        let fd = self.open(path, O_RDONLY | O_DIRECTORY, 0)?;
        let mut all = Vec::new();
        let r = loop {
            match self.getdents(fd, 8192) {
                Ok(v) if v.is_empty() => break Ok(()),
                Ok(v) => all.extend(v),
                Err(e) => break Err(e),
            }
        };
        let _ = self.close(fd);
        r.map(|()| all)
    }

    /// chdir(2).
    pub fn chdir(&self, path: &[u8]) -> Result<(), Errno> {
        self.path_call(nr::CHDIR, path, &[]).map(|_| ())
    }

    /// fchdir(2).
    pub fn fchdir(&self, fd: i32) -> Result<(), Errno> {
        self.syscall(nr::FCHDIR, &[fd as u64], &mut []).map(|_| ())
    }

    /// __getcwd(2).
    pub fn getcwd(&self) -> Result<Vec<u8>, Errno> {
        let mut b = vec![0u8; netbsd_abi::limits::MAXPATHLEN];
        let (a, n) = (b.as_ptr() as u64, b.len() as u64);
        let got = self.syscall(nr::GETCWD, &[a, n], &mut [Region::Out(&mut b)])?[0] as usize;
        b.truncate(got.saturating_sub(1));
        Ok(b)
    }

    /// umask(2): returns the previous mask.
    pub fn umask(&self, mask: u32) -> Result<u32, Errno> {
        Ok(self.syscall(nr::UMASK, &[mask as u64], &mut [])?[0] as u32)
    }

    /// mknod(2) (`__mknod50`, 64-bit dev_t).
    pub fn mknod(&self, path: &[u8], mode: u32, dev: u64) -> Result<(), Errno> {
        self.path_call(nr::MKNOD50, path, &[mode as u64, dev])
            .map(|_| ())
    }

    /// statvfs1(2).
    pub fn statvfs(&self, path: &[u8]) -> Result<StatVfs, Errno> {
        let p = cstring(path);
        let mut b = vec![0u8; StatVfs::SIZE];
        let args = [
            p.as_ptr() as u64,
            b.as_ptr() as u64,
            netbsd_abi::statvfs::ST_WAIT as u64,
        ];
        self.syscall(
            nr::STATVFS1,
            &args,
            &mut [Region::In(&p), Region::Out(&mut b)],
        )?;
        Ok(StatVfs::decode(&b))
    }

    /// fstatvfs1(2).
    pub fn fstatvfs(&self, fd: i32) -> Result<StatVfs, Errno> {
        let mut b = vec![0u8; StatVfs::SIZE];
        let args = [
            fd as u64,
            b.as_ptr() as u64,
            netbsd_abi::statvfs::ST_WAIT as u64,
        ];
        self.syscall(nr::FSTATVFS1, &args, &mut [Region::Out(&mut b)])?;
        Ok(StatVfs::decode(&b))
    }

    /// getvfsstat(2): every mount, in mount order.
    pub fn getvfsstat(&self) -> Result<Vec<StatVfs>, Errno> {
        let wait = netbsd_abi::statvfs::ST_WAIT as u64;
        let n = self.syscall(nr::GETVFSSTAT, &[0, 0, wait], &mut [])?[0] as usize;
        let mut b = vec![0u8; (n + 4) * StatVfs::SIZE];
        let (a, len) = (b.as_ptr() as u64, b.len() as u64);
        let got =
            self.syscall(nr::GETVFSSTAT, &[a, len, wait], &mut [Region::Out(&mut b)])?[0] as usize;
        Ok(b.chunks_exact(StatVfs::SIZE)
            .take(got)
            .map(StatVfs::decode)
            .collect())
    }

    /// mount(2) (`__mount50`) with an argument block; returns retval[0]
    /// (the argument length for MNT_GETARGS).
    pub fn mount(
        &self,
        fstype: &[u8],
        path: &[u8],
        flags: i32,
        data: &mut [u8],
    ) -> Result<i64, Errno> {
        let (t, p) = (cstring(fstype), cstring(path));
        let (dp, dl) = if data.is_empty() {
            (0, 0)
        } else {
            (data.as_ptr() as u64, data.len() as u64)
        };
        let args = [
            t.as_ptr() as u64,
            p.as_ptr() as u64,
            flags as u32 as u64,
            dp,
            dl,
        ];
        Ok(self.syscall(
            nr::MOUNT50,
            &args,
            &mut [Region::In(&t), Region::In(&p), Region::Out(data)],
        )?[0])
    }

    /// mount(2) where the argument block holds pointers to strings, such as
    /// `ufs_args.fspec`: `strings` are the buffers those pointers refer to.
    pub fn mount_with(
        &self,
        fstype: &[u8],
        path: &[u8],
        flags: i32,
        data: &mut [u8],
        strings: &[&[u8]],
    ) -> Result<i64, Errno> {
        let (t, p) = (cstring(fstype), cstring(path));
        let (dp, dl) = (data.as_ptr() as u64, data.len() as u64);
        let args = [
            t.as_ptr() as u64,
            p.as_ptr() as u64,
            flags as u32 as u64,
            dp,
            dl,
        ];
        let mut regions = vec![Region::In(&t), Region::In(&p)];
        regions.extend(strings.iter().map(|s| Region::In(s)));
        regions.push(Region::Out(data));
        Ok(self.syscall(nr::MOUNT50, &args, &mut regions)?[0])
    }

    /// unmount(2).
    pub fn unmount(&self, path: &[u8], flags: i32) -> Result<(), Errno> {
        self.path_call(nr::UNMOUNT, path, &[flags as u64])
            .map(|_| ())
    }

    /// fcntl(2) with F_GETLK, F_SETLK or F_SETLKW.
    pub fn fcntl_lock(&self, fd: i32, cmd: i32, lock: &Flock) -> Result<Flock, Errno> {
        let mut b = lock.encode();
        let a = b.as_ptr() as u64;
        self.syscall(
            nr::FCNTL,
            &[fd as u64, cmd as u64, a],
            &mut [Region::Out(&mut b)],
        )?;
        Ok(Flock::decode(&b))
    }

    /// flock(2).
    pub fn flock(&self, fd: i32, how: i32) -> Result<(), Errno> {
        self.syscall(nr::FLOCK, &[fd as u64, how as u64], &mut [])
            .map(|_| ())
    }

    /// pathconf(2).
    pub fn pathconf(&self, path: &[u8], name: i32) -> Result<i64, Errno> {
        Ok(self.path_call(nr::PATHCONF, path, &[name as u64])?[0])
    }

    /// fpathconf(2).
    pub fn fpathconf(&self, fd: i32, name: i32) -> Result<i64, Errno> {
        Ok(self.syscall(nr::FPATHCONF, &[fd as u64, name as u64], &mut [])?[0])
    }

    /// readv(2).
    pub fn readv(&self, fd: i32, bufs: &mut [&mut [u8]]) -> Result<usize, Errno> {
        let iov: Vec<u8> = bufs
            .iter()
            .flat_map(|b| {
                [
                    (b.as_ptr() as u64).to_le_bytes(),
                    (b.len() as u64).to_le_bytes(),
                ]
                .concat()
            })
            .collect();
        let mut regions = vec![Region::In(&iov)];
        let n = bufs.len() as u64;
        regions.extend(bufs.iter_mut().map(|b| Region::Out(b)));
        Ok(self.syscall(
            nr::READV,
            &[fd as u64, iov.as_ptr() as u64, n],
            &mut regions,
        )?[0] as usize)
    }

    /// writev(2).
    pub fn writev(&self, fd: i32, bufs: &[&[u8]]) -> Result<usize, Errno> {
        let iov: Vec<u8> = bufs
            .iter()
            .flat_map(|b| {
                [
                    (b.as_ptr() as u64).to_le_bytes(),
                    (b.len() as u64).to_le_bytes(),
                ]
                .concat()
            })
            .collect();
        let mut regions = vec![Region::In(&iov)];
        regions.extend(bufs.iter().map(|b| Region::In(b)));
        let n = bufs.len() as u64;
        Ok(self.syscall(
            nr::WRITEV,
            &[fd as u64, iov.as_ptr() as u64, n],
            &mut regions,
        )?[0] as usize)
    }
}
