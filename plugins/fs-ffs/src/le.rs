//! Little-endian field access on on-disk buffers that never panics: a
//! read past the end gives 0 and a write past the end is dropped, so a
//! short or hostile buffer can only produce wrong numbers, which the
//! callers check.

pub fn u8_at(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

pub fn u16_at(b: &[u8], off: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(off..off.saturating_add(2)) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

pub fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(off..off.saturating_add(4)) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

pub fn i32_at(b: &[u8], off: usize) -> i32 {
    u32_at(b, off) as i32
}

pub fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(off..off.saturating_add(8)) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

pub fn i64_at(b: &[u8], off: usize) -> i64 {
    u64_at(b, off) as i64
}

pub fn put_bytes(b: &mut [u8], off: usize, v: &[u8]) {
    if let Some(s) = b.get_mut(off..off.saturating_add(v.len())) {
        s.copy_from_slice(v);
    }
}

pub fn put_u8(b: &mut [u8], off: usize, v: u8) {
    if let Some(x) = b.get_mut(off) {
        *x = v;
    }
}

pub fn put_u16(b: &mut [u8], off: usize, v: u16) {
    put_bytes(b, off, &v.to_le_bytes());
}

pub fn put_u32(b: &mut [u8], off: usize, v: u32) {
    put_bytes(b, off, &v.to_le_bytes());
}

pub fn put_i32(b: &mut [u8], off: usize, v: i32) {
    put_bytes(b, off, &v.to_le_bytes());
}

pub fn put_u64(b: &mut [u8], off: usize, v: u64) {
    put_bytes(b, off, &v.to_le_bytes());
}

pub fn put_i64(b: &mut [u8], off: usize, v: i64) {
    put_bytes(b, off, &v.to_le_bytes());
}

/// Bit `i` of a little-endian bitmap (false past the end).
pub fn bit(map: &[u8], i: u64) -> bool {
    usize::try_from(i / 8)
        .ok()
        .and_then(|k| map.get(k))
        .is_some_and(|&x| x & (1 << (i % 8)) != 0)
}

/// Sets or clears bit `i` (ignored past the end).
pub fn set_bit(map: &mut [u8], i: u64, on: bool) {
    if let Some(x) = usize::try_from(i / 8).ok().and_then(|k| map.get_mut(k)) {
        if on {
            *x |= 1 << (i % 8);
        } else {
            *x &= !(1 << (i % 8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_buffers_read_zero_and_ignore_writes() {
        let mut b = [1u8, 2, 3];
        assert_eq!(u32_at(&b, 0), 0);
        assert_eq!(u16_at(&b, 1), 0x0302);
        put_u32(&mut b, 1, 7);
        assert_eq!(b, [1, 2, 3]);
        assert_eq!(u64_at(&b, usize::MAX), 0);
        assert!(bit(&b, 0));
        assert!(!bit(&b, 1000));
        set_bit(&mut b, 1, true);
        assert_eq!(b[0], 3);
    }
}
