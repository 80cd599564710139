//! The syscalls of the kernel core: descriptors and I/O on them, process
//! identity, pipes, time, sysctl, modules and reboot.

use super::fd::FileDesc;
use super::systable::{BuiltinFn, Handler, SysEntry};
use super::{fdops, kernel, pipe, reboot, sched};
use crate::sp::lwp::LwpCtx;
use netbsd_abi::fcntl::Flock;
use netbsd_abi::fcntl::*;
use netbsd_abi::ioctl::*;
use netbsd_abi::limits::IOV_MAX;
use netbsd_abi::stat::Timespec;
use netbsd_abi::sysno as nr;
use netbsd_abi::Errno;
use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::file::FileKind;
use rump_plugin_api::{Args, KResult, SysRet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest piece a read or write moves through the kernel at once.
const IO_CHUNK: usize = 1 << 20;

/// NetBSD's SIGPIPE.
const SIGPIPE: u32 = 13;

/// Every syscall of the kernel core, registered by the `rumpkern`
/// component.
pub fn table() -> Vec<(i32, &'static str, BuiltinFn)> {
    vec![
        (nr::READ, "read", sys_read),
        (nr::WRITE, "write", sys_write),
        (nr::CLOSE, "close", sys_close),
        (nr::GETPID, "getpid", sys_getpid),
        (nr::GETUID, "getuid", sys_getuid),
        (nr::GETEUID, "geteuid", sys_getuid),
        (nr::GETPPID, "getppid", sys_getppid),
        (nr::DUP, "dup", sys_dup),
        (nr::PIPE, "pipe", sys_pipe),
        (nr::GETEGID, "getegid", sys_getuid),
        (nr::GETGID, "getgid", sys_getuid),
        (nr::IOCTL, "ioctl", sys_ioctl),
        (nr::DUP2, "dup2", sys_dup2),
        (nr::FCNTL, "fcntl", sys_fcntl),
        (nr::READV, "readv", sys_readv),
        (nr::WRITEV, "writev", sys_writev),
        (nr::SYSCTL, "__sysctl", sys_sysctl),
        (nr::REBOOT, "reboot", reboot::sys_reboot),
        (nr::MODCTL, "modctl", super::module::sys_modctl),
        (nr::ISSETUGID, "issetugid", sys_issetugid),
        (nr::GETTIMEOFDAY50, "__gettimeofday50", sys_gettimeofday),
        (nr::CLOCK_GETTIME50, "__clock_gettime50", sys_clock_gettime),
        (nr::NANOSLEEP50, "__nanosleep50", sys_nanosleep),
        (nr::FSTAT50, "__fstat50", sys_fstat),
        (nr::PIPE2, "pipe2", sys_pipe2),
        (nr::DUP3, "dup3", sys_dup3),
        (nr::FLOCK, "flock", sys_flock),
    ]
}

/// Installs the core syscalls, owned by `owner`.
pub fn register(owner: &str) -> Result<(), Errno> {
    for (num, name, f) in table() {
        kernel().syscalls.register(
            num,
            SysEntry {
                name,
                owner: owner.to_string(),
                handler: Handler::Builtin(f),
            },
        )?;
    }
    Ok(())
}

fn readable(lwp: &LwpCtx<'_>, fd: i32) -> KResult<Arc<FileDesc>> {
    let d = fdops::get(lwp.proc, fd)?;
    if d.fflags() & FREAD == 0 {
        return Err(Errno::EBADF);
    }
    Ok(d)
}

fn writable(lwp: &LwpCtx<'_>, fd: i32) -> KResult<Arc<FileDesc>> {
    let d = fdops::get(lwp.proc, fd)?;
    if d.fflags() & FWRITE == 0 {
        return Err(Errno::EBADF);
    }
    Ok(d)
}

/// Reads up to `len` bytes from an open file: one call for streams,
/// chunk after chunk until a short read for files.
/// The bytes come back as the file made them: a read of up to
/// [`IO_CHUNK`] bytes is not copied on its way to the client.
fn read_file(d: &FileDesc, len: usize) -> KResult<RVec<u8>> {
    if len > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    let first = len.min(IO_CHUNK);
    let mut out = d.file.read(first, None.into(), d.fflags()).into_result()?;
    if d.file.kind() != FileKind::Vnode || out.len() < first {
        return Ok(out);
    }
    while out.len() < len {
        let want = (len - out.len()).min(IO_CHUNK);
        let Ok(chunk) = d.file.read(want, None.into(), d.fflags()).into_result() else {
            break;
        };
        out.extend_from_slice(&chunk);
        if chunk.len() < want {
            break;
        }
    }
    Ok(out)
}

/// Writes `data` to an open file, raising SIGPIPE on a broken pipe.
fn write_file(lwp: &mut LwpCtx<'_>, d: &FileDesc, data: &[u8]) -> KResult<u64> {
    let r = d
        .file
        .write(data.into(), None.into(), d.fflags())
        .into_result();
    if r == Err(Errno::EPIPE) && d.fflags() & O_NOSIGPIPE == 0 {
        lwp.raise(SIGPIPE);
    }
    r
}

fn sys_read(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let d = readable(lwp, a.int(0))?;
    let data = read_file(&d, a.size(2))?;
    let n = data.len();
    lwp.copyout_owned(a.ptr(1), data)?;
    Ok(SysRet::val(n as i64))
}

fn sys_write(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let d = writable(lwp, a.int(0))?;
    let (buf, len) = (a.ptr(1), a.size(2));
    if len > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    let mut done = 0usize;
    while done < len {
        let n = (len - done).min(IO_CHUNK);
        let chunk = lwp.copyin_scratch(buf + done as u64, n)?;
        let written = write_file(lwp, &d, &chunk);
        lwp.return_scratch(chunk);
        match written {
            Ok(w) => {
                done += w as usize;
                if (w as usize) < n {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(SysRet::val(done as i64))
}

/// Reads the iovec array of readv/writev: (base, len) pairs.
fn iovecs(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<Vec<(u64, usize)>> {
    let n = a.int(2);
    if n <= 0 || n as usize > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let raw = lwp.copyin_vec(a.ptr(1), n as usize * 16)?;
    let iov: Vec<(u64, usize)> = raw
        .chunks(16)
        .map(|c| {
            (
                u64::from_le_bytes(c[..8].try_into().unwrap()),
                u64::from_le_bytes(c[8..].try_into().unwrap()) as usize,
            )
        })
        .collect();
    let mut total = 0usize;
    for (_, len) in &iov {
        total = total
            .checked_add(*len)
            .filter(|&t| t <= isize::MAX as usize)
            .ok_or(Errno::EINVAL)?;
    }
    Ok(iov)
}

fn sys_readv(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let d = readable(lwp, a.int(0))?;
    let iov = iovecs(lwp, a)?;
    let total = iov.iter().map(|(_, l)| l).sum();
    let data = read_file(&d, total)?;
    let mut off = 0;
    for (base, len) in iov {
        if off >= data.len() {
            break;
        }
        let n = len.min(data.len() - off);
        lwp.copyout(base, &data[off..off + n])?;
        off += n;
    }
    Ok(SysRet::val(data.len() as i64))
}

fn sys_writev(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let d = writable(lwp, a.int(0))?;
    let iov = iovecs(lwp, a)?;
    let mut data = Vec::new();
    for (base, len) in iov {
        data.extend(lwp.copyin_vec(base, len)?);
    }
    Ok(SysRet::val(write_file(lwp, &d, &data)? as i64))
}

fn sys_close(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    fdops::close(lwp.proc, a.int(0))?;
    Ok(SysRet::ZERO)
}

fn sys_getpid(lwp: &mut LwpCtx<'_>, _a: &Args) -> KResult<SysRet> {
    Ok(SysRet::pair(lwp.pid() as i64, lwp.proc.ppid() as i64))
}

fn sys_getppid(lwp: &mut LwpCtx<'_>, _a: &Args) -> KResult<SysRet> {
    Ok(SysRet::val(lwp.proc.ppid() as i64))
}

/// getuid, geteuid, getgid and getegid: every client is root.
fn sys_getuid(_lwp: &mut LwpCtx<'_>, _a: &Args) -> KResult<SysRet> {
    Ok(SysRet::pair(0, 0))
}

fn sys_issetugid(_lwp: &mut LwpCtx<'_>, _a: &Args) -> KResult<SysRet> {
    Ok(SysRet::ZERO)
}

fn sys_dup(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    Ok(SysRet::val(fdops::dup(lwp.proc, a.int(0), 0, false)? as i64))
}

fn sys_dup2(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    Ok(SysRet::val(
        fdops::dup_to(lwp.proc, a.int(0), a.int(1), false)? as i64,
    ))
}

fn sys_dup3(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let (from, to, flags) = (a.int(0), a.int(1), a.int(2));
    if flags & !O_CLOEXEC != 0 || from == to {
        return Err(Errno::EINVAL);
    }
    Ok(SysRet::val(
        fdops::dup_to(lwp.proc, from, to, flags & O_CLOEXEC != 0)? as i64,
    ))
}

fn sys_fcntl(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let (fd, cmd, arg) = (a.int(0), a.int(1), a.ptr(2));
    let p = lwp.proc;
    match cmd {
        F_CLOSEM => {
            let min = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
            let closed = p.fds.lock().close_from(min);
            fdops::release(p, closed);
            return Ok(SysRet::ZERO);
        }
        F_MAXFD => return Ok(SysRet::val(p.fds.lock().max_fd().unwrap_or(-1) as i64)),
        _ => {}
    }
    let d = fdops::get(p, fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = arg as i32;
            if min < 0 {
                return Err(Errno::EINVAL);
            }
            Ok(SysRet::val(
                fdops::dup(p, fd, min, cmd == F_DUPFD_CLOEXEC)? as i64
            ))
        }
        F_GETFD => Ok(SysRet::val(i64::from(p.fds.lock().get(fd)?.cloexec))),
        F_SETFD => {
            p.fds.lock().get_mut(fd)?.cloexec = arg & FD_CLOEXEC as u64 != 0;
            Ok(SysRet::ZERO)
        }
        F_GETFL => Ok(SysRet::val(oflags(d.fflags()) as i64)),
        F_SETFL => {
            d.set_fflags(FCNTLFLAGS, fflags(arg as i32) & FCNTLFLAGS);
            Ok(SysRet::ZERO)
        }
        F_GETNOSIGPIPE => Ok(SysRet::val(i64::from(d.fflags() & O_NOSIGPIPE != 0))),
        F_SETNOSIGPIPE => {
            d.set_fflags(O_NOSIGPIPE, if arg != 0 { O_NOSIGPIPE } else { 0 });
            Ok(SysRet::ZERO)
        }
        F_GETOWN => Ok(SysRet::ZERO),
        F_SETOWN => Ok(SysRet::ZERO),
        F_GETLK | F_SETLK | F_SETLKW => {
            let lock = Flock::decode(&lwp.copyin_vec(arg, Flock::SIZE)?);
            let needs = match lock.ty {
                F_RDLCK => FREAD,
                F_WRLCK => FWRITE,
                _ => 0,
            };
            if cmd != F_GETLK && d.fflags() & needs != needs {
                return Err(Errno::EBADF);
            }
            let out = d.file.advlock(p.pid, cmd, lock).into_result()?;
            if cmd == F_GETLK {
                lwp.copyout(arg, &out.encode())?;
            }
            Ok(SysRet::ZERO)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn sys_flock(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let d = fdops::get(lwp.proc, a.int(0))?;
    d.file.flock(a.int(1)).into_result()?;
    Ok(SysRet::ZERO)
}

fn sys_ioctl(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let (fd, com, data) = (a.int(0), a.ptr(1), a.ptr(2));
    let d = fdops::get(lwp.proc, fd)?;
    if d.fflags() & (FREAD | FWRITE) == 0 {
        return Err(Errno::EBADF);
    }
    match com {
        FIOCLEX | FIONCLEX => {
            lwp.proc.fds.lock().get_mut(fd)?.cloexec = com == FIOCLEX;
            return Ok(SysRet::ZERO);
        }
        FIONBIO | FIOASYNC => {
            let on = i32::from_le_bytes(lwp.copyin_vec(data, 4)?.try_into().unwrap()) != 0;
            let flag = if com == FIONBIO { O_NONBLOCK } else { O_ASYNC };
            d.set_fflags(flag, if on { flag } else { 0 });
            return Ok(SysRet::ZERO);
        }
        _ => {}
    }
    let size = parm_len(com);
    if size > IOCPARM_MAX {
        return Err(Errno::ENOTTY);
    }
    let mut buf = vec![0u8; size.max(8)];
    if com & IOC_IN != 0 && size > 0 {
        lwp.copyin(data, &mut buf[..size])?;
    } else if com & IOC_VOID != 0 || (com & IOC_IN != 0 && size == 0) || com >> 16 == 0 {
        buf[..8].copy_from_slice(&data.to_le_bytes());
    }
    let r = d
        .file
        .ioctl(com, (&mut buf[..]).into(), d.fflags())
        .into_result()?;
    if com & IOC_OUT != 0 && size > 0 {
        lwp.copyout(data, &buf[..size])?;
    }
    Ok(SysRet::val(r))
}

fn sys_fstat(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let d = fdops::get(lwp.proc, a.int(0))?;
    let st = d.file.stat().into_result()?;
    lwp.copyout(a.ptr(1), &st.encode())?;
    Ok(SysRet::ZERO)
}

fn make_pipe(lwp: &mut LwpCtx<'_>, flags: i32) -> KResult<(i32, i32)> {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_NOSIGPIPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = pipe::create();
    let cloexec = flags & O_CLOEXEC != 0;
    let status = flags & (O_NONBLOCK | O_NOSIGPIPE);
    let rfd = fdops::install(lwp.proc, r, FREAD | status, cloexec)?;
    match fdops::install(lwp.proc, w, FWRITE | status, cloexec) {
        Ok(wfd) => Ok((rfd, wfd)),
        Err(e) => {
            let _ = fdops::close(lwp.proc, rfd);
            Err(e)
        }
    }
}

fn sys_pipe(lwp: &mut LwpCtx<'_>, _a: &Args) -> KResult<SysRet> {
    let (r, w) = make_pipe(lwp, 0)?;
    Ok(SysRet::pair(r as i64, w as i64))
}

fn sys_pipe2(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let (r, w) = make_pipe(lwp, a.int(1))?;
    let mut fds = [0u8; 8];
    fds[..4].copy_from_slice(&r.to_le_bytes());
    fds[4..].copy_from_slice(&w.to_le_bytes());
    if let Err(e) = lwp.copyout(a.ptr(0), &fds) {
        let _ = fdops::close(lwp.proc, r);
        let _ = fdops::close(lwp.proc, w);
        return Err(e);
    }
    Ok(SysRet::ZERO)
}

fn sys_sysctl(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let args = super::sysctl::SysctlArgs {
        name: a.ptr(0),
        namelen: a.uint(1),
        oldp: a.ptr(2),
        oldlenp: a.ptr(3),
        newp: a.ptr(4),
        newlen: a.ptr(5),
    };
    kernel().sysctl.syscall(lwp, args)?;
    Ok(SysRet::ZERO)
}

/// NetBSD clock ids.
const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 3;

fn monotonic() -> Timespec {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    let e = START.get_or_init(Instant::now).elapsed();
    Timespec {
        sec: e.as_secs() as i64 + 1,
        nsec: e.subsec_nanos() as i64,
    }
}

fn sys_gettimeofday(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    if a.ptr(0) != 0 {
        lwp.copyout(a.ptr(0), &Timespec::now().encode_timeval())?;
    }
    if a.ptr(1) != 0 {
        lwp.copyout(a.ptr(1), &[0u8; 8])?;
    }
    Ok(SysRet::ZERO)
}

fn sys_clock_gettime(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let t = match a.int(0) {
        CLOCK_REALTIME => Timespec::now(),
        CLOCK_MONOTONIC => monotonic(),
        _ => return Err(Errno::EINVAL),
    };
    lwp.copyout(a.ptr(1), &t.encode())?;
    Ok(SysRet::ZERO)
}

fn sys_nanosleep(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let t = Timespec::decode(&lwp.copyin_vec(a.ptr(0), 16)?);
    if t.sec < 0 || !(0..1_000_000_000).contains(&t.nsec) {
        return Err(Errno::EINVAL);
    }
    let deadline = Instant::now() + Duration::new(t.sec as u64, t.nsec as u32);
    let lock = parking_lot::Mutex::new(());
    let cv = parking_lot::Condvar::new();
    let mut g = lock.lock();
    let result = loop {
        match sched::wait_until(&cv, &mut g, Some(deadline)) {
            Ok(true) => break Ok(()),
            Ok(false) => {}
            Err(e) => break Err(e),
        }
    };
    drop(g);
    if a.ptr(1) != 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        let rem = Timespec {
            sec: left.as_secs() as i64,
            nsec: left.subsec_nanos() as i64,
        };
        lwp.copyout(a.ptr(1), &rem.encode())?;
    }
    result.map(|()| SysRet::ZERO)
}
