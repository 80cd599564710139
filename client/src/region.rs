//! The caller's memory that a syscall lets the server reach.

/// A buffer of the caller's that the server may read (`In`) or write
/// (`Out`) during one syscall. Its address on the wire is the buffer's
/// own address, so the argument slots of a syscall hold real pointers, as
/// with librumpclient.
pub enum Region<'a> {
    In(&'a [u8]),
    Out(&'a mut [u8]),
}

impl Region<'_> {
    /// The address the server sees.
    pub fn addr(&self) -> u64 {
        match self {
            Region::In(b) => b.as_ptr() as u64,
            Region::Out(b) => b.as_ptr() as u64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Region::In(b) => b.len(),
            Region::Out(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn range(&self, addr: u64, len: u64) -> Option<std::ops::Range<usize>> {
        let start = addr.checked_sub(self.addr())?;
        let end = start.checked_add(len)?;
        (end <= self.len() as u64).then_some(start as usize..end as usize)
    }

    /// The bytes the server asks to read, if they lie inside this region.
    pub(crate) fn read(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let r = self.range(addr, len)?;
        Some(match self {
            Region::In(b) => &b[r],
            Region::Out(b) => &b[r],
        })
    }

    /// Stores what the server writes, if it lies inside a writable region.
    pub(crate) fn write(&mut self, addr: u64, data: &[u8]) -> bool {
        let Some(r) = self.range(addr, data.len() as u64) else {
            return false;
        };
        match self {
            Region::Out(b) => {
                b[r].copy_from_slice(data);
                true
            }
            Region::In(_) => false,
        }
    }

    /// The writable bytes `addr..addr + len`, if they lie inside this
    /// region.
    pub(crate) fn target(&mut self, addr: u64, len: u64) -> Option<&mut [u8]> {
        let r = self.range(addr, len)?;
        match self {
            Region::Out(b) => Some(&mut b[r]),
            Region::In(_) => None,
        }
    }

    /// Whether `addr` lies in this region.
    pub(crate) fn contains(&self, addr: u64) -> bool {
        addr >= self.addr() && addr - self.addr() < self.len().max(1) as u64
    }
}

/// A NUL-terminated copy of `s`, for path and name arguments.
pub fn cstring(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    v.push(0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_stay_inside() {
        let src = *b"hello";
        let r = Region::In(&src);
        assert_eq!(r.read(r.addr() + 1, 3), Some(&b"ell"[..]));
        assert_eq!(r.read(r.addr() + 3, 3), None);
        assert_eq!(r.read(r.addr().wrapping_sub(1), 1), None);
        let mut dst = [0u8; 4];
        let mut w = Region::Out(&mut dst);
        let a = w.addr();
        assert!(w.write(a + 2, b"xy"));
        assert!(!w.write(a + 3, b"xy"));
        assert_eq!(dst, [0, 0, b'x', b'y']);
        let mut ro = Region::In(&src);
        assert!(!ro.write(src.as_ptr() as u64, b"h"));
    }
}
