//! One client connection: the frame reader, request dispatch, the
//! handshakes, and the table of server requests waiting for answers.
//!
//! Exactly one thread at a time is the connection's *reader*: it owns the
//! [`Reader`] (socket read side and frame buffer). When a syscall arrives
//! the reader executes it itself, so a simple request/response costs no
//! thread switch. If that syscall has to wait for something other than its
//! own copy-in answers, the reader role moves to a pool thread first
//! ([`sched::block_begin`]), so the client's other requests and answers
//! are still read. Syscalls that arrive while the reader is busy inside a
//! syscall's copy-in run on pool threads.

use super::lwp::{execute_syscall, LwpCtx};
use crate::kern::{kernel, pool, proc::Proc, sched};
use crate::sp::stream::Stream;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::io::{self, IoSlice, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use sysproxy::frame::{self, class, handshake, ty, SpError, COOKIE_LEN, FORK_BODY_LEN};
use sysproxy::{Frame, FrameDecoder};

/// The most buffers one gathered write takes.
const MAX_PARTS: usize = 4;

/// Largest frame a client may send: a copy-in answer of the largest
/// chunk the server asks for, plus room for headers and names.
pub const MAX_FRAME: u64 = (super::lwp::MAX_COPY + 4096) as u64;

/// Copy-in answers at least this big are read from the socket straight
/// into their destination.
const DIRECT_READ: usize = 16 * 1024;

/// Syscalls one connection may have in progress at once; more are
/// refused with TRYAGAIN (the client sees EAGAIN).
const MAX_INFLIGHT: usize = 256;

/// A client connection.
pub struct Conn {
    pub id: u64,
    stream: Stream,
    write_lock: Mutex<()>,
    next_reqno: AtomicU64,
    waits: Mutex<HashMap<u64, Option<Frame>>>,
    answered: Condvar,
    dead: AtomicBool,
    proc: OnceLock<Arc<Proc>>,
    inflight: AtomicUsize,
}

impl Conn {
    pub fn new(id: u64, stream: Stream) -> Arc<Conn> {
        Arc::new(Conn {
            id,
            stream,
            write_lock: Mutex::new(()),
            next_reqno: AtomicU64::new(0),
            waits: Mutex::new(HashMap::new()),
            answered: Condvar::new(),
            dead: AtomicBool::new(false),
            proc: OnceLock::new(),
            inflight: AtomicUsize::new(0),
        })
    }

    /// A fresh request number of the server's counter.
    pub fn next_reqno(&self) -> u64 {
        self.next_reqno.fetch_add(1, Ordering::Relaxed)
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// The process of this connection, once a handshake created it.
    pub fn proc(&self) -> Option<&Arc<Proc>> {
        self.proc.get()
    }

    /// Writes `buf` (whole frames) to the client. A full socket buffer
    /// counts as blocking: the thread gives up its CPU while it waits.
    pub fn send(&self, buf: &[u8]) -> io::Result<()> {
        self.send_parts(&[buf])
    }

    /// Writes `parts` (at most [`MAX_PARTS`]; together, whole frames) to
    /// the client, gathered into as few system calls as the socket allows.
    pub fn send_parts(&self, parts: &[&[u8]]) -> io::Result<()> {
        let _w = match self.write_lock.try_lock() {
            Some(g) => g,
            None => sched::blocking(|| self.write_lock.lock()),
        };
        assert!(parts.len() <= MAX_PARTS, "too many parts for one write");
        let mut slices = [IoSlice::new(&[]); MAX_PARTS];
        for (slice, part) in slices.iter_mut().zip(parts) {
            *slice = IoSlice::new(part);
        }
        let mut rest = &mut slices[..parts.len()];
        while !rest.is_empty() {
            match crate::sys::send_parts_nowait(&self.stream, rest) {
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    sched::blocking(|| crate::sys::wait_writable(&self.stream))?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.mark_dead();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn send_error(&self, reqno: u64, err: SpError) {
        let _ = self.send(&frame::error_frame(reqno, err));
    }

    /// Ends the connection: no more frames in either direction.
    pub fn shutdown(&self) {
        self.mark_dead();
        self.stream.shutdown();
    }

    fn mark_dead(&self) {
        if !self.dead.swap(true, Ordering::AcqRel) {
            let _w = self.waits.lock();
            self.answered.notify_all();
        }
    }

    /// Registers interest in the answer to server request `reqno`.
    pub fn expect(&self, reqno: u64) {
        self.waits.lock().insert(reqno, None);
    }

    /// Waits (as a non-reader) for the answer to `reqno`; `None` if the
    /// connection died first.
    pub fn wait_answer(&self, reqno: u64) -> Option<Frame> {
        sched::blocking(|| {
            let mut w = self.waits.lock();
            loop {
                if let Some(Some(_)) = w.get(&reqno) {
                    return w.remove(&reqno).flatten();
                }
                if self.is_dead() {
                    w.remove(&reqno);
                    return None;
                }
                self.answered.wait(&mut w);
            }
        })
    }

    /// Forgets an expected answer (the request could not be sent).
    pub fn forget(&self, reqno: u64) {
        self.waits.lock().remove(&reqno);
    }

    fn deliver(&self, f: Frame) {
        let mut w = self.waits.lock();
        if let Some(slot) = w.get_mut(&f.hdr.reqno) {
            *slot = Some(f);
            self.answered.notify_all();
        }
    }

    /// Counts a syscall in; `false` if too many are in progress.
    fn enter(&self) -> bool {
        self.inflight.fetch_add(1, Ordering::AcqRel) < MAX_INFLIGHT
    }

    pub(super) fn leave(&self) {
        self.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the reader does with a frame it read.
enum Next {
    Continue,
    /// Execute this syscall (inline when the reader may, else on the pool).
    Syscall(Frame),
    /// The connection is finished.
    Close,
}

/// The read side of a connection, owned by one thread at a time.
pub struct Reader {
    conn: Arc<Conn>,
    dec: FrameDecoder,
}

impl sched::Standby for Reader {
    fn resume_elsewhere(self: Box<Self>) {
        pool::spawn(move || self.run());
    }
}

impl Reader {
    pub fn new(conn: Arc<Conn>) -> Box<Reader> {
        Box::new(Reader {
            conn,
            dec: FrameDecoder::new(MAX_FRAME),
        })
    }

    /// Reads the next frame; `None` when the connection has ended.
    fn read_frame(&mut self) -> Option<Frame> {
        loop {
            match self.dec.next_frame() {
                Ok(Some(f)) => return Some(f),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(conn = self.conn.id, "closing connection: {e}");
                    return None;
                }
            }
            if self.conn.is_dead() {
                return None;
            }
            match (&self.conn.stream).read(self.dec.spare()) {
                Ok(0) => return None,
                Ok(n) => self.dec.filled(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }

    /// Reads until the header of the next frame has arrived (reading no
    /// further than it when `alone`); `None` when the connection ended.
    fn read_header(&mut self, alone: bool) -> Option<frame::Header> {
        loop {
            match self.dec.peek_header() {
                Ok(Some(h)) => return Some(h),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(conn = self.conn.id, "closing connection: {e}");
                    return None;
                }
            }
            if self.conn.is_dead() {
                return None;
            }
            let want = frame::HDR_LEN - self.dec.pending().len();
            let spare = self.dec.spare();
            let room = if alone { want } else { spare.len() };
            match (&self.conn.stream).read(&mut spare[..room]) {
                Ok(0) => return None,
                Ok(n) => self.dec.filled(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }

    /// Serves the connection until it ends or until a syscall executed
    /// here blocks (then another thread has taken over the reader).
    pub fn run(mut self: Box<Self>) {
        loop {
            let Some(f) = self.read_frame() else {
                return self.finish();
            };
            match dispatch(&self.conn, f) {
                Next::Continue => {}
                Next::Close => {
                    self.conn.shutdown();
                    return self.finish();
                }
                Next::Syscall(f) => {
                    let conn = self.conn.clone();
                    sched::set_standby(self);
                    run_syscall(&conn, f);
                    match sched::take_standby::<Reader>() {
                        Some(r) => self = r,
                        None => return,
                    }
                }
            }
        }
    }

    /// Reads frames until the answer to copy-in request `reqno` arrives,
    /// dispatching the others, and places its body in `dst` (a large
    /// body is read from the socket straight into it). Returns the body's
    /// length; `None` if the connection ended first or the body does not
    /// fit. Used by a syscall that is the reader while it waits for its
    /// own copy-in.
    pub fn read_answer(&mut self, reqno: u64, dst: &mut [u8]) -> Option<usize> {
        // For a large answer, read its header alone first, so that the
        // body can go straight to `dst` instead of through the buffer.
        let header_first = dst.len() >= DIRECT_READ;
        loop {
            let h = self.read_header(header_first)?;
            if h.class == class::RESP && h.reqno == reqno {
                let len = h.len as usize - frame::HDR_LEN;
                if len > dst.len() {
                    self.read_frame()?;
                    return None;
                }
                let stream = &self.conn.stream;
                return match self.dec.read_body_into(stream, &mut dst[..len]) {
                    Ok(()) => Some(len),
                    Err(_) => {
                        self.conn.mark_dead();
                        None
                    }
                };
            }
            let f = self.read_frame()?;
            match dispatch(&self.conn, f) {
                Next::Continue => {}
                Next::Close => {
                    self.conn.shutdown();
                    return None;
                }
                Next::Syscall(f) => {
                    let conn = self.conn.clone();
                    pool::spawn(move || run_syscall(&conn, f));
                }
            }
        }
    }

    /// The connection this reader serves.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }

    fn finish(&self) {
        let conn = self.conn.clone();
        conn.mark_dead();
        if let Some(p) = conn.proc().cloned() {
            p.kill();
            pool::spawn(move || {
                p.wait_idle();
                let closed = p.fds.lock().clear();
                crate::kern::fdops::release(&p, closed);
                kernel().factions.exited(p.pid);
                tracing::debug!(conn = conn.id, pid = p.pid, "process exited");
            });
        }
    }
}

fn run_syscall(conn: &Arc<Conn>, f: Frame) {
    let Some(p) = conn.proc() else { return };
    if !conn.enter() {
        conn.leave();
        conn.send_error(f.hdr.reqno, SpError::TryAgain);
        return;
    }
    execute_syscall(LwpCtx::new(conn, p, f.hdr.reqno), f.hdr.sysnum(), &f.body);
    conn.leave();
}

fn dispatch(conn: &Arc<Conn>, f: Frame) -> Next {
    let h = f.hdr;
    match h.class {
        class::RESP => {
            conn.deliver(f);
            Next::Continue
        }
        class::REQ => match conn.proc() {
            None => handshake_new(conn, f),
            Some(p) => request_running(conn, p, f),
        },
        _ => {
            conn.send_error(h.reqno, SpError::MalformedRequest);
            Next::Continue
        }
    }
}

/// A request on a connection that has no process yet.
fn handshake_new(conn: &Arc<Conn>, f: Frame) -> Next {
    let h = f.hdr;
    let refuse = |err| {
        conn.send_error(h.reqno, err);
        Next::Close
    };
    if h.ty != ty::HANDSHAKE {
        return refuse(SpError::Auth);
    }
    let k = kernel();
    let p = match h.u {
        handshake::GUEST => {
            let p = k.procs.spawn(1, "", crate::kern::console::initial_fds());
            p.set_comm(&f.body);
            k.factions.forked(1, p.pid);
            p
        }
        handshake::FORK => {
            if f.body.len() != FORK_BODY_LEN {
                return refuse(SpError::MalformedRequest);
            }
            let cookie: [u8; COOKIE_LEN] = f.body[..COOKIE_LEN].try_into().unwrap();
            let cancel = i32::from_le_bytes(f.body[COOKIE_LEN..].try_into().unwrap()) != 0;
            let Some(pre) = k.procs.claim_prefork(&cookie) else {
                return refuse(SpError::InvalidPrefork);
            };
            if cancel {
                pre.kill();
                let closed = pre.fds.lock().clear();
                crate::kern::fdops::release(&pre, closed);
                k.factions.exited(pre.pid);
                return Next::Close;
            }
            let fds = std::mem::take(&mut *pre.fds.lock());
            let p = k.procs.spawn(1, &pre.comm(), fds);
            k.factions.forked(pre.pid, p.pid);
            pre.kill();
            k.factions.exited(pre.pid);
            p
        }
        _ => return refuse(SpError::Auth),
    };
    tracing::debug!(conn = conn.id, pid = p.pid, comm = %p.comm(), "process created");
    let _ = conn.proc.set(p);
    let _ = conn.send(&frame::handshake_resp(h.reqno, 0));
    Next::Continue
}

/// A request on a connection with a running process.
fn request_running(conn: &Arc<Conn>, p: &Arc<Proc>, f: Frame) -> Next {
    let h = f.hdr;
    match h.ty {
        ty::SYSCALL => Next::Syscall(f),
        ty::PREFORK => {
            if p.exec_in_progress() {
                conn.send_error(h.reqno, SpError::InExec);
                return Next::Close;
            }
            match kernel().procs.prefork(p) {
                Ok((cookie, child)) => {
                    kernel().factions.forked(p.pid, child);
                    let _ = conn.send(&frame::prefork_resp(h.reqno, &cookie));
                }
                Err(e) => {
                    tracing::warn!("prefork: no random cookie: {e}");
                    conn.send_error(h.reqno, SpError::RforkFailed);
                }
            }
            Next::Continue
        }
        ty::HANDSHAKE if h.u == handshake::EXEC => {
            if !p.begin_exec() {
                conn.send_error(h.reqno, SpError::InExec);
                return Next::Close;
            }
            let (conn, p) = (conn.clone(), p.clone());
            pool::spawn(move || {
                p.wait_idle();
                let closed = p.fds.lock().close_on_exec();
                crate::kern::fdops::release(&p, closed);
                p.set_comm(&f.body);
                p.end_exec();
                tracing::debug!(pid = p.pid, comm = %p.comm(), "exec");
                let _ = conn.send(&frame::handshake_resp(h.reqno, 0));
            });
            Next::Continue
        }
        ty::HANDSHAKE => {
            conn.send_error(h.reqno, SpError::MalformedRequest);
            Next::Close
        }
        _ => {
            conn.send_error(h.reqno, SpError::MalformedRequest);
            Next::Continue
        }
    }
}
