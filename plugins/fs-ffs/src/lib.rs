//! FFS for the rump kernel: NetBSD's Berkeley Fast File System, UFS1
//! and UFS2, read and write (`librumpfs_ffs.so`, NetBSD's
//! `-lrumpfs_ffs`).
//!
//! The component `ffs` registers the file system type `ffs` with the
//! VFS faction (`rumpvfs`), which mounts it from a block device with a
//! `ufs_args` block. The pieces:
//!
//! | module | job |
//! |---|---|
//! | [`le`] | panic-free little-endian field access |
//! | [`superblock`] | finding and checking the superblock; geometry |
//! | [`cg`] | a cylinder group's maps and summaries |
//! | [`alloc`] | allocating blocks, fragments and inodes; writing the summaries out |
//! | [`inode`] | on-disk inodes of both formats |
//! | [`blocks`] | a file's block tree: lookup, allocation, truncation |
//! | [`file`] | a file's bytes: read, write, size changes |
//! | [`dir`] | directory chunks and records |
//! | [`disk`] | checked device I/O |
//! | [`core`] | what every operation of a mount shares |
//! | [`mem`] | memory charged to the kernel |
//! | [`fs`] | in-core inodes and the operations on names and files |
//! | [`vnode`] | the [`rump_plugin_api::vfs::Vnode`]s the VFS sees |
//! | [`mount`] | the [`rump_plugin_api::vfs::FsType`] and its mounts |
#![deny(unsafe_code)]

pub mod alloc;
pub mod blocks;
pub mod cg;
pub mod core;
pub mod dir;
pub mod disk;
pub mod file;
pub mod fs;
pub mod inode;
pub mod le;
pub mod mem;
pub mod mount;
pub mod superblock;
pub mod vnode;

use rump_plugin_api::{export_plugin, Component};

fn components() -> Vec<Component> {
    vec![Component::file_system(
        "ffs",
        env!("CARGO_PKG_VERSION"),
        "FFS: NetBSD's Berkeley Fast File System, UFS1 and UFS2",
        || mount::FfsType,
    )]
}

export_plugin!(components);
