//! Syscall handlers: arguments, results and the handler interface.

use crate::ffi::SyscallHandler_TO;
use abi_stable::{std_types::RBox, StableAbi};

/// The argument block of a syscall: up to eight 8-byte slots, zero-filled
/// past what the client sent.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub slots: [u64; 8],
}

impl Args {
    /// Builds the block from a request body (extra bytes are ignored).
    pub fn from_body(body: &[u8]) -> Args {
        let mut slots = [0u64; 8];
        for (slot, chunk) in slots.iter_mut().zip(body.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *slot = u64::from_le_bytes(b);
        }
        Args { slots }
    }

    /// Slot `i` as an `int` (the low 4 bytes).
    pub fn int(&self, i: usize) -> i32 {
        self.slots[i] as u32 as i32
    }

    /// Slot `i` as an unsigned `int` (mode_t, uid_t, u_int).
    pub fn uint(&self, i: usize) -> u32 {
        self.slots[i] as u32
    }

    /// Slot `i` as a client pointer.
    pub fn ptr(&self, i: usize) -> u64 {
        self.slots[i]
    }

    /// Slot `i` as a `size_t`.
    pub fn size(&self, i: usize) -> usize {
        self.slots[i] as usize
    }

    /// Slot `i` as a 64-bit signed value (`off_t`, `long`).
    pub fn long(&self, i: usize) -> i64 {
        self.slots[i] as i64
    }
}

/// The two return registers of a syscall.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysRet(pub [i64; 2]);

impl SysRet {
    /// A result of 0.
    pub const ZERO: SysRet = SysRet([0, 0]);

    /// A single return value.
    pub fn val(v: i64) -> SysRet {
        SysRet([v, 0])
    }

    /// Two return values (pipe, getpid and the like).
    pub fn pair(a: i64, b: i64) -> SysRet {
        SysRet([a, b])
    }
}

/// The trait object behind a registered syscall.
pub type SyscallObj = SyscallHandler_TO<'static, RBox<()>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_from_short_and_long_bodies() {
        let a = Args::from_body(&[5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x9c]);
        assert_eq!(a.int(0), 5);
        assert_eq!(a.slots[1], 0x9c);
        let mut body = vec![0u8; 80];
        body[0] = 0x9c;
        body[1..8].fill(0xff);
        let a = Args::from_body(&body);
        assert_eq!(a.int(0), -100);
        assert_eq!(a.long(0), -100);
    }
}
