//! Frame headers and message bodies.
//!
//! Every frame is a 24-byte header (`rsp_len`, `rsp_reqno`, `rsp_class`,
//! `rsp_type`, a 32-bit union) followed by `rsp_len - 24` body bytes, all
//! little-endian. The builders here produce complete frames as byte
//! vectors ready for one write.

/// Length of a frame header.
pub const HDR_LEN: usize = 24;

/// Header classes (`rsp_class`).
pub mod class {
    /// A request.
    pub const REQ: u16 = 0;
    /// A response to a request.
    pub const RESP: u16 = 1;
    /// An error response; the code is in the header's union.
    pub const ERROR: u16 = 2;
}

/// Message types (`rsp_type`).
pub mod ty {
    pub const HANDSHAKE: u16 = 0;
    pub const SYSCALL: u16 = 1;
    pub const COPYIN: u16 = 2;
    pub const COPYINSTR: u16 = 3;
    pub const COPYOUT: u16 = 4;
    pub const COPYOUTSTR: u16 = 5;
    pub const ANONMMAP: u16 = 6;
    pub const PREFORK: u16 = 7;
    pub const RAISE: u16 = 8;

    /// The protocol name of a type, for logs.
    pub fn name(t: u16) -> &'static str {
        match t {
            HANDSHAKE => "HANDSHAKE",
            SYSCALL => "SYSCALL",
            COPYIN => "COPYIN",
            COPYINSTR => "COPYINSTR",
            COPYOUT => "COPYOUT",
            COPYOUTSTR => "COPYOUTSTR",
            ANONMMAP => "ANONMMAP",
            PREFORK => "PREFORK",
            RAISE => "RAISE",
            _ => "unknown",
        }
    }
}

/// Handshake kinds, carried in the union of a HANDSHAKE request.
pub mod handshake {
    pub const GUEST: u32 = 0;
    pub const AUTH: u32 = 1;
    pub const FORK: u32 = 2;
    pub const EXEC: u32 = 3;
}

/// Error codes of ERROR frames (`enum rumpsp_err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SpError {
    None = 0,
    TryAgain = 1,
    Auth = 2,
    InvalidPrefork = 3,
    RforkFailed = 4,
    InExec = 5,
    NoMem = 6,
    MalformedRequest = 7,
}

impl SpError {
    /// Decodes a code; unknown codes are reported as malformed requests.
    pub fn from_code(code: u32) -> SpError {
        match code {
            0 => SpError::None,
            1 => SpError::TryAgain,
            2 => SpError::Auth,
            3 => SpError::InvalidPrefork,
            4 => SpError::RforkFailed,
            5 => SpError::InExec,
            6 => SpError::NoMem,
            _ => SpError::MalformedRequest,
        }
    }

    /// The host errno librumpclient turns this code into, as its
    /// symbolic name (the caller maps it to a number in its own errno
    /// space).
    pub fn errno_name(self) -> &'static str {
        match self {
            SpError::None => "0",
            SpError::TryAgain => "EAGAIN",
            SpError::Auth => "EPERM",
            SpError::InvalidPrefork => "ESRCH",
            SpError::RforkFailed => "EIO",
            SpError::InExec => "EBUSY",
            SpError::NoMem => "ENOMEM",
            SpError::MalformedRequest => "EINVAL",
        }
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Total frame length, header included.
    pub len: u64,
    pub reqno: u64,
    pub class: u16,
    pub ty: u16,
    /// The union: syscall number, handshake kind, error code or signal.
    pub u: u32,
}

impl Header {
    /// A header for a frame with `body_len` body bytes.
    pub fn new(body_len: usize, reqno: u64, class: u16, ty: u16, u: u32) -> Header {
        Header {
            len: (HDR_LEN + body_len) as u64,
            reqno,
            class,
            ty,
            u,
        }
    }

    pub fn encode(&self) -> [u8; HDR_LEN] {
        let mut b = [0u8; HDR_LEN];
        b[0..8].copy_from_slice(&self.len.to_le_bytes());
        b[8..16].copy_from_slice(&self.reqno.to_le_bytes());
        b[16..18].copy_from_slice(&self.class.to_le_bytes());
        b[18..20].copy_from_slice(&self.ty.to_le_bytes());
        b[20..24].copy_from_slice(&self.u.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; HDR_LEN]) -> Header {
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        Header {
            len: u64_at(0),
            reqno: u64_at(8),
            class: u16::from_le_bytes([b[16], b[17]]),
            ty: u16::from_le_bytes([b[18], b[19]]),
            u: u32::from_le_bytes([b[20], b[21], b[22], b[23]]),
        }
    }

    /// The syscall number of a SYSCALL request (the union read as `int`).
    pub fn sysnum(&self) -> i32 {
        self.u as i32
    }
}

