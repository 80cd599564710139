//! A connection to a rump kernel server.

use crate::error::ConnectError;
use crate::region::Region;
use crate::spin::{self, Spin};
use netbsd_abi::Errno;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use sysproxy::frame::{self, class, handshake, ty, CopyData, SpError, SysResp, COOKIE_LEN};
use sysproxy::url::{self, Endpoint, Side};
use sysproxy::{Frame, FrameDecoder};

/// The most buffers one gathered write takes.
const MAX_PARTS: usize = 4;

/// Largest frame accepted from a server (a copy-out of 16 MiB).
const MAX_FRAME: u64 = 16 << 20;

/// Copy-outs of at least this many bytes go from the socket straight to
/// the caller's buffer.
const DIRECT_COPYOUT: usize = 16 * 1024;

/// A COPYOUT's header and its address block.
const COPYOUT_HEAD: usize = frame::HDR_LEN + 16;

/// The cookie of a pre-forked process, to be claimed by a new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkCookie(pub [u8; COOKIE_LEN]);

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// `Read` for a shared stream.
struct StreamReader<'a>(&'a Stream);

impl Read for StreamReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.0.read_exact(buf)
    }
}

impl Stream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => (&*s).read(buf),
            Stream::Tcp(s) => (&*s).read(buf),
        }
    }

    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Unix(s) => (&*s).write_all(buf),
            Stream::Tcp(s) => (&*s).write_all(buf),
        }
    }

    /// Writes `parts` (at most [`MAX_PARTS`]) one after the other,
    /// gathered into as few system calls as the socket allows.
    fn write_all_parts(&self, parts: &[&[u8]]) -> io::Result<()> {
        assert!(parts.len() <= MAX_PARTS, "too many parts for one write");
        let mut slices = [IoSlice::new(&[]); MAX_PARTS];
        for (slice, part) in slices.iter_mut().zip(parts) {
            *slice = IoSlice::new(part);
        }
        let mut rest = &mut slices[..parts.len()];
        while !rest.is_empty() {
            let r = match self {
                Stream::Unix(s) => (&*s).write_vectored(rest),
                Stream::Tcp(s) => (&*s).write_vectored(rest),
            };
            match r {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Like [`Stream::read`], polling first for as long as `spin` says
    /// (see [`crate::spin`]), and telling it how the wait went.
    fn read_polling(&self, buf: &mut [u8], spin: &Spin) -> io::Result<usize> {
        use nix::sys::socket::{recv, MsgFlags};
        use std::os::fd::AsRawFd;
        let budget = spin.budget();
        let start = Instant::now();
        if budget.is_zero() {
            let r = self.read(buf);
            spin.waited(start.elapsed());
            return r;
        }
        let switches = spin::preemptions();
        let r = loop {
            match recv(self.fd().as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
                Ok(n) => break Ok(n),
                Err(nix::errno::Errno::EAGAIN) if start.elapsed() < budget => {
                    std::hint::spin_loop()
                }
                Err(nix::errno::Errno::EAGAIN) => {
                    if spin::preemptions() != switches {
                        // Polled in vain and lost the CPU meanwhile.
                        spin.preempted();
                    }
                    break self.read(buf);
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => break Err(e.into()),
            }
        };
        spin.waited(start.elapsed());
        r
    }

    /// Reads exactly `buf.len()` bytes.
    fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        match self {
            Stream::Unix(s) => (&*s).read_exact(buf),
            Stream::Tcp(s) => (&*s).read_exact(buf),
        }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Unix(s) => s.as_fd(),
            Stream::Tcp(s) => s.as_fd(),
        }
    }
}

struct State {
    /// The frame buffer; taken by whichever thread is reading.
    decoder: Option<FrameDecoder>,
    /// Requests in flight, with what the server asked of their memory.
    /// (Few requests are in flight at once: small vectors beat maps.)
    mail: Vec<(u64, VecDeque<Frame>)>,
    /// Answers that arrived for requests in flight.
    replies: Vec<(u64, Frame)>,
    /// Memory of requests in flight: (address, length, request).
    regions: Vec<(u64, u64, u64)>,
    dead: bool,
}

struct Inner {
    stream: Stream,
    url: String,
    write: Mutex<()>,
    next_reqno: AtomicU64,
    state: Mutex<State>,
    changed: Condvar,
    /// When the reading thread polls before it sleeps.
    spin: Spin,
}

/// A connection to a server: one process in its kernel.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// The name a client gives itself in its handshake.
pub fn progname() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "???".to_string())
}

