//! Little-endian fields at fixed offsets of on-disk structures, and the
//! `layout!` macro that declares a structure as a list of such fields so
//! its decoder and encoder cannot disagree.
//!
//! Decoding reads a missing byte as zero, so a short buffer never panics;
//! the callers check lengths where a short structure matters.

/// A field type stored little-endian on disk.
pub trait Field: Copy + Default {
    const SIZE: usize;
    fn get(buf: &[u8], off: usize) -> Self;
    fn put(self, buf: &mut [u8], off: usize);
}

/// `SIZE` bytes at `off`, zero where `buf` ends early.
fn take<const N: usize>(buf: &[u8], off: usize) -> [u8; N] {
    let mut b = [0u8; N];
    if let Some(src) = buf.get(off..) {
        let n = src.len().min(N);
        b[..n].copy_from_slice(&src[..n]);
    }
    b
}

/// Stores `b` at `off`, dropping what falls outside `buf`.
fn give(buf: &mut [u8], off: usize, b: &[u8]) {
    if let Some(dst) = buf.get_mut(off..) {
        let n = dst.len().min(b.len());
        dst[..n].copy_from_slice(&b[..n]);
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn get(buf: &[u8], off: usize) -> Self {
                <$t>::from_le_bytes(take::<{ std::mem::size_of::<$t>() }>(buf, off))
            }
            fn put(self, buf: &mut [u8], off: usize) {
                give(buf, off, &self.to_le_bytes());
            }
        }
    )*};
}

int_field!(u8, i8, u16, i16, u32, i32, u64, i64);

impl<T: Field, const N: usize> Field for [T; N]
where
    [T; N]: Default,
{
    const SIZE: usize = T::SIZE * N;
    fn get(buf: &[u8], off: usize) -> Self {
        let mut a = <[T; N]>::default();
        for (i, v) in a.iter_mut().enumerate() {
            *v = T::get(buf, off + i * T::SIZE);
        }
        a
    }
    fn put(self, buf: &mut [u8], off: usize) {
        for (i, v) in self.iter().enumerate() {
            v.put(buf, off + i * T::SIZE);
        }
    }
}

/// A byte string field (names, padding) of fixed length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bytes<const N: usize>(pub [u8; N]);

impl<const N: usize> Default for Bytes<N> {
    fn default() -> Self {
        Bytes([0; N])
    }
}

impl<const N: usize> std::fmt::Debug for Bytes<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.text()))
    }
}

impl<const N: usize> Bytes<N> {
    /// The bytes up to the first NUL.
    pub fn text(&self) -> &[u8] {
        let end = self.0.iter().position(|&c| c == 0).unwrap_or(N);
        &self.0[..end]
    }
}

impl<const N: usize> Field for Bytes<N> {
    const SIZE: usize = N;
    fn get(buf: &[u8], off: usize) -> Self {
        Bytes(take::<N>(buf, off))
    }
    fn put(self, buf: &mut [u8], off: usize) {
        give(buf, off, &self.0);
    }
}

/// Declares an on-disk structure: a struct of public fields, each at a
/// byte offset, with `decode(&[u8])`, `encode(&self, &mut [u8])` and the
/// structure's size.
macro_rules! layout {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($size:expr) {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $off:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// Bytes the structure takes on disk.
            pub const SIZE: usize = $size;

            /// Reads the structure from the start of `buf`.
            pub fn decode(buf: &[u8]) -> Self {
                use $crate::tools::ufs::bytes::Field;
                $name { $( $field: <$ty as Field>::get(buf, $off), )* }
            }

            /// Writes the structure at the start of `buf`.
            pub fn encode(&self, buf: &mut [u8]) {
                use $crate::tools::ufs::bytes::Field;
                $( <$ty as Field>::put(self.$field, buf, $off); )*
            }

            /// The structure alone, as bytes.
            pub fn to_bytes(self) -> Vec<u8> {
                let mut b = vec![0u8; Self::SIZE];
                self.encode(&mut b);
                b
            }
        }
    };
}

pub(crate) use layout;

/// Whether bit `i` of a little-endian bitmap is set (false past its end).
pub fn isset(map: &[u8], i: u64) -> bool {
    usize::try_from(i / 8)
        .ok()
        .and_then(|b| map.get(b))
        .is_some_and(|&byte| byte & (1 << (i % 8)) != 0)
}

/// Sets bit `i` of a bitmap (ignored past its end).
pub fn setbit(map: &mut [u8], i: u64) {
    if let Some(byte) = usize::try_from(i / 8).ok().and_then(|b| map.get_mut(b)) {
        *byte |= 1 << (i % 8);
    }
}

/// Clears bit `i` of a bitmap (ignored past its end).
pub fn clrbit(map: &mut [u8], i: u64) {
    if let Some(byte) = usize::try_from(i / 8).ok().and_then(|b| map.get_mut(b)) {
        *byte &= !(1 << (i % 8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    layout! {
        /// A test structure.
        pub struct Sample(16) {
            a: u16 = 0,
            b: i32 = 4,
            c: [u16; 2] = 8,
            d: Bytes<4> = 12,
        }
    }

    #[test]
    fn round_trip_and_short_buffers() {
        let s = Sample {
            a: 0x1234,
            b: -2,
            c: [7, 8],
            d: Bytes(*b"ab\0\0"),
        };
        let b = s.to_bytes();
        assert_eq!(&b[..2], &[0x34, 0x12]);
        assert_eq!(&b[4..8], &[0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(Sample::decode(&b), s);
        assert_eq!(s.d.text(), b"ab");
        let short = Sample::decode(&b[..5]);
        assert_eq!((short.a, short.b, short.c), (0x1234, 0xfe, [0, 0]));
        let mut small = [0u8; 3];
        s.encode(&mut small);
        assert_eq!(small, [0x34, 0x12, 0]);
    }

    #[test]
    fn bitmaps() {
        let mut m = [0u8; 2];
        setbit(&mut m, 9);
        setbit(&mut m, 99);
        assert_eq!(m, [0, 2]);
        assert!(isset(&m, 9) && !isset(&m, 8) && !isset(&m, 1000));
        clrbit(&mut m, 9);
        assert_eq!(m, [0, 0]);
    }
}