/// A whole frame: header and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub hdr: Header,
    pub body: Vec<u8>,
}

impl Frame {
    /// Serialises header and body into one buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HDR_LEN + self.body.len());
        v.extend_from_slice(&self.hdr.encode());
        v.extend_from_slice(&self.body);
        v
    }
}

fn frame(reqno: u64, class: u16, ty: u16, u: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_LEN + body.len());
    v.extend_from_slice(&Header::new(body.len(), reqno, class, ty, u).encode());
    v.extend_from_slice(body);
    v
}

/// Client: HANDSHAKE GUEST or EXEC with the program name (a NUL is added).
pub fn handshake_req(reqno: u64, kind: u32, progname: &[u8]) -> Vec<u8> {
    let mut body = progname.to_vec();
    body.push(0);
    frame(reqno, class::REQ, ty::HANDSHAKE, kind, &body)
}

/// Body length of a FORK handshake: a 16-byte cookie and an `int` cancel.
pub const FORK_BODY_LEN: usize = 20;
/// Length of a PREFORK cookie.
pub const COOKIE_LEN: usize = 16;

/// Client: HANDSHAKE FORK claiming the pre-forked process `cookie`.
pub fn fork_handshake_req(reqno: u64, cookie: &[u8; COOKIE_LEN], cancel: bool) -> Vec<u8> {
    let mut body = [0u8; FORK_BODY_LEN];
    body[..COOKIE_LEN].copy_from_slice(cookie);
    body[COOKIE_LEN..].copy_from_slice(&(cancel as i32).to_le_bytes());
    frame(reqno, class::REQ, ty::HANDSHAKE, handshake::FORK, &body)
}

/// Server: the handshake response, `int error`.
pub fn handshake_resp(reqno: u64, error: i32) -> Vec<u8> {
    frame(reqno, class::RESP, ty::HANDSHAKE, 0, &error.to_le_bytes())
}

/// Client: a SYSCALL request with its argument slots.
pub fn syscall_req(reqno: u64, sysnum: i32, args: &[u64]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_LEN + 8 * args.len());
    v.extend_from_slice(
        &Header::new(
            8 * args.len(),
            reqno,
            class::REQ,
            ty::SYSCALL,
            sysnum as u32,
        )
        .encode(),
    );
    for a in args {
        v.extend_from_slice(&a.to_le_bytes());
    }
    v
}

/// Client: a SYSCALL request of at most 8 slots, built on the stack;
/// returns the buffer and the frame's length.
pub fn syscall_req_small(reqno: u64, sysnum: i32, args: &[u64]) -> ([u8; HDR_LEN + 64], usize) {
    let mut b = [0u8; HDR_LEN + 64];
    let n = args.len().min(8);
    b[..HDR_LEN].copy_from_slice(
        &Header::new(8 * n, reqno, class::REQ, ty::SYSCALL, sysnum as u32).encode(),
    );
    for (i, a) in args[..n].iter().enumerate() {
        b[HDR_LEN + 8 * i..HDR_LEN + 8 * i + 8].copy_from_slice(&a.to_le_bytes());
    }
    (b, HDR_LEN + 8 * n)
}

/// Length of a syscall response frame.
pub const SYSRESP_LEN: usize = HDR_LEN + 24;

/// Server: the syscall response `{int error; pad; register_t retval[2]}`.
pub fn syscall_resp(reqno: u64, error: i32, retval: [i64; 2]) -> [u8; SYSRESP_LEN] {
    let mut b = [0u8; SYSRESP_LEN];
    b[..HDR_LEN].copy_from_slice(&Header::new(24, reqno, class::RESP, ty::SYSCALL, 0).encode());
    b[24..28].copy_from_slice(&error.to_le_bytes());
    b[32..40].copy_from_slice(&retval[0].to_le_bytes());
    b[40..48].copy_from_slice(&retval[1].to_le_bytes());
    b
}

/// A decoded syscall response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysResp {
    pub error: i32,
    pub retval: [i64; 2],
}

impl SysResp {
    /// Decodes a response body; a short body reads as zeros.
    pub fn decode(body: &[u8]) -> SysResp {
        let mut b = [0u8; 24];
        let n = body.len().min(24);
        b[..n].copy_from_slice(&body[..n]);
        SysResp {
            error: i32::from_le_bytes(b[0..4].try_into().unwrap()),
            retval: [
                i64::from_le_bytes(b[8..16].try_into().unwrap()),
                i64::from_le_bytes(b[16..24].try_into().unwrap()),
            ],
        }
    }
}

