//! Charging what a mount keeps in memory (its FAT, its nodes, its table
//! of renamed entries) to the kernel's memory accountant, the `-r` limit.

/// What one in-memory node costs.
pub const NODE_COST: u64 = 320;
/// What one remembered file number of a renamed entry costs.
pub const ID_COST: u64 = 64;

pub use rump_plugin_api::mem::Charge;
