//! Memory accounting: what a mount keeps (its state, every loaded node
//! with its extents and link target, and the directory listings it
//! caches) is charged to the kernel's memory accountant (the `-r` limit)
//! while it is kept.
//!
//! | what | bytes |
//! |---|---|
//! | a mount | [`MOUNT_COST`] |
//! | a node | [`NODE_COST`], plus [`EXTENT_COST`] per extent and the link target |
//! | a cached listing | 128 per entry plus its names (see [`crate::dircache`]) |
//!
//! A charge the kernel refuses fails with ENOMEM. Outside a kernel (unit
//! tests) nothing is charged.

/// What a mount's own state costs.
pub const MOUNT_COST: u64 = 512;
/// What one loaded node costs, besides its extents and link target.
pub const NODE_COST: u64 = 256;
/// What one extent of a file costs.
pub const EXTENT_COST: u64 = 32;

pub use rump_plugin_api::mem::Charge;