/// Server: a COPYIN or COPYINSTR request for `len` bytes at `addr`.
pub fn copyin_req(reqno: u64, string: bool, addr: u64, len: u64) -> [u8; HDR_LEN + 16] {
    let t = if string { ty::COPYINSTR } else { ty::COPYIN };
    let mut b = [0u8; HDR_LEN + 16];
    b[..HDR_LEN].copy_from_slice(&Header::new(16, reqno, class::REQ, t, 0).encode());
    b[24..32].copy_from_slice(&len.to_le_bytes());
    b[32..40].copy_from_slice(&addr.to_le_bytes());
    b
}

/// Server: the header and address block of a COPYOUT of `len` bytes to
/// `addr`; the data follows it on the wire.
pub fn copyout_head(reqno: u64, addr: u64, len: usize) -> [u8; HDR_LEN + 16] {
    let mut b = [0u8; HDR_LEN + 16];
    b[..HDR_LEN]
        .copy_from_slice(&Header::new(16 + len, reqno, class::REQ, ty::COPYOUT, 0).encode());
    b[24..32].copy_from_slice(&(len as u64).to_le_bytes());
    b[32..40].copy_from_slice(&addr.to_le_bytes());
    b
}

/// The `{len, addr}` block at the start of copy requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyData {
    pub len: u64,
    pub addr: u64,
}

impl CopyData {
    /// Decodes the block; `None` if the body is shorter than 16 bytes.
    pub fn decode(body: &[u8]) -> Option<CopyData> {
        Some(CopyData {
            len: u64::from_le_bytes(body.get(0..8)?.try_into().ok()?),
            addr: u64::from_le_bytes(body.get(8..16)?.try_into().ok()?),
        })
    }
}

/// Client: the response to a COPYIN or COPYINSTR (always type COPYIN).
pub fn copyin_resp(reqno: u64, data: &[u8]) -> Vec<u8> {
    frame(reqno, class::RESP, ty::COPYIN, 0, data)
}

/// Client: the header of a COPYIN response of `len` bytes; the data
/// follows it on the wire.
pub fn copyin_resp_head(reqno: u64, len: usize) -> [u8; HDR_LEN] {
    Header::new(len, reqno, class::RESP, ty::COPYIN, 0).encode()
}

/// Client: PREFORK request.
pub fn prefork_req(reqno: u64) -> Vec<u8> {
    frame(reqno, class::REQ, ty::PREFORK, 0, &[])
}

/// Server: PREFORK response carrying the cookie.
pub fn prefork_resp(reqno: u64, cookie: &[u8; COOKIE_LEN]) -> Vec<u8> {
    frame(reqno, class::RESP, ty::PREFORK, 0, cookie)
}

/// Client: the answer to ANONMMAP, the address of the mapping (0: none).
pub fn anonmmap_resp(reqno: u64, addr: u64) -> Vec<u8> {
    frame(reqno, class::RESP, ty::ANONMMAP, 0, &addr.to_le_bytes())
}

/// Server: a RAISE request for NetBSD signal `signo`.
pub fn raise_req(reqno: u64, signo: u32) -> Vec<u8> {
    frame(reqno, class::REQ, ty::RAISE, signo, &[])
}

/// Server: an ERROR frame echoing `reqno`.
pub fn error_frame(reqno: u64, err: SpError) -> [u8; HDR_LEN] {
    Header::new(0, reqno, class::ERROR, 0, err as u32).encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header::new(10, 7, class::REQ, ty::HANDSHAKE, handshake::FORK);
        assert_eq!(h.len, 34);
        assert_eq!(Header::decode(&h.encode()), h);
    }

    #[test]
    fn frames_match_the_spec_examples() {
        // sysproxy.md §10: HANDSHAKE GUEST "rump.halt" with reqno 0.
        let f = handshake_req(0, handshake::GUEST, b"rump.halt");
        assert_eq!(f.len(), 34);
        assert_eq!(&f[..8], &[0x22, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&f[24..], b"rump.halt\0");
        // getpid reply: pid 2, ppid 1.
        let r = syscall_resp(1, 0, [2, 1]);
        assert_eq!(&r[16..24], &[1, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(
            SysResp::decode(&r[24..]),
            SysResp {
                error: 0,
                retval: [2, 1]
            }
        );
        // ERROR frame code 7.
        let e = error_frame(2, SpError::MalformedRequest);
        assert_eq!(
            e,
            [24, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0]
        );
    }

    #[test]
    fn copy_requests() {
        let r = copyin_req(0, true, 0x557c_1f8a_3036, 1024);
        assert_eq!(r[18], ty::COPYINSTR as u8);
        assert_eq!(
            CopyData::decode(&r[24..]),
            Some(CopyData {
                len: 1024,
                addr: 0x557c_1f8a_3036
            })
        );
        let h = copyout_head(3, 0x10, 8);
        assert_eq!(Header::decode(h[..24].try_into().unwrap()).len, 48);
        assert_eq!(CopyData::decode(&[1, 2]), None);
    }
}
