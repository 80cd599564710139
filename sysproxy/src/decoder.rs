//! Incremental frame decoding from a byte stream.
//!
//! The owner reads from its socket into [`FrameDecoder::spare`], reports
//! how much arrived with [`FrameDecoder::filled`], and takes whole frames
//! out with [`FrameDecoder::next_frame`]. One read usually brings several
//! small frames, so the common case costs one system call per batch.

use crate::frame::{Frame, Header, HDR_LEN};
use std::io::{self, Read};

/// Why a byte stream cannot be decoded further. Both end the connection:
/// once a length is wrong, frame boundaries are lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// `rsp_len` is smaller than a header.
    #[error("frame length {0} is shorter than the 24-byte header")]
    TooShort(u64),
    /// `rsp_len` exceeds the receiver's limit.
    #[error("frame length {len} exceeds the limit of {max} bytes")]
    TooLong { len: u64, max: u64 },
}

/// Buffers stream bytes and splits them into frames.
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_len: u64,
}

const MIN_READ: usize = 64 * 1024;

impl FrameDecoder {
    /// A decoder that refuses frames longer than `max_len` bytes.
    pub fn new(max_len: u64) -> Self {
        FrameDecoder {
            buf: vec![0; MIN_READ],
            start: 0,
            end: 0,
            max_len,
        }
    }

    /// Bytes received but not yet returned as frames.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Space to read into: at least enough for the frame being assembled
    /// (or 64 KiB), after moving pending bytes to the front when needed.
    pub fn spare(&mut self) -> &mut [u8] {
        let pending = self.end - self.start;
        let want = self.needed().max(MIN_READ);
        if self.buf.len() - self.end < want.saturating_sub(pending).max(1) {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = pending;
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Records that `n` bytes were written into [`spare`](Self::spare).
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// Bytes needed to complete the frame at the front (header first).
    fn needed(&self) -> usize {
        let pending = &self.buf[self.start..self.end];
        if pending.len() < HDR_LEN {
            return HDR_LEN;
        }
        let len = u64::from_le_bytes(pending[..8].try_into().unwrap());
        usize::try_from(len.min(self.max_len))
            .unwrap_or(HDR_LEN)
            .max(HDR_LEN)
    }

    /// The header at the front, once its 24 bytes have arrived (the body
    /// may still be on its way).
    pub fn peek_header(&self) -> Result<Option<Header>, DecodeError> {
        let pending = &self.buf[self.start..self.end];
        if pending.len() < HDR_LEN {
            return Ok(None);
        }
        let hdr = Header::decode(pending[..HDR_LEN].try_into().unwrap());
        if hdr.len < HDR_LEN as u64 {
            return Err(DecodeError::TooShort(hdr.len));
        }
        if hdr.len > self.max_len {
            return Err(DecodeError::TooLong {
                len: hdr.len,
                max: self.max_len,
            });
        }
        Ok(Some(hdr))
    }

    /// The next complete frame, if one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        let Some(hdr) = self.peek_header()? else {
            return Ok(None);
        };
        let len = hdr.len as usize;
        if self.end - self.start < len {
            return Ok(None);
        }
        let body = self.buf[self.start + HDR_LEN..self.start + len].to_vec();
        self.consume(len);
        Ok(Some(Frame { hdr, body }))
    }

    /// Takes the frame at the front (its header must have arrived, see
    /// [`peek_header`](Self::peek_header)) with its body placed in `dst`,
    /// which must be exactly the body's size. Bytes already buffered are
    /// copied; the rest is read from `src` straight into `dst`, so a large
    /// body crosses memory once.
    pub fn read_body_into(&mut self, src: impl Read, dst: &mut [u8]) -> io::Result<()> {
        self.read_body_tail_into(src, 0, dst)
    }

