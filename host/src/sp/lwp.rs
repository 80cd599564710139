//! The context of one syscall from a client: its process, and access to
//! the client's memory through copy requests on the connection.
//!
//! Copy-outs need no answer, so they are buffered and leave together with
//! the next copy-in request or with the reply: a stat costs one write for
//! its 152-byte copy-out and its reply, a 64 KiB read one write too (its
//! data gathered from where the file system put it, not copied into the
//! buffer). Copy-ins wait for the client's answer; the thread gives up its
//! virtual CPU meanwhile, and if it is the connection's reader it reads
//! the answer itself.

use super::conn::{Conn, Reader};
use crate::kern::{kernel, proc::Proc, sched};
use netbsd_abi::Errno;
use rump_plugin_api::abi_stable::std_types::{RResult, RSlice, RSliceMut, RVec};
use rump_plugin_api::ffi::LwpOps;
use rump_plugin_api::guard::guard;
use rump_plugin_api::{Args, FileObj, KResult, OpenFile, SysRet};
use std::sync::Arc;
use sysproxy::frame;

/// Largest single copy request; bigger transfers are split.
pub const MAX_COPY: usize = 1 << 20;

/// Copy-outs buffered beyond this many bytes are sent at once.
const OUT_FLUSH: usize = 256 * 1024;

/// Handed-over copy-outs from this size on leave from where they are.
const GATHER_COPYOUT: usize = 16 * 1024;

/// The largest scratch buffer a thread keeps for copy-ins.
const SCRATCH_KEEP: usize = 256 * 1024;

thread_local! {
    /// A buffer for the data of write(2), kept between calls so that
    /// each write needs no fresh, zeroed memory.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A syscall in progress on behalf of a client process.
pub struct LwpCtx<'a> {
    conn: &'a Arc<Conn>,
    pub proc: &'a Arc<Proc>,
    reqno: u64,
    out: Vec<u8>,
    /// A handed-over copy-out's data, which goes after `out[..at]`.
    gathered: Option<(usize, RVec<u8>)>,
    replied: bool,
}

impl<'a> LwpCtx<'a> {
    pub fn new(conn: &'a Arc<Conn>, proc: &'a Arc<Proc>, reqno: u64) -> Self {
        LwpCtx {
            conn,
            proc,
            reqno,
            out: Vec::new(),
            gathered: None,
            replied: false,
        }
    }

    pub fn pid(&self) -> i32 {
        self.proc.pid
    }

    /// The connection the syscall came on.
    pub fn conn(&self) -> &Arc<Conn> {
        self.conn
    }

    fn flush(&mut self) -> KResult<()> {
        let r = match self.gathered.take() {
            Some((at, data)) => {
                let (head, tail) = self.out.split_at(at);
                self.conn.send_parts(&[head, &data, tail])
            }
            None if self.out.is_empty() => return Ok(()),
            None => self.conn.send(&self.out),
        };
        self.out.clear();
        r.map_err(|_| Errno::EFAULT)
    }

    /// One copy-in request; the client's answer lands in `dst`. Returns
    /// the answer's length (EFAULT if the answer does not fit or the
    /// connection ended).
    fn request(&mut self, string: bool, addr: u64, dst: &mut [u8]) -> KResult<usize> {
        let reqno = self.conn.next_reqno();
        let reader = sched::take_standby::<Reader>();
        let reader = match reader {
            Some(r) if Arc::ptr_eq(r.conn(), self.conn) => Some(r),
            Some(other) => {
                sched::set_standby(other);
                None
            }
            None => None,
        };
        if reader.is_none() {
            self.conn.expect(reqno);
        }
        self.out
            .extend_from_slice(&frame::copyin_req(reqno, string, addr, dst.len() as u64));
        let sent = self.flush();
        let answered = match reader {
            Some(mut r) => {
                let n = if sent.is_ok() {
                    sched::without_cpu(|| r.read_answer(reqno, dst))
                } else {
                    None
                };
                sched::set_standby(r);
                n
            }
            None if sent.is_ok() => self.conn.wait_answer(reqno).and_then(|f| {
                let n = f.body.len();
                dst.get_mut(..n)?.copy_from_slice(&f.body);
                Some(n)
            }),
            None => {
                self.conn.forget(reqno);
                None
            }
        };
        answered.ok_or(Errno::EFAULT)
    }

