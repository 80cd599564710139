//! Pipes: a bounded byte buffer between a read end and a write end.

use super::sched;
use netbsd_abi::fcntl::O_NONBLOCK;
use netbsd_abi::ioctl::FIONREAD;
use netbsd_abi::limits::PIPE_BUF;
use netbsd_abi::stat::{Stat, Timespec, S_IFIFO};
use netbsd_abi::Errno;
use parking_lot::{Condvar, Mutex};
use rump_plugin_api::file::{file_obj, File, FileKind};
use rump_plugin_api::{FileObj, KResult};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes a pipe holds before writers wait.
pub const PIPE_SIZE: usize = 65536;

struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    mtime: Timespec,
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
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
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

impl Drop for End {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock();
        if self.reads {
            st.readers -= 1;
        } else {
            st.writers -= 1;
        }
        self.shared.changed.notify_all();
    }
}

impl File for End {
    fn kind(&self) -> FileKind {
        FileKind::Pipe
    }

    fn read(&self, len: usize, _offset: Option<i64>, fflags: i32) -> KResult<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let mut st = self.shared.state.lock();
        while st.buf.is_empty() {
            if st.writers == 0 {
                return Ok(Vec::new());
            }
            if fflags & O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            sched::wait(&self.shared.changed, &mut st)?;
        }
        let n = len.min(st.buf.len());
        let data: Vec<u8> = st.buf.drain(..n).collect();
        self.shared.changed.notify_all();
        Ok(data)
    }

    fn write(&self, data: &[u8], _offset: Option<i64>, fflags: i32) -> KResult<u64> {
        let mut st = self.shared.state.lock();
        let mut done = 0;
        while done < data.len() {
            if st.readers == 0 {
                return if done > 0 {
                    Ok(done as u64)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            let room = PIPE_SIZE - st.buf.len();
            let rest = data.len() - done;
            // Writes of at most PIPE_BUF bytes go in whole or not at all.
            let fits = if rest <= PIPE_BUF {
                room >= rest
            } else {
                room > 0
            };
            if !fits {
                if fflags & O_NONBLOCK != 0 {
                    return if done > 0 {
                        Ok(done as u64)
                    } else {
                        Err(Errno::EAGAIN)
                    };
                }
                if let Err(e) = sched::wait(&self.shared.changed, &mut st) {
                    return if done > 0 { Ok(done as u64) } else { Err(e) };
                }
                continue;
            }
            let n = rest.min(room);
            st.buf.extend(&data[done..done + n]);
            done += n;
            st.mtime = Timespec::now();
            self.shared.changed.notify_all();
        }
        Ok(done as u64)
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
