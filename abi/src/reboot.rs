//! reboot(2) flags.

pub const RB_AUTOBOOT: i32 = 0;
pub const RB_ASKNAME: i32 = 0x1;
pub const RB_SINGLE: i32 = 0x2;
pub const RB_NOSYNC: i32 = 0x4;
pub const RB_HALT: i32 = 0x8;
pub const RB_INITNAME: i32 = 0x10;
pub const RB_KDB: i32 = 0x40;
pub const RB_RDONLY: i32 = 0x80;
pub const RB_DUMP: i32 = 0x100;
pub const RB_MINIROOT: i32 = 0x200;
pub const RB_STRING: i32 = 0x400;
pub const RB_POWERDOWN: i32 = RB_HALT | 0x800;
pub const RB_USERCONF: i32 = 0x1000;
