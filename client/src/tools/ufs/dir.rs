//! Directory entries (`struct direct`): an 8-byte header (inode, record
//! length, type, name length; the old 4.2BSD format has a 16-bit name
//! length and no type) followed by the NUL-terminated name, padded to 4
//! bytes. Records never cross a DIRBLKSIZ (512-byte) chunk.

/// Bytes an entry with an `namlen`-byte name needs (UFS_DIRSIZ).
pub fn dirsiz(namlen: usize) -> usize {
    8 + ((namlen + 1 + 3) & !3)
}

/// A directory entry's header and name, as found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub ino: u32,
    pub reclen: u16,
    pub dtype: u8,
    pub namlen: u8,
    /// The `namlen` bytes of the name (fewer if the record ends first).
    pub name: Vec<u8>,
    /// Whether a NUL follows the name inside the record.
    pub terminated: bool,
}

impl Entry {
    /// Reads the entry at the start of `buf` (which ends where the
    /// record's chunk ends); `new_format` selects the 4.4BSD header.
    /// None if not even the 8-byte header fits.
    pub fn decode(buf: &[u8], new_format: bool) -> Option<Entry> {
        let h = buf.get(..8)?;
        let ino = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let reclen = u16::from_le_bytes([h[4], h[5]]);
        let (dtype, namlen) = if new_format {
            (h[6], h[7])
        } else {
            // Little-endian 16-bit length: its low byte comes first.
            (h[7], h[6])
        };
        let avail = &buf[8..];
        let n = usize::from(namlen).min(avail.len());
        Some(Entry {
            ino,
            reclen,
            dtype,
            namlen,
            name: avail[..n].to_vec(),
            terminated: avail.get(usize::from(namlen)) == Some(&0),
        })
    }

    /// Writes an entry (4.4BSD format) at the start of `buf`.
    pub fn encode(&self, buf: &mut [u8]) {
        buf[..4].copy_from_slice(&self.ino.to_le_bytes());
        buf[4..6].copy_from_slice(&self.reclen.to_le_bytes());
        buf[6] = self.dtype;
        buf[7] = self.namlen;
        let n = self.name.len();
        buf[8..8 + n].copy_from_slice(&self.name);
        let end = dirsiz(n).min(buf.len());
        buf[8 + n..end].fill(0);
    }

    /// Bytes this entry's name needs.
    pub fn size(&self) -> usize {
        dirsiz(usize::from(self.namlen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(
            (dirsiz(1), dirsiz(2), dirsiz(3), dirsiz(4)),
            (12, 12, 12, 16)
        );
        let e = Entry {
            ino: 2,
            reclen: 12,
            dtype: 4,
            namlen: 1,
            name: b".".to_vec(),
            terminated: true,
        };
        let mut b = [0xaau8; 16];
        e.encode(&mut b);
        assert_eq!(&b[..12], &[2, 0, 0, 0, 12, 0, 4, 1, b'.', 0, 0, 0]);
        assert_eq!(Entry::decode(&b, true), Some(e));
        let old = Entry::decode(&[3, 0, 0, 0, 12, 0, 2, 0, b'a', b'b', 0, 0], false).unwrap();
        assert_eq!(
            (old.dtype, old.namlen, old.name.as_slice()),
            (0, 2, &b"ab"[..])
        );
        let cut = Entry::decode(&[3, 0, 0, 0, 12, 0, 8, 200, b'a'], true).unwrap();
        assert_eq!((cut.name.len(), cut.terminated), (1, false));
        assert_eq!(Entry::decode(&[1, 2, 3], true), None);
    }
}