    /// Fills `buf` from client memory at `addr`.
    pub fn copyin(&mut self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if addr == 0 {
            return Err(Errno::EFAULT);
        }
        for (i, chunk) in buf.chunks_mut(MAX_COPY).enumerate() {
            let at = addr.wrapping_add((i * MAX_COPY) as u64);
            if self.request(false, at, chunk)? != chunk.len() {
                return Err(Errno::EFAULT);
            }
        }
        Ok(())
    }

    /// Reads `len` bytes of client memory.
    pub fn copyin_vec(&mut self, addr: u64, len: usize) -> KResult<Vec<u8>> {
        let mut v = vec![0; len];
        self.copyin(addr, &mut v)?;
        Ok(v)
    }

    /// Reads `len` bytes of client memory into this thread's scratch
    /// buffer; hand it back with [`LwpCtx::return_scratch`].
    pub fn copyin_scratch(&mut self, addr: u64, len: usize) -> KResult<Vec<u8>> {
        let mut buf = SCRATCH.take();
        // Stale bytes never show: the copy-in fills all of it or fails.
        buf.resize(len, 0);
        self.copyin(addr, &mut buf)?;
        Ok(buf)
    }

    /// Keeps `buf` for the thread's next [`LwpCtx::copyin_scratch`].
    pub fn return_scratch(&mut self, buf: Vec<u8>) {
        if buf.capacity() <= SCRATCH_KEEP {
            SCRATCH.set(buf);
        }
    }

    /// Reads a NUL-terminated string of at most `maxlen` bytes (NUL
    /// included); returns it without the NUL.
    pub fn copyinstr(&mut self, addr: u64, maxlen: usize) -> KResult<Vec<u8>> {
        if maxlen == 0 {
            return Ok(Vec::new());
        }
        if addr == 0 {
            return Err(Errno::EFAULT);
        }
        let mut data = vec![0; maxlen.min(MAX_COPY)];
        let n = self.request(true, addr, &mut data)?;
        match data[..n].iter().position(|&b| b == 0) {
            Some(n) => {
                data.truncate(n);
                Ok(data)
            }
            None => Err(Errno::ENAMETOOLONG),
        }
    }

