//! sysctl: MIB numbers, meta operations, node types and flags, and the
//! layouts of `struct sysctlnode` and `struct sysctldesc`.

use crate::bytes::{Reader, Writer};

pub const CTL_KERN: i32 = 1;
pub const CTL_VM: i32 = 2;
pub const CTL_VFS: i32 = 3;
pub const CTL_NET: i32 = 4;
pub const CTL_DEBUG: i32 = 5;
pub const CTL_HW: i32 = 6;
pub const CTL_MACHDEP: i32 = 7;
pub const CTL_USER: i32 = 8;
pub const CTL_DDB: i32 = 9;
pub const CTL_PROC: i32 = 10;
pub const CTL_VENDOR: i32 = 11;
pub const CTL_EMUL: i32 = 12;
pub const CTL_SECURITY: i32 = 13;

pub const KERN_OSTYPE: i32 = 1;
pub const KERN_OSRELEASE: i32 = 2;
pub const KERN_OSREV: i32 = 3;
pub const KERN_VERSION: i32 = 4;
pub const KERN_HOSTNAME: i32 = 10;
pub const KERN_DOMAINNAME: i32 = 22;

pub const HW_MACHINE: i32 = 1;
pub const HW_MODEL: i32 = 2;
pub const HW_NCPU: i32 = 3;
pub const HW_BYTEORDER: i32 = 4;
pub const HW_PHYSMEM: i32 = 5;
pub const HW_PAGESIZE: i32 = 7;
pub const HW_MACHINE_ARCH: i32 = 10;
pub const HW_PHYSMEM64: i32 = 13;
pub const HW_NCPUONLINE: i32 = 16;

pub const CTL_EOL: i32 = -1;
pub const CTL_QUERY: i32 = -2;
pub const CTL_CREATE: i32 = -3;
pub const CTL_CREATESYM: i32 = -4;
pub const CTL_DESTROY: i32 = -5;
pub const CTL_MMAP: i32 = -6;
pub const CTL_DESCRIBE: i32 = -7;

pub const CTLTYPE_NODE: u32 = 1;
pub const CTLTYPE_INT: u32 = 2;
pub const CTLTYPE_STRING: u32 = 3;
pub const CTLTYPE_QUAD: u32 = 4;
pub const CTLTYPE_STRUCT: u32 = 5;
pub const CTLTYPE_BOOL: u32 = 6;
pub const CTLTYPE_MASK: u32 = 0xf;

pub const CTLFLAG_READONLY: u32 = 0x0;
pub const CTLFLAG_READWRITE: u32 = 0x70;
pub const CTLFLAG_ANYWRITE: u32 = 0x80;
pub const CTLFLAG_PRIVATE: u32 = 0x100;
pub const CTLFLAG_PERMANENT: u32 = 0x200;
pub const CTLFLAG_OWNDATA: u32 = 0x400;
pub const CTLFLAG_IMMEDIATE: u32 = 0x800;

/// The version stamped in the top byte of `sysctl_flags`.
pub const SYSCTL_VERSION: u32 = 0x0100_0000;
pub const SYSCTL_VERS_MASK: u32 = 0xff00_0000;
/// Longest node name, NUL included.
pub const SYSCTL_NAMELEN: usize = 32;

/// The type bits of a node's flags.
pub const fn node_type(flags: u32) -> u32 {
    flags & CTLTYPE_MASK
}

/// `struct sysctlnode` (96 bytes on amd64), as CTL_QUERY returns it.
///
/// Kernel pointers (child, parent, data, function, description) are not
/// part of the ABI a client can use; they are written as zero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysctlNode {
    pub flags: u32,
    pub num: i32,
    pub name: String,
    pub ver: u32,
    /// For nodes: allocated child slots. Otherwise the union's first word.
    pub csize: u32,
    /// For nodes: number of children.
    pub clen: u32,
    /// For immediate integer data: the value (the union read as a quad).
    pub qdata: u64,
    pub size: u64,
}

impl SysctlNode {
    pub const SIZE: usize = 96;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        let mut w = Writer::new(&mut b);
        w.u32(0, self.flags)
            .i32(4, self.num)
            .cstr(8, SYSCTL_NAMELEN, self.name.as_bytes())
            .u32(40, self.ver)
            .u64(64, self.size);
        if node_type(self.flags) == CTLTYPE_NODE {
            w.u32(48, self.csize).u32(52, self.clen);
        } else {
            w.u64(48, self.qdata);
        }
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        SysctlNode {
            flags: r.u32(0),
            num: r.i32(4),
            name: String::from_utf8_lossy(r.cstr(8, SYSCTL_NAMELEN)).into_owned(),
            ver: r.u32(40),
            csize: r.u32(48),
            clen: r.u32(52),
            qdata: r.u64(48),
            size: r.u64(64),
        }
    }
}

/// One `struct sysctldesc` record as CTL_DESCRIBE returns it: `descr_num`,
/// `descr_ver`, `descr_len` (with the NUL), then the string padded to a
/// multiple of 4.
pub fn encode_desc(num: i32, ver: u32, text: &str) -> Vec<u8> {
    let len = text.len() + 1;
    let padded = len.div_ceil(4) * 4;
    let mut b = vec![0u8; 12 + padded];
    Writer::new(&mut b)
        .i32(0, num)
        .u32(4, ver)
        .u32(8, len as u32)
        .bytes(12, text.as_bytes());
    b
}

/// Decodes the records of a CTL_DESCRIBE answer into (num, text) pairs.
pub fn decode_descs(mut b: &[u8]) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    while b.len() >= 12 {
        let r = Reader::new(b);
        let len = r.u32(8) as usize;
        let padded = len.div_ceil(4) * 4;
        let text = r.cstr(12, len);
        out.push((r.i32(0), String::from_utf8_lossy(text).into_owned()));
        b = b.get(12 + padded..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_layout_matches_capture() {
        // The "kern" node from captures/sysctl.frames.txt, pointers zeroed.
        let n = SysctlNode {
            flags: SYSCTL_VERSION | CTLFLAG_PERMANENT | CTLTYPE_NODE,
            num: 1,
            name: "kern".into(),
            ver: 0x86,
            csize: 32,
            clen: 27,
            size: 96,
            ..Default::default()
        };
        let b = n.encode();
        assert_eq!(&b[..8], &[0x01, 0x02, 0x00, 0x01, 0x01, 0, 0, 0]);
        assert_eq!(&b[8..13], b"kern\0");
        assert_eq!(b[40], 0x86);
        assert_eq!(b[48], 32);
        assert_eq!(b[52], 27);
        assert_eq!(b[64], 96);
        assert_eq!(SysctlNode::decode(&b).clen, 27);
    }

    #[test]
    fn descriptions_round_trip() {
        let mut b = encode_desc(1, 7, "Operating system type");
        b.extend(encode_desc(2, 7, "abc"));
        assert_eq!(b.len(), 12 + 24 + 12 + 4);
        assert_eq!(
            decode_descs(&b),
            vec![(1, "Operating system type".into()), (2, "abc".into())]
        );
    }
}
