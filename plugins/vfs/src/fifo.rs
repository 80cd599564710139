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
use rump_plugin_api::abi::stat::Stat;
use rump_plugin_api::abi_stable::std_types::RVec;
use rump_plugin_api::file::{File, FileKind};
use rump_plugin_api::pipe::{self, PipeBuf, PipeLock};
use rump_plugin_api::{Errno, KResult};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Bytes a FIFO holds before writers wait.
pub const FIFO_SIZE: usize = 65536;

/// How often a waiting thread looks whether its process is going away.
const WAKE_CHECK: Duration = Duration::from_millis(100);

struct State {
    buf: PipeBuf,
    /// Opens for reading and writing so far, so that a waiting open sees
    /// a partner that came and went while it slept.
    read_opens: u64,
    write_opens: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            state: Mutex::new(State {
                buf: PipeBuf::new(FIFO_SIZE),
                read_opens: 0,
                write_opens: 0,
            }),
            changed: Condvar::new(),
        }
    }
}

/// A FIFO's state under its lock.
struct Locked<'a> {
    st: MutexGuard<'a, State>,
    changed: &'a Condvar,
}

impl PipeLock for Locked<'_> {
    fn buf(&mut self) -> &mut PipeBuf {
        &mut self.st.buf
    }

    fn wait(&mut self) -> KResult<()> {
        let k = rump_plugin_api::kernel::kernel();
        if k.interrupted() {
            return Err(Errno::EINTR);
        }
        k.wait_for(self.changed, &mut self.st, WAKE_CHECK);
        if k.interrupted() {
            return Err(Errno::EINTR);
        }
        Ok(())
    }

    fn changed(&mut self) {
        self.changed.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> Locked<'_> {
        Locked {
            st: self.state.lock(),
            changed: &self.changed,
        }
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
        let mut p = shared.lock();
        if write && !read && nonblock && p.st.buf.readers == 0 {
            return Err(Errno::ENXIO);
        }
        if read {
            p.st.buf.readers += 1;
            p.st.read_opens += 1;
        }
        if write {
            p.st.buf.writers += 1;
            p.st.write_opens += 1;
        }
        p.changed();
        let file = FifoFile {
            shared: shared.clone(),
            vn: VnRef::new(vn),
            read,
            write,
        };
        if !nonblock && read != write {
            let (seen_r, seen_w) = (p.st.read_opens, p.st.write_opens);
            loop {
                let partner = if read {
                    p.st.buf.writers > 0 || p.st.write_opens != seen_w
                } else {
                    p.st.buf.readers > 0 || p.st.read_opens != seen_r
                };
                if partner {
                    break;
                }
                if let Err(e) = p.wait() {
                    drop(p);
                    drop(file); // takes this open back
                    return Err(e);
                }
            }
        }
        drop(p);
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
        let mut p = self.shared.lock();
        let b = p.buf();
        if self.read {
            b.readers -= 1;
        }
        if self.write {
            b.writers -= 1;
        }
        if b.readers == 0 && b.writers == 0 {
            b.clear();
        }
        p.changed();
    }
}

impl File for FifoFile {
    fn kind(&self) -> FileKind {
        FileKind::Pipe
    }

    fn read(&self, len: usize, _offset: Option<i64>, fflags: i32) -> KResult<RVec<u8>> {
        pipe::read(&mut self.shared.lock(), len, fflags & O_NONBLOCK != 0).map(RVec::from)
    }

    fn write(&self, data: &[u8], _offset: Option<i64>, fflags: i32) -> KResult<u64> {
        pipe::write(&mut self.shared.lock(), data, fflags & O_NONBLOCK != 0)
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
