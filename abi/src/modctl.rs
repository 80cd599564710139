//! modctl(2): commands, `struct modctl_load` and `modstat_t`.

use crate::bytes::{Reader, Writer};

pub const MODCTL_LOAD: i32 = 0;
pub const MODCTL_UNLOAD: i32 = 1;
pub const MODCTL_STAT: i32 = 2;
pub const MODCTL_EXISTS: i32 = 3;

pub const MODCTL_LOAD_FORCE: i32 = 0x1;
pub const MODCTL_NO_PROP: i32 = 0x2;

/// Where a module came from (`ms_source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ModSource {
    /// Linked into the kernel.
    Kernel = 0,
    /// Loaded by the boot loader.
    Boot = 1,
    /// Loaded from a file system.
    Filesys = 2,
}

/// What kind of module it is (`ms_class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ModClass {
    Any = 0,
    Misc = 1,
    Vfs = 2,
    Driver = 3,
    Exec = 4,
    Secmodel = 5,
}

impl ModClass {
    /// The lower-case name modstat(8) prints.
    pub fn name(self) -> &'static str {
        match self {
            ModClass::Any => "any",
            ModClass::Misc => "misc",
            ModClass::Vfs => "vfs",
            ModClass::Driver => "driver",
            ModClass::Exec => "exec",
            ModClass::Secmodel => "secmodel",
        }
    }
}

/// `struct modctl_load` (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModctlLoad {
    pub filename: u64,
    pub flags: i32,
    pub props: u64,
    pub propslen: u64,
}

impl ModctlLoad {
    pub const SIZE: usize = 32;

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        ModctlLoad {
            filename: r.u64(0),
            flags: r.i32(8),
            props: r.u64(16),
            propslen: r.u64(24),
        }
    }

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        Writer::new(&mut b)
            .u64(0, self.filename)
            .i32(8, self.flags)
            .u64(16, self.props)
            .u64(24, self.propslen);
        b
    }
}

/// One `modstat_t` record (392 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModStat {
    pub name: String,
    /// Comma-separated names of required modules.
    pub required: String,
    pub addr: u64,
    pub source: i32,
    pub class: i32,
    pub size: u32,
    pub refcnt: u32,
    pub flags: u32,
}

impl ModStat {
    pub const SIZE: usize = 392;
    pub const NAME_LEN: usize = 32;
    pub const REQUIRED_LEN: usize = 320;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        Writer::new(&mut b)
            .cstr(0, Self::NAME_LEN, self.name.as_bytes())
            .cstr(32, Self::REQUIRED_LEN, self.required.as_bytes())
            .u64(352, self.addr)
            .i32(360, self.source)
            .i32(364, self.class)
            .u32(368, self.size)
            .u32(372, self.refcnt)
            .u32(376, self.flags);
        b
    }

    pub fn decode(b: &[u8]) -> Self {
        let r = Reader::new(b);
        ModStat {
            name: String::from_utf8_lossy(r.cstr(0, Self::NAME_LEN)).into_owned(),
            required: String::from_utf8_lossy(r.cstr(32, Self::REQUIRED_LEN)).into_owned(),
            addr: r.u64(352),
            source: r.i32(360),
            class: r.i32(364),
            size: r.u32(368),
            refcnt: r.u32(372),
            flags: r.u32(376),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modstat_layout() {
        let m = ModStat {
            name: "tmpfs".into(),
            required: "".into(),
            addr: 0,
            source: ModSource::Kernel as i32,
            class: ModClass::Vfs as i32,
            size: 0,
            refcnt: 1,
            flags: 0,
        };
        let b = m.encode();
        assert_eq!(&b[..6], b"tmpfs\0");
        assert_eq!(b[364], 2);
        assert_eq!(b[372], 1);
        assert_eq!(ModStat::decode(&b), m);
    }
}