    /// Writes `data` to client memory at `addr` (buffered; see module doc).
    pub fn copyout(&mut self, addr: u64, data: &[u8]) -> KResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        if addr == 0 {
            return Err(Errno::EFAULT);
        }
        for (i, chunk) in data.chunks(MAX_COPY).enumerate() {
            let at = addr.wrapping_add((i * MAX_COPY) as u64);
            let reqno = self.conn.next_reqno();
            let head = frame::copyout_head(reqno, at, chunk.len());
            // Room for the reply too, so that the buffer grows once.
            self.out
                .reserve(head.len() + chunk.len() + frame::SYSRESP_LEN);
            self.out.extend_from_slice(&head);
            self.out.extend_from_slice(chunk);
            if self.out.len() >= OUT_FLUSH {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Like [`LwpCtx::copyout`], for bytes handed over: a large block
    /// leaves from where it is, gathered with the frames around it.
    pub fn copyout_owned(&mut self, addr: u64, data: RVec<u8>) -> KResult<()> {
        if data.len() < GATHER_COPYOUT || data.len() > MAX_COPY || addr == 0 {
            return self.copyout(addr, &data);
        }
        if self.gathered.is_some() {
            self.flush()?;
        }
        let reqno = self.conn.next_reqno();
        self.out
            .extend_from_slice(&frame::copyout_head(reqno, addr, data.len()));
        self.gathered = Some((self.out.len(), data));
        Ok(())
    }

    /// Sends the client a signal (RAISE); it arrives before the reply.
    pub fn raise(&mut self, signo: u32) {
        let reqno = self.conn.next_reqno();
        self.out.extend_from_slice(&frame::raise_req(reqno, signo));
    }

    /// Sends the reply now, before the syscall has finished (reboot must
    /// answer before the server goes away).
    pub fn reply_now(&mut self, res: KResult<SysRet>) {
        if !self.replied {
            self.replied = true;
            self.push_reply(res);
            let _ = self.flush();
        }
    }

    fn push_reply(&mut self, res: KResult<SysRet>) {
        let (error, rv) = match res {
            Ok(SysRet(rv)) => (0, rv),
            Err(e) => (e.get(), [0, 0]),
        };
        self.out
            .extend_from_slice(&frame::syscall_resp(self.reqno, error, rv));
    }

    fn finish(mut self, res: KResult<SysRet>) {
        if self.replied {
            let _ = self.flush();
            return;
        }
        self.replied = true;
        if self.out.is_empty() {
            // The common case: nothing buffered, one write from the stack.
            let (error, rv) = match res {
                Ok(SysRet(rv)) => (0, rv),
                Err(e) => (e.get(), [0, 0]),
            };
            let _ = self.conn.send(&frame::syscall_resp(self.reqno, error, rv));
            return;
        }
        self.push_reply(res);
        let _ = self.flush();
    }
}

/// Runs syscall `sysnum` for `lwp`'s process and sends the reply.
pub fn execute_syscall(mut lwp: LwpCtx<'_>, sysnum: i32, body: &[u8]) {
    let args = Args::from_body(body);
    let proc = lwp.proc.clone();
    proc.enter();
    sched::set_current(Some(proc.clone()));
    sched::acquire_cpu();
    let res = kernel().syscalls.call(&mut lwp, sysnum, &args);
    sched::release_cpu();
    sched::set_current(None);
    proc.leave();
    lwp.finish(res);
}

impl crate::kern::sysctl::SysctlIo for LwpCtx<'_> {
    fn copyin(&mut self, addr: u64, len: usize) -> KResult<Vec<u8>> {
        self.copyin_vec(addr, len)
    }

    fn copyout(&mut self, addr: u64, data: &[u8]) -> KResult<()> {
        LwpCtx::copyout(self, addr, data)
    }
}

// The services a plugin's syscall handler gets through its `Lwp`.
impl LwpOps for LwpCtx<'_> {
    fn pid(&self) -> i32 {
        self.proc.pid
    }

    fn ppid(&self) -> i32 {
        self.proc.ppid()
    }

    fn copyin(&mut self, addr: u64, mut buf: RSliceMut<'_, u8>) -> RResult<(), Errno> {
        guard("copyin", || LwpCtx::copyin(self, addr, buf.as_mut_slice()))
    }

    fn copyinstr(&mut self, addr: u64, maxlen: usize) -> RResult<RVec<u8>, Errno> {
        guard("copyinstr", || {
            LwpCtx::copyinstr(self, addr, maxlen).map(RVec::from)
        })
    }

    fn copyout(&mut self, addr: u64, data: RSlice<'_, u8>) -> RResult<(), Errno> {
        guard("copyout", || LwpCtx::copyout(self, addr, data.as_slice()))
    }

    fn fd_get(&self, fd: i32) -> RResult<OpenFile, Errno> {
        guard("fd_get", || {
            self.proc.fds.lock().get(fd).map(|e| e.desc.open_file())
        })
    }

    fn fd_install(&mut self, file: FileObj, fflags: i32, cloexec: bool) -> RResult<i32, Errno> {
        guard("fd_install", || {
            crate::kern::fdops::install(self.proc, file, fflags, cloexec)
        })
    }
}
