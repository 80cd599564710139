//! Pipes: a bounded byte buffer between a read end and a write end.

use super::sched;
use netbsd_abi::fcntl::O_NONBLOCK;
use netbsd_abi::ioctl::FIONREAD;
use netbsd_abi::stat::{Stat, Timespec, S_IFIFO};
use netbsd_abi::Errno;
use parking_lot::{Condvar, Mutex, MutexGuard};
use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::file::{file_obj, File, FileKind};
use rump_plugin_api::pipe::{self, PipeBuf, PipeLock};
use rump_plugin_api::{FileObj, KResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes a pipe holds before writers wait.
pub const PIPE_SIZE: usize = 65536;

struct State {
    buf: PipeBuf,
    mtime: Timespec,
}

/// A pipe's state under its lock, waiting on its condition variable.
struct Locked<'a> {
    st: MutexGuard<'a, State>,
    changed: &'a Condvar,
}

impl PipeLock for Locked<'_> {
    fn buf(&mut self) -> &mut PipeBuf {
        &mut self.st.buf
    }

    fn wait(&mut self) -> KResult<()> {
        sched::wait(self.changed, &mut self.st)
    }

    fn changed(&mut self) {
        self.changed.notify_all();
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    ino: u64,
    created: Timespec,
}

/// One end of a pipe.
struct End {
    shared: Arc<Shared>,
    reads: bool,
}

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// Creates a pipe: (read end, write end).
pub fn create() -> (FileObj, FileObj) {
    let now = Timespec::now();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            buf: {
                let mut b = PipeBuf::new(PIPE_SIZE);
                b.readers = 1;
                b.writers = 1;
                b
            },
            mtime: now,
        }),
        changed: Condvar::new(),
        ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        created: now,
    });
    let r = End {
        shared: shared.clone(),
        reads: true,
    };
    let w = End {
        shared,
        reads: false,
    };
    (file_obj(r), file_obj(w))
}

impl End {
    fn lock(&self) -> Locked<'_> {
        Locked {
            st: self.shared.state.lock(),
            changed: &self.shared.changed,
        }
    }
}

impl Drop for End {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock();
        if self.reads {
            st.buf.readers -= 1;
        } else {
            st.buf.writers -= 1;
        }
        self.shared.changed.notify_all();
    }
}

impl File for End {
    fn kind(&self) -> FileKind {
        FileKind::Pipe
    }

    fn read(&self, len: usize, _offset: Option<i64>, fflags: i32) -> KResult<RVec<u8>> {
        pipe::read(&mut self.lock(), len, fflags & O_NONBLOCK != 0).map(RVec::from)
    }

    fn write(&self, data: &[u8], _offset: Option<i64>, fflags: i32) -> KResult<u64> {
        let mut p = self.lock();
        let n = pipe::write(&mut p, data, fflags & O_NONBLOCK != 0)?;
        if n > 0 {
            p.st.mtime = Timespec::now();
        }
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        let st = self.shared.state.lock();
        Ok(Stat {
            mode: S_IFIFO | 0o600,
            ino: self.shared.ino,
            nlink: 1,
            size: st.buf.len() as i64,
            blksize: PIPE_SIZE as i32,
            atime: st.mtime,
            mtime: st.mtime,
            ctime: st.mtime,
            birthtime: self.shared.created,
            ..Stat::default()
        })
    }

    fn ioctl(&self, cmd: u64, data: &mut [u8], _fflags: i32) -> KResult<i64> {
        if cmd == FIONREAD {
            let n = self.shared.state.lock().buf.len() as i32;
            data[..4].copy_from_slice(&n.to_le_bytes());
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }
}