    /// Like [`read_body_into`](Self::read_body_into), for a body whose
    /// first `skip` bytes have arrived (the caller read them from
    /// [`pending`](Self::pending)): they are dropped, and the rest of the
    /// body lands in `dst`, which must be exactly its size.
    pub fn read_body_tail_into(
        &mut self,
        mut src: impl Read,
        skip: usize,
        dst: &mut [u8],
    ) -> io::Result<()> {
        let pending = self.end - self.start;
        assert!(
            pending >= HDR_LEN + skip,
            "read_body_tail_into before its head arrived"
        );
        let body = &self.buf[self.start + HDR_LEN + skip..self.end];
        let have = body.len().min(dst.len());
        dst[..have].copy_from_slice(&body[..have]);
        self.consume(HDR_LEN + skip + have);
        src.read_exact(&mut dst[have..])
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{handshake, handshake_req, syscall_req};

    fn feed(d: &mut FrameDecoder, bytes: &[u8]) {
        let s = d.spare();
        s[..bytes.len()].copy_from_slice(bytes);
        d.filled(bytes.len());
    }

    #[test]
    fn splits_a_stream_fed_byte_by_byte() {
        let mut stream = handshake_req(1, handshake::GUEST, b"test");
        stream.extend(syscall_req(2, 20, &[]));
        stream.extend(syscall_req(3, 6, &[3]));
        let mut d = FrameDecoder::new(1 << 20);
        let mut frames = Vec::new();
        for b in &stream {
            feed(&mut d, &[*b]);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].body, b"test\0");
        assert_eq!(frames[1].hdr.sysnum(), 20);
        assert_eq!(frames[2].body, 3u64.to_le_bytes());
        assert!(d.pending().is_empty());
    }

    #[test]
    fn grows_for_large_frames() {
        let big = vec![7u8; 300_000];
        let mut f = Header::new(big.len(), 9, 1, 2, 0).encode().to_vec();
        f.extend(&big);
        let mut d = FrameDecoder::new(1 << 20);
        let mut off = 0;
        let mut got = None;
        while got.is_none() {
            let s = d.spare();
            let n = s.len().min(f.len() - off);
            s[..n].copy_from_slice(&f[off..off + n]);
            d.filled(n);
            off += n;
            got = d.next_frame().unwrap();
        }
        assert_eq!(got.unwrap().body.len(), 300_000);
    }

    #[test]
    fn reads_a_large_body_past_the_buffer() {
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut stream = Header::new(big.len(), 9, 1, 2, 0).encode().to_vec();
        stream.extend(&big);
        stream.extend(syscall_req(3, 6, &[3]));
        let mut d = FrameDecoder::new(1 << 20);
        feed(&mut d, &stream[..1000]);
        let hdr = d.peek_header().unwrap().unwrap();
        assert_eq!(hdr.len as usize, HDR_LEN + big.len());
        let mut dst = vec![0u8; big.len()];
        let rest = &stream[1000..stream.len() - 32];
        d.read_body_into(rest, &mut dst).unwrap();
        assert!(dst == big);
        assert!(d.pending().is_empty());
        feed(&mut d, &stream[stream.len() - 32..]);
        assert_eq!(d.next_frame().unwrap().unwrap().hdr.sysnum(), 6);
    }

    #[test]
    fn a_buffered_body_leaves_the_next_frame() {
        let mut stream = Header::new(4, 9, 1, 2, 0).encode().to_vec();
        stream.extend(b"abcd");
        stream.extend(syscall_req(3, 6, &[]));
        let mut d = FrameDecoder::new(1 << 20);
        feed(&mut d, &stream);
        let mut dst = [0u8; 4];
        d.read_body_into(&[][..], &mut dst).unwrap();
        assert_eq!(&dst, b"abcd");
        assert_eq!(d.next_frame().unwrap().unwrap().hdr.sysnum(), 6);
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut d = FrameDecoder::new(1000);
        let mut h = Header::new(0, 7, 0, 1, 20).encode();
        h[0] = 16;
        feed(&mut d, &h);
        assert_eq!(d.next_frame(), Err(DecodeError::TooShort(16)));
        let mut d = FrameDecoder::new(1000);
        feed(&mut d, &Header::new(5000, 1, 0, 1, 0).encode());
        assert_eq!(
            d.next_frame(),
            Err(DecodeError::TooLong {
                len: 5024,
                max: 1000
            })
        );
    }
}
