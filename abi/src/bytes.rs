//! Little-endian field access for fixed structure layouts.
//!
//! NetBSD structures are written into and read from byte buffers at the
//! offsets the ABI gives; these helpers keep that code short and
//! bounds-checked.

/// Writes little-endian fields into a byte buffer at fixed offsets.
pub struct Writer<'a> {
    buf: &'a mut [u8],
}

impl<'a> Writer<'a> {
    /// Wraps `buf`; every `put_*` call writes at an absolute offset.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf }
    }

    /// Writes `v` at `off`.
    pub fn u8(&mut self, off: usize, v: u8) -> &mut Self {
        self.buf[off] = v;
        self
    }

    /// Writes `v` at `off`.
    pub fn u16(&mut self, off: usize, v: u16) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// Writes `v` at `off`.
    pub fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// Writes `v` at `off`.
    pub fn i32(&mut self, off: usize, v: i32) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// Writes `v` at `off`.
    pub fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// Writes `v` at `off`.
    pub fn i64(&mut self, off: usize, v: i64) -> &mut Self {
        self.bytes(off, &v.to_le_bytes())
    }

    /// Copies `b` to `off`.
    pub fn bytes(&mut self, off: usize, b: &[u8]) -> &mut Self {
        self.buf[off..off + b.len()].copy_from_slice(b);
        self
    }

    /// Writes `s` as a NUL-terminated string into a field of `cap` bytes,
    /// truncating so that the NUL always fits; the rest of the field is
    /// zeroed.
    pub fn cstr(&mut self, off: usize, cap: usize, s: &[u8]) -> &mut Self {
        let n = s.len().min(cap.saturating_sub(1));
        self.buf[off..off + n].copy_from_slice(&s[..n]);
        self.buf[off + n..off + cap].fill(0);
        self
    }
}

/// Reads little-endian fields from a byte buffer at fixed offsets.
///
/// Reads past the end of the buffer yield zero, which is what a client
/// stub that zero-fills its argument block would have sent.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Wraps `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn array<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut a = [0u8; N];
        if let Some(src) = self.buf.get(off..) {
            let n = src.len().min(N);
            a[..n].copy_from_slice(&src[..n]);
        }
        a
    }

    /// Reads the byte at `off`.
    pub fn u8(&self, off: usize) -> u8 {
        self.array::<1>(off)[0]
    }

    /// Reads the field at `off`.
    pub fn u16(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.array(off))
    }

    /// Reads the field at `off`.
    pub fn u32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.array(off))
    }

    /// Reads the field at `off`.
    pub fn i32(&self, off: usize) -> i32 {
        i32::from_le_bytes(self.array(off))
    }

    /// Reads the field at `off`.
    pub fn u64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.array(off))
    }

    /// Reads the field at `off`.
    pub fn i64(&self, off: usize) -> i64 {
        i64::from_le_bytes(self.array(off))
    }

    /// Reads a NUL-terminated string from a field of `cap` bytes (without
    /// the NUL; the whole field if it holds no NUL).
    pub fn cstr(&self, off: usize, cap: usize) -> &'a [u8] {
        let end = (off + cap).min(self.buf.len());
        let field = self.buf.get(off..end).unwrap_or(&[]);
        let n = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        &field[..n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_fields() {
        let mut b = [0xffu8; 32];
        Writer::new(&mut b)
            .u32(0, 0x1234_5678)
            .i64(8, -2)
            .cstr(16, 8, b"toolongname");
        let r = Reader::new(&b);
        assert_eq!(r.u32(0), 0x1234_5678);
        assert_eq!(r.i64(8), -2);
        assert_eq!(r.cstr(16, 8), b"toolong");
        assert_eq!(b[23], 0);
        assert_eq!(r.u64(30), 0xffff, "reads past the end are zero");
    }
}
