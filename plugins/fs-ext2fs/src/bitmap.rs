//! Bitmaps as ext2 stores them: bit `i` is bit `i % 8` of byte `i / 8`.

/// Whether bit `i` is set.
pub fn test(b: &[u8], i: usize) -> bool {
    b[i / 8] & (1 << (i % 8)) != 0
}

/// Sets bit `i`; whether it was clear.
pub fn set(b: &mut [u8], i: usize) -> bool {
    let was = test(b, i);
    b[i / 8] |= 1 << (i % 8);
    !was
}

/// Clears bit `i`; whether it was set.
pub fn clear(b: &mut [u8], i: usize) -> bool {
    let was = test(b, i);
    b[i / 8] &= !(1 << (i % 8));
    was
}

/// The first clear bit in `from..to`, searching whole bytes where it
/// can.
pub fn find_clear(b: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut i = from;
    while i < to {
        if i % 8 == 0 && i + 8 <= to && b[i / 8] == 0xff {
            i += 8;
            continue;
        }
        if !test(b, i) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// How many bits in `0..n` are clear.
pub fn count_clear(b: &[u8], n: usize) -> usize {
    (0..n).filter(|&i| !test(b, i)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let mut b = [0xffu8, 0xff, 0b1110_1111, 0];
        assert_eq!(find_clear(&b, 0, 32), Some(20));
        assert_eq!(find_clear(&b, 21, 32), Some(24));
        assert_eq!(find_clear(&b, 0, 20), None);
        assert!(set(&mut b, 20));
        assert!(!set(&mut b, 20));
        assert_eq!(find_clear(&b, 0, 24), None);
        assert!(clear(&mut b, 3));
        assert!(!clear(&mut b, 3));
        assert_eq!(find_clear(&b, 0, 32), Some(3));
        assert_eq!(count_clear(&b, 32), 9);
    }
}
