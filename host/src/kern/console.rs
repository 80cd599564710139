//! The console: fds 0, 1 and 2 of every new process.
//!
//! It is open for writing only. What a client writes appears on the
//! server's standard output; a read fails with EBADF, fstat shows a
//! character device with mode 0600, and the only ioctl it answers is
//! TIOCGETA (with an all-zero termios).

use super::fd::{FdEntry, FdTable, FileDesc};
use netbsd_abi::fcntl::FWRITE;
use netbsd_abi::ioctl::TIOCGETA;
use netbsd_abi::stat::{Stat, S_IFCHR};
use netbsd_abi::Errno;
use rump_plugin_api::file::{file_obj, File, FileKind};
use rump_plugin_api::KResult;
use std::io::Write;

struct Console;

impl File for Console {
    fn kind(&self) -> FileKind {
        FileKind::Vnode
    }

    fn write(&self, data: &[u8], _offset: Option<i64>, _fflags: i32) -> KResult<u64> {
        let mut out = std::io::stdout().lock();
        out.write_all(data)
            .and_then(|()| out.flush())
            .map_err(|e| Errno::from_io(&e))?;
        Ok(data.len() as u64)
    }

    fn stat(&self) -> KResult<Stat> {
        let t = super::kernel().boot_time;
        Ok(Stat {
            mode: S_IFCHR | 0o600,
            atime: t,
            mtime: t,
            ctime: t,
            birthtime: t,
            ..Stat::default()
        })
    }

    fn ioctl(&self, cmd: u64, data: &mut [u8], _fflags: i32) -> KResult<i64> {
        if cmd == TIOCGETA {
            data.fill(0);
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }
}

/// The descriptor table of a new process: 0, 1 and 2 on the console, all
/// three sharing one open file.
pub fn initial_fds() -> FdTable {
    let desc = FileDesc::new(file_obj(Console), FWRITE);
    let mut t = FdTable::default();
    for _ in 0..3 {
        let _ = t.alloc(
            FdEntry {
                desc: desc.clone(),
                cloexec: false,
            },
            0,
        );
    }
    t
}
