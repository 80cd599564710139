//! `struct dirent` as getdents(2) returns it.

use crate::bytes::Writer;

pub const DT_UNKNOWN: u8 = 0;
pub const DT_FIFO: u8 = 1;
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_BLK: u8 = 6;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;
pub const DT_SOCK: u8 = 12;
pub const DT_WHT: u8 = 14;

/// The d_type for a file mode (`S_IFMT` bits >> 12).
pub const fn dtype_of_mode(mode: u32) -> u8 {
    ((mode >> 12) & 0xf) as u8
}

/// Largest record (a 511-byte name).
pub const MAX_RECLEN: usize = 528;

/// The length of a record for a name of `namlen` bytes: header (13
/// bytes), name, NUL, rounded up to a multiple of 8.
pub const fn reclen(namlen: usize) -> usize {
    (13 + namlen + 1 + 7) & !7
}

/// Appends one record to `out` (padding zeroed).
pub fn push(out: &mut Vec<u8>, fileno: u64, dtype: u8, name: &[u8]) {
    let len = reclen(name.len());
    let start = out.len();
    out.resize(start + len, 0);
    Writer::new(&mut out[start..])
        .u64(0, fileno)
        .u16(8, len as u16)
        .u16(10, name.len() as u16)
        .u8(12, dtype)
        .bytes(13, name);
}

/// One decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    pub fileno: u64,
    pub dtype: u8,
    pub name: Vec<u8>,
}

/// Decodes the records of a getdents buffer.
pub fn decode(mut b: &[u8]) -> Vec<Dirent> {
    let mut out = Vec::new();
    while b.len() >= 13 {
        let r = crate::bytes::Reader::new(b);
        let reclen = r.u16(8) as usize;
        let namlen = r.u16(10) as usize;
        if reclen < 13 || reclen > b.len() || 13 + namlen > reclen {
            break;
        }
        out.push(Dirent {
            fileno: r.u64(0),
            dtype: r.u8(12),
            name: b[13..13 + namlen].to_vec(),
        });
        b = &b[reclen..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lengths_and_round_trip() {
        assert_eq!(reclen(1), 16);
        assert_eq!(reclen(2), 16);
        assert_eq!(reclen(3), 24);
        assert_eq!(reclen(10), 24);
        assert_eq!(reclen(511), MAX_RECLEN);
        let mut b = Vec::new();
        push(&mut b, 4, DT_DIR, b"dev");
        push(&mut b, 7, DT_REG, b"a-longer-name");
        assert_eq!(b.len(), 24 + 32);
        assert_eq!(&b[13..17], b"dev\0");
        let d = decode(&b);
        assert_eq!(
            d[1],
            Dirent {
                fileno: 7,
                dtype: DT_REG,
                name: b"a-longer-name".to_vec()
            }
        );
        assert_eq!(dtype_of_mode(0o040755), DT_DIR);
    }
}
