//! The number formats of ISO 9660 (ECMA-119 section 7), read from
//! untrusted bytes: every reader returns `None` past the end.
//!
//! The "both-byte-order" formats (7.2.3, 7.3.3) store a value twice; the
//! little-endian copy is used, as NetBSD does on little-endian machines.

/// 7.1.1: an unsigned byte.
pub fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// 7.2.3: a 16-bit number recorded in both byte orders (4 bytes).
pub fn both16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// 7.3.3: a 32-bit number recorded in both byte orders (8 bytes).
pub fn both32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// `len` bytes at `at`.
pub fn bytes(b: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(len)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_byte_orders_and_bounds() {
        let b = [0x78, 0x56, 0x34, 0x12, 0x12, 0x34, 0x56, 0x78];
        assert_eq!(both16(&b, 0), Some(0x5678));
        assert_eq!(both32(&b, 0), Some(0x1234_5678));
        assert_eq!(both32(&b, 1), None);
        assert_eq!(both16(&b, 5), None);
        assert_eq!(both16(&b, usize::MAX), None);
        assert_eq!(u8_at(&b, 8), None);
        assert_eq!(bytes(&b, 6, 2), Some(&b[6..]));
        assert_eq!(bytes(&b, 7, 2), None);
    }
}
