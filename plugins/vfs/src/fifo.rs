//! FIFOs (named pipes): the buffer and the open rendezvous of a FIFO
//! node, shared by every process that opens it.
//!
//! As in NetBSD: opening for reading waits for a writer and opening for
//! writing waits for a reader, unless O_NONBLOCK (then a write-only open
//! without a reader fails with ENXIO); O_RDWR never waits. Reads at an
//! empty FIFO without writers see end of file, writes without readers fail
//! with EPIPE (the kernel adds SIGPIPE), writes of at most PIPE_BUF bytes
//! are atomic. What is still buffered when the last end closes is dropped.

use crate::vn::{Vn, VnRef};
use parking_lot::{Condvar, Mutex, MutexGuard};
use rump_plugin_api::abi::fcntl::O_NONBLOCK;
use rump_plugin_api::abi::ioctl::FIONREAD;
use rump_plugin_api::abi::limits::PIPE_BUF;
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::file::{File, FileKind};
use rump_plugin_api::{Errno, KResult};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Bytes a FIFO holds before writers wait.
pub const FIFO_SIZE: usize = 65536;

/// How often a waiting thread looks whether its process is going away.
const WAKE_CHECK: Duration = Duration::from_millis(100);

#[derive(Default)]
struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Opens for reading and writing so far, so that a waiting open sees
    /// a partner that came and went while it slept.
    read_opens: u64,
    write_opens: u64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    /// Waits for a change; EINTR when the caller's process goes away.
    fn wait(&self, st: &mut MutexGuard<'_, State>) -> KResult<()> {
        let k = rump_plugin_api::kernel::kernel();
        if k.interrupted() {
            return Err(Errno::EINTR);
        }
        k.blocking(|| {
            self.changed.wait_for(st, WAKE_CHECK);
        });
        if k.interrupted() {
            return Err(Errno::EINTR);
        }
        Ok(())
    }
}

/// The FIFOs open now, by node.
#[derive(Default)]
pub struct Fifos {
    open: Mutex<HashMap<(u64, u64), Weak<Shared>>>,
}

impl Fifos {
    fn shared(&self, vn: &Vn) -> Arc<Shared> {
        let key = (vn.mnt.id, vn.obj.fileid());
        let mut open = self.open.lock();
        open.retain(|_, w| w.strong_count() > 0);
        if let Some(s) = open.get(&key).and_then(Weak::upgrade) {
            return s;
        }
        let s = Arc::new(Shared::default());
        open.insert(key, Arc::downgrade(&s));
        s
    }

    /// Opens the FIFO node `vn` for reading and/or writing.
    pub fn open(&self, vn: Vn, read: bool, write: bool, flags: i32) -> KResult<FifoFile> {
        let shared = self.shared(&vn);
        let nonblock = flags & O_NONBLOCK != 0;
        let mut st = shared.state.lock();
        if write && !read && nonblock && st.readers == 0 {
            return Err(Errno::ENXIO);
        }
        if read {
            st.readers += 1;
            st.read_opens += 1;
        }
        if write {
            st.writers += 1;
            st.write_opens += 1;
        }
        shared.changed.notify_all();
        let file = FifoFile {
            shared: shared.clone(),
            vn: VnRef::new(vn),
            read,
            write,
        };
        if !nonblock && read != write {
            let (seen_r, seen_w) = (st.read_opens, st.write_opens);
            loop {
                let partner = if read {
                    st.writers > 0 || st.write_opens != seen_w
                } else {
                    st.readers > 0 || st.read_opens != seen_r
                };
                if partner {
                    break;
                }
                if let Err(e) = shared.wait(&mut st) {
                    drop(st);
                    drop(file); // takes this open back
                    return Err(e);
                }
            }
        }
        drop(st);
        Ok(file)
    }
}

/// One open of a FIFO.
pub struct FifoFile {
    shared: Arc<Shared>,
    vn: VnRef,
    read: bool,
    write: bool,
}

impl Drop for FifoFile {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock();
        if self.read {
            st.readers -= 1;
        }
        if self.write {
            st.writers -= 1;
        }
        if st.readers == 0 && st.writers == 0 {
            st.buf = VecDeque::new();
        }
        self.shared.changed.notify_all();
    }
}

impl File for FifoFile {
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
            self.shared.wait(&mut st)?;
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
            let room = FIFO_SIZE - st.buf.len();
            let rest = data.len() - done;
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
                if let Err(e) = self.shared.wait(&mut st) {
                    return if done > 0 { Ok(done as u64) } else { Err(e) };
                }
                continue;
            }
            let n = rest.min(room);
            st.buf.extend(&data[done..done + n]);
            done += n;
            self.shared.changed.notify_all();
        }
        Ok(done as u64)
    }

    fn stat(&self) -> KResult<Stat> {
        self.vn.vn().getattr()
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