fn sp_errno(code: u32) -> Errno {
    match SpError::from_code(code) {
        SpError::None => Errno(0),
        SpError::TryAgain => Errno::EAGAIN,
        SpError::Auth => Errno::EPERM,
        SpError::InvalidPrefork => Errno::ESRCH,
        SpError::RforkFailed => Errno::EIO,
        SpError::InExec => Errno::EBUSY,
        SpError::NoMem => Errno::ENOMEM,
        SpError::MalformedRequest => Errno::EINVAL,
    }
}

impl Client {
    /// Connects to `url` and joins the kernel as a new process named
    /// `name`.
    pub fn connect(url: &str, name: &str) -> Result<Client, ConnectError> {
        let c = Self::dial(url)?;
        c.handshake(handshake::GUEST, name.as_bytes())?;
        Ok(c)
    }

    /// Connects to `url` and takes over the pre-forked process `cookie`.
    pub fn connect_forked(url: &str, cookie: ForkCookie) -> Result<Client, ConnectError> {
        let c = Self::dial(url)?;
        let reqno = c.reqno();
        let req = frame::fork_handshake_req(reqno, &cookie.0, false);
        c.finish_handshake(reqno, &req)?;
        Ok(c)
    }

    /// Connects and reads the banner.
    fn dial(url: &str) -> Result<Client, ConnectError> {
        let cwd = std::env::current_dir().ok();
        let ep = url::parse(url, Side::Client, cwd.as_deref())?;
        let stream = match &ep {
            Endpoint::Unix { path, .. } => {
                Stream::Unix(UnixStream::connect(path).map_err(ConnectError::Connect)?)
            }
            Endpoint::Tcp(addr) => {
                let s = TcpStream::connect(addr).map_err(ConnectError::Connect)?;
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }
        };
        let mut banner = Vec::new();
        let mut byte = [0u8; 96];
        while banner.last() != Some(&b'\n') && banner.len() < sysproxy::banner::MAX_BANNER {
            let want = sysproxy::banner::MAX_BANNER - banner.len();
            match stream.read(&mut byte[..want]) {
                Ok(0) | Err(_) => return Err(ConnectError::Banner),
                Ok(n) => banner.extend_from_slice(&byte[..n]),
            }
        }
        if !sysproxy::banner::is_valid(&banner) {
            return Err(ConnectError::Banner);
        }
        Ok(Self::from_stream(stream, ep.to_string()))
    }

    fn from_stream(stream: Stream, url: String) -> Client {
        Client {
            inner: Arc::new(Inner {
                stream,
                url,
                write: Mutex::new(()),
                next_reqno: AtomicU64::new(1),
                state: Mutex::new(State {
                    decoder: Some(FrameDecoder::new(MAX_FRAME)),
                    mail: Vec::new(),
                    replies: Vec::new(),
                    regions: Vec::new(),
                    dead: false,
                }),
                changed: Condvar::new(),
                spin: Spin::new(),
            }),
        }
    }

    /// Adopts a connected socket (after exec) without reading a banner.
    pub(crate) fn adopt(fd: OwnedFd, url: String) -> Client {
        Self::from_stream(Stream::Unix(UnixStream::from(fd)), url)
    }

