//! Directory records (ECMA-119 9.1): one file's or directory's entry in a
//! directory, checked before any field is read.
//!
//! A record lies within one logical block; a zero length byte means the
//! rest of the block is padding. A record is accepted when its length
//! covers the 33-byte fixed part and the name, and it ends inside the
//! block; anything else is [`Bad`].

use crate::num::{both32, u8_at};

/// The fixed part of a record, before the name.
pub const FIXED: usize = 33;

/// Flag bits (9.1.6).
pub const FLAG_HIDDEN: u8 = 0x01;
pub const FLAG_DIR: u8 = 0x02;
pub const FLAG_ASSOC: u8 = 0x04;
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// A malformed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bad;

/// One directory record, borrowed from the block it lies in.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    raw: &'a [u8],
}

/// What lies at an offset of a directory block.
#[derive(Clone, Copy, Debug)]
pub enum Slot<'a> {
    /// A record.
    Record(Record<'a>),
    /// Padding up to the end of the block.
    Padding,
}

impl<'a> Record<'a> {
    /// The record at `at` in `block`.
    pub fn at(block: &'a [u8], at: usize) -> Result<Slot<'a>, Bad> {
        let len = usize::from(u8_at(block, at).ok_or(Bad)?);
        if len == 0 {
            return Ok(Slot::Padding);
        }
        let raw = block.get(at..at + len).ok_or(Bad)?;
        Record::new(raw).map(Slot::Record)
    }

    /// A record occupying all of `raw`.
    pub fn new(raw: &'a [u8]) -> Result<Record<'a>, Bad> {
        if raw.len() < FIXED || usize::from(raw[0]) != raw.len() {
            return Err(Bad);
        }
        if FIXED + usize::from(raw[32]) > raw.len() {
            return Err(Bad);
        }
        Ok(Record { raw })
    }

    /// The record's length in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Never true: a record has its fixed part.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Blocks of extended attribute record before the data.
    pub fn xattr_len(&self) -> u8 {
        self.raw[1]
    }

    /// The first block of the extent (its extended attributes, if any).
    pub fn extent(&self) -> u32 {
        both32(self.raw, 2).unwrap_or(0)
    }

    /// The first block of the data: after the extended attributes.
    pub fn data_block(&self) -> u64 {
        u64::from(self.extent()) + u64::from(self.xattr_len())
    }

    /// The data length in bytes.
    pub fn size(&self) -> u32 {
        both32(self.raw, 10).unwrap_or(0)
    }

    /// The recording date and time (9.1.5).
    pub fn date(&self) -> [u8; 7] {
        let mut d = [0u8; 7];
        d.copy_from_slice(&self.raw[18..25]);
        d
    }

    pub fn flags(&self) -> u8 {
        self.raw[25]
    }

    pub fn is_dir(&self) -> bool {
        self.flags() & FLAG_DIR != 0
    }

    pub fn is_assoc(&self) -> bool {
        self.flags() & FLAG_ASSOC != 0
    }

    /// Not the last record of its file.
    pub fn continues(&self) -> bool {
        self.flags() & FLAG_MULTI_EXTENT != 0
    }

    /// File unit size for interleaving, in blocks (0: not interleaved).
    pub fn unit_size(&self) -> u8 {
        self.raw[26]
    }

    /// Interleave gap, in blocks.
    pub fn gap(&self) -> u8 {
        self.raw[27]
    }

    /// The file identifier as recorded.
    pub fn name(&self) -> &'a [u8] {
        &self.raw[FIXED..FIXED + usize::from(self.raw[32])]
    }

    /// 0 for the `.` record, 1 for `..`: a one-byte name of 0 or 1.
    pub fn dot(&self) -> Option<u8> {
        match self.name() {
            [b @ (0 | 1)] => Some(*b),
            _ => None,
        }
    }

    /// The system use area: after the name and its padding byte.
    pub fn system_use(&self) -> &'a [u8] {
        let n = usize::from(self.raw[32]);
        let start = FIXED + n + usize::from(n % 2 == 0);
        self.raw.get(start..).unwrap_or(&[])
    }
}

#[cfg(test)]
pub mod testing {
    //! Records for tests.

    /// A record with `name`, extent, size, flags and system use bytes.
    pub fn record(name: &[u8], extent: u32, size: u32, flags: u8, su: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; 33];
        r[2..6].copy_from_slice(&extent.to_le_bytes());
        r[6..10].copy_from_slice(&extent.to_be_bytes());
        r[10..14].copy_from_slice(&size.to_le_bytes());
        r[14..18].copy_from_slice(&size.to_be_bytes());
        r[18..25].copy_from_slice(&[126, 1, 2, 3, 4, 5, 0]);
        r[25] = flags;
        r[28] = 1;
        r[31] = 1;
        r[32] = name.len() as u8;
        r.extend_from_slice(name);
        if name.len() % 2 == 0 {
            r.push(0);
        }
        r.extend_from_slice(su);
        if r.len() % 2 == 1 {
            r.push(0);
        }
        r[0] = r.len() as u8;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::testing::record;
    use super::*;

    #[test]
    fn fields_and_system_use() {
        let r = record(b"A.TXT;1", 40, 1234, FLAG_MULTI_EXTENT, b"PX");
        let rec = Record::new(&r).unwrap();
        assert_eq!(rec.name(), b"A.TXT;1");
        assert_eq!((rec.extent(), rec.size(), rec.data_block()), (40, 1234, 40));
        assert!(rec.continues() && !rec.is_dir());
        assert_eq!(rec.system_use(), b"PX");
        let r = record(b"\0", 20, 2048, FLAG_DIR, b"SP");
        let rec = Record::new(&r).unwrap();
        assert_eq!(rec.dot(), Some(0));
        assert_eq!(&rec.system_use()[..2], b"SP");
    }

    #[test]
    fn malformed_records_are_refused() {
        let r = record(b"NAME", 1, 1, 0, b"");
        let mut block = r.clone();
        block.resize(64, 0);
        assert!(matches!(Record::at(&block, 0), Ok(Slot::Record(_))));
        assert!(matches!(Record::at(&block, r.len()), Ok(Slot::Padding)));
        assert!(Record::at(&block, 64).is_err(), "past the block");
        let mut short = r.clone();
        short[0] = 20;
        assert!(
            Record::at(&short, 0).is_err(),
            "shorter than the fixed part"
        );
        let mut long_name = r.clone();
        long_name[32] = 200;
        assert!(Record::at(&long_name, 0).is_err(), "name past the record");
        let mut over = r.clone();
        over[0] = 255;
        assert!(Record::at(&over, 0).is_err(), "record past the block");
    }
}
