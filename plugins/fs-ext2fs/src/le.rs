//! Little-endian fields at byte offsets of on-disk structures (ext2 is
//! little-endian on every host). Offsets are the callers' constants and
//! always lie inside the buffers they pass.

/// The u8 at `at`.
pub fn u8_at(b: &[u8], at: usize) -> u8 {
    b[at]
}

/// The u16 at `at`.
pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// The u32 at `at`.
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Stores a u8 at `at`.
pub fn set_u8(b: &mut [u8], at: usize, v: u8) {
    b[at] = v;
}

/// Stores a u16 at `at`.
pub fn set_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// Stores a u32 at `at`.
pub fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut b = [0u8; 8];
        set_u32(&mut b, 0, 0xdead_beef);
        set_u16(&mut b, 4, 0x1234);
        set_u8(&mut b, 6, 9);
        assert_eq!(b[..4], [0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(u32_at(&b, 0), 0xdead_beef);
        assert_eq!(u16_at(&b, 4), 0x1234);
        assert_eq!(u8_at(&b, 6), 9);
    }
}
