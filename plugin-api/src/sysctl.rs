//! Sysctl leaves that components add to the kernel's tree.

use crate::ffi::SysctlValue_TO;
use abi_stable::{
    std_types::{RBox, RString, RVec},
    StableAbi,
};

/// The value of a sysctl leaf; its variant fixes the node's type.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub enum SysctlData {
    Int(i32),
    Quad(i64),
    Bool(bool),
    /// A string; `capacity` is the largest value (NUL included) it may
    /// be set to.
    String {
        value: RString,
        capacity: u64,
    },
    Struct(RVec<u8>),
}

/// The trait object behind a registered sysctl leaf.
pub type SysctlObj = SysctlValue_TO<'static, RBox<()>>;