    /// Sends an EXEC handshake: the process continues under a new name.
    pub(crate) fn exec_handshake(&self, name: &str) -> Result<(), ConnectError> {
        self.handshake(handshake::EXEC, name.as_bytes())
    }

    fn handshake(&self, kind: u32, name: &[u8]) -> Result<(), ConnectError> {
        let reqno = self.reqno();
        let req = frame::handshake_req(reqno, kind, name);
        self.finish_handshake(reqno, &req)
    }

    fn finish_handshake(&self, reqno: u64, req: &[u8]) -> Result<(), ConnectError> {
        let f = self
            .request(reqno, req, &mut [])
            .map_err(ConnectError::Handshake)?;
        if f.hdr.class == class::ERROR {
            return Err(ConnectError::Handshake(sp_errno(f.hdr.u)));
        }
        let err = f
            .body
            .get(..4)
            .map_or(0, |b| i32::from_le_bytes(b.try_into().unwrap()));
        if err != 0 {
            return Err(ConnectError::Handshake(Errno(err)));
        }
        Ok(())
    }

    /// The server's URL, with a unix path made absolute.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The socket, for handing over across exec.
    pub(crate) fn socket(&self) -> BorrowedFd<'_> {
        self.inner.stream.fd()
    }

    fn reqno(&self) -> u64 {
        self.inner.next_reqno.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs syscall `num` with argument slots `args`. The server may read
    /// and write the `regions` (whose addresses the slots refer to) while
    /// the call runs.
    pub fn syscall(
        &self,
        num: i32,
        args: &[u64],
        regions: &mut [Region<'_>],
    ) -> Result<[i64; 2], Errno> {
        let reqno = self.reqno();
        let f = if args.len() <= 8 {
            let (buf, len) = frame::syscall_req_small(reqno, num, args);
            self.request(reqno, &buf[..len], regions)?
        } else {
            self.request(reqno, &frame::syscall_req(reqno, num, args), regions)?
        };
        if f.hdr.class == class::ERROR {
            return Err(sp_errno(f.hdr.u));
        }
        let r = SysResp::decode(&f.body);
        if r.error != 0 {
            return Err(Errno(r.error));
        }
        Ok(r.retval)
    }

    /// Asks the server to fork this process; the child is claimed with
    /// [`Client::connect_forked`] on a new connection.
    pub fn prefork(&self) -> Result<ForkCookie, Errno> {
        let reqno = self.reqno();
        let f = self.request(reqno, &frame::prefork_req(reqno), &mut [])?;
        if f.hdr.class == class::ERROR {
            return Err(sp_errno(f.hdr.u));
        }
        let cookie: [u8; COOKIE_LEN] = f
            .body
            .get(..COOKIE_LEN)
            .ok_or(Errno::EPROTO)?
            .try_into()
            .unwrap();
        Ok(ForkCookie(cookie))
    }

    /// Sends `req` (numbered `reqno`) and serves the server's requests on
    /// `regions` until its answer arrives.
    fn request(&self, reqno: u64, req: &[u8], regions: &mut [Region<'_>]) -> Result<Frame, Errno> {
        let inner = &*self.inner;
        {
            let mut st = inner.state.lock();
            if st.dead {
                return Err(Errno::ENOTCONN);
            }
            st.mail.push((reqno, VecDeque::new()));
            st.regions
                .extend(regions.iter().map(|r| (r.addr(), r.len() as u64, reqno)));
        }
        let sent = {
            let _w = inner.write.lock();
            inner.stream.write_all(req)
        };
        if sent.is_err() {
            self.kill();
        }
        let result = self.await_answer(reqno, regions);
        let mut st = inner.state.lock();
        st.mail.retain(|m| m.0 != reqno);
        st.replies.retain(|r| r.0 != reqno);
        st.regions.retain(|r| r.2 != reqno);
        result
    }

    fn await_answer(&self, reqno: u64, regions: &mut [Region<'_>]) -> Result<Frame, Errno> {
        let inner = &*self.inner;
        let mut st = inner.state.lock();
        loop {
            // Memory requests come before the answer they belong to.
            if let Some(req) = mailbox(&mut st, reqno).and_then(VecDeque::pop_front) {
                drop(st);
                self.serve(&req, regions);
                st = inner.state.lock();
                continue;
            }
            if let Some(i) = st.replies.iter().position(|r| r.0 == reqno) {
                return Ok(st.replies.swap_remove(i).1);
            }
            if st.dead {
                return Err(Errno::ENOTCONN);
            }
            if let Some(mut dec) = st.decoder.take() {
                drop(st);
                let frames = self.read_some(&mut dec, regions);
                st = inner.state.lock();
                st.decoder = Some(dec);
                let leftovers = match frames {
                    Some(frames) => route(&mut st, frames),
                    None => {
                        st.dead = true;
                        Vec::new()
                    }
                };
                inner.changed.notify_all();
                if !leftovers.is_empty() {
                    drop(st);
                    for f in leftovers {
                        self.serve(&f, &mut []);
                    }
                    st = inner.state.lock();
                }
                continue;
            }
            inner.changed.wait(&mut st);
        }
    }

    /// Reads until at least one whole frame is there; `None` when the
    /// connection is gone. A large copy-out into `regions` (the reading
    /// thread's own) is stored there on the way, without becoming a frame.
    fn read_some(&self, dec: &mut FrameDecoder, regions: &mut [Region<'_>]) -> Option<Vec<Frame>> {
        // While a large copy-out may come, read a frame's head alone first,
        // so that its body can go straight where it belongs.
        let head_first = regions
            .iter()
            .any(|r| matches!(r, Region::Out(b) if b.len() >= DIRECT_COPYOUT));
        let mut frames = Vec::new();
        loop {
            loop {
                match dec.next_frame() {
                    Ok(Some(f)) => frames.push(f),
                    Ok(None) => break,
                    Err(_) => return None,
                }
            }
            if !frames.is_empty() {
                return Some(frames);
            }
            if head_first {
                match self.copyout_direct(dec, regions) {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(_) => return None,
                }
            }
            let want = match dec.pending().len() {
                n if head_first && n < COPYOUT_HEAD => COPYOUT_HEAD - n,
                _ => usize::MAX,
            };
            let spare = dec.spare();
            let n = want.min(spare.len());
            let spare = &mut spare[..n];
            match self.inner.stream.read_polling(spare, &self.inner.spin) {
                Ok(0) => return None,
                Ok(n) => dec.filled(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }

    /// Stores the large COPYOUT at the front of `dec` in the region of
    /// `regions` it targets, its data read from the socket straight there;
    /// `Ok(false)` if the front frame is not such a copy-out (yet).
    fn copyout_direct(
        &self,
        dec: &mut FrameDecoder,
        regions: &mut [Region<'_>],
    ) -> io::Result<bool> {
        let Ok(Some(h)) = dec.peek_header() else {
            return Ok(false);
        };
        let data_len = (h.len as usize).saturating_sub(COPYOUT_HEAD);
        if h.class != class::REQ || h.ty != ty::COPYOUT || data_len < DIRECT_COPYOUT {
            return Ok(false);
        }
        let Some(cd) = dec
            .pending()
            .get(frame::HDR_LEN..)
            .and_then(CopyData::decode)
        else {
            return Ok(false);
        };
        if cd.len != data_len as u64 {
            return Ok(false);
        }
        let Some(dst) = regions.iter_mut().find_map(|r| r.target(cd.addr, cd.len)) else {
            return Ok(false);
        };
        dec.read_body_tail_into(StreamReader(&self.inner.stream), 16, dst)?;
        Ok(true)
    }

    /// Closes the connection, as the end of the client process would:
    /// the server ends the process, and every call in flight or to come
    /// fails with ENOTCONN.
    pub fn disconnect(&self) {
        let _ = match &self.inner.stream {
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
        };
        self.kill();
    }

    fn kill(&self) {
        self.inner.state.lock().dead = true;
        self.inner.changed.notify_all();
    }

    fn send(&self, buf: &[u8]) {
        self.send_parts(&[buf]);
    }

    fn send_parts(&self, parts: &[&[u8]]) {
        let _w = self.inner.write.lock();
        if self.inner.stream.write_all_parts(parts).is_err() {
            drop(_w);
            self.kill();
        }
    }

    /// A COPYIN answer: header and data leave together, without copying
    /// the data into a frame first.
    fn answer_copyin(&self, reqno: u64, data: &[u8]) {
        self.send_parts(&[&frame::copyin_resp_head(reqno, data.len()), data]);
    }

    /// Answers one request of the server about memory in `regions`.
    fn serve(&self, req: &Frame, regions: &mut [Region<'_>]) {
        if req.hdr.ty == ty::ANONMMAP {
            // This client maps no memory for the server.
            self.send(&frame::anonmmap_resp(req.hdr.reqno, 0));
            return;
        }
        let Some(cd) = CopyData::decode(&req.body) else {
            if matches!(req.hdr.ty, ty::COPYIN | ty::COPYINSTR) {
                self.answer_copyin(req.hdr.reqno, &[]);
            }
            return;
        };
        let region = regions.iter_mut().find(|r| r.contains(cd.addr));
        match req.hdr.ty {
            ty::COPYIN => {
                let data = region.and_then(|r| r.read(cd.addr, cd.len)).unwrap_or(&[]);
                self.answer_copyin(req.hdr.reqno, data);
            }
            ty::COPYINSTR => {
                let data = region
                    .and_then(|r| {
                        let avail = (r.addr() + r.len() as u64 - cd.addr).min(cd.len);
                        r.read(cd.addr, avail)
                    })
                    .map(|d| d.iter().position(|&b| b == 0).map_or(d, |n| &d[..=n]))
                    .unwrap_or(&[]);
                self.answer_copyin(req.hdr.reqno, data);
            }
            _ => {
                let data = req.body.get(16..).unwrap_or(&[]);
                let data = &data[..data.len().min(cd.len as usize)];
                if let Some(r) = region {
                    r.write(cd.addr, data);
                }
            }
        }
    }
}

fn mailbox(st: &mut State, reqno: u64) -> Option<&mut VecDeque<Frame>> {
    st.mail.iter_mut().find(|m| m.0 == reqno).map(|m| &mut m.1)
}

/// Files frames a reader read: answers to their requests, memory requests
/// to the request whose memory they touch. Returns the copy-ins no request
/// owns (they get an empty answer, which the server turns into EFAULT).
fn route(st: &mut State, frames: Vec<Frame>) -> Vec<Frame> {
    let mut unowned = Vec::new();
    for f in frames {
        match (f.hdr.class, f.hdr.ty) {
            (class::RESP | class::ERROR, _) if mailbox(st, f.hdr.reqno).is_some() => {
                st.replies.push((f.hdr.reqno, f));
            }
            (class::REQ, ty::COPYIN | ty::COPYINSTR | ty::COPYOUT | ty::COPYOUTSTR) => {
                let addr = CopyData::decode(&f.body).map_or(0, |c| c.addr);
                let owner = st
                    .regions
                    .iter()
                    .find(|(a, l, _)| addr >= *a && addr - *a < (*l).max(1))
                    .map(|r| r.2);
                match owner.and_then(|o| mailbox(st, o)) {
                    Some(q) => q.push_back(f),
                    None if f.hdr.ty != ty::COPYOUT && f.hdr.ty != ty::COPYOUTSTR => {
                        unowned.push(f)
                    }
                    None => {}
                }
            }
            (class::REQ, ty::RAISE) => crate::env::raise(f.hdr.u),
            (class::REQ, ty::ANONMMAP) => unowned.push(f),
            _ => {}
        }
    }
    unowned
}
