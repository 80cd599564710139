//! ext2fs for the rump kernel: the second extended file system,
//! revisions 0 and 1, read and write (`librumpfs_ext2fs.so`, NetBSD's
//! `-lrumpfs_ext2fs`).
//!
//! The component `ext2fs` registers the file system type `ext2fs` with
//! the VFS faction (`rumpvfs`), which mounts it with a `ufs_args` block
//! naming a block device. Images are untrusted: every on-disk number is
//! checked before use, and damage shows as EIO (or EINVAL at mount),
//! never as a crash. The pieces:
//!
//! | module | job |
//! |---|---|
//! | [`le`] | little-endian fields |
//! | [`features`] | feature flags: which can be written, read or not mounted |
//! | [`superblock`] | the superblock's checks and the geometry it implies |
//! | [`group`] | block group descriptors |
//! | [`dinode`] | the on-disk inode's fields and times |
//! | [`dirent`] | directory block records |
//! | [`disk`] | the device |
//! | [`mem`] | charging memory to the kernel |
//! | [`cache`] | the metadata block cache |
//! | [`bitmap`] | bitmap bits |
//! | [`alloc`] | allocating and freeing blocks and inodes, exact counts |
//! | [`bmap`] | the block map: lookup, allocation, truncation |
//! | [`xattr`] | dropping references to attribute blocks |
//! | [`inode`] | in-core inodes |
//! | [`fs`] | a mount: locking, orphans, sync, state flag, unmount |
//! | [`syncer`] | writing changes back every 30 seconds |
//! | [`file`] | regular file data |
//! | [`dir`] | directory contents |
//! | [`attr`] | stat and setattr |
//! | [`namespace`] | create, mkdir, symlink, link, remove, rmdir |
//! | [`rename`] | rename |
//! | [`vnode`] | the [`rump_plugin_api::vfs::Vnode`]s the VFS sees |
//! | [`mount`] | the [`rump_plugin_api::vfs::FsType`] and its mounts |
#![deny(unsafe_code)]

pub mod alloc;
pub mod attr;
pub mod bitmap;
pub mod bmap;
pub mod cache;
pub mod dinode;
pub mod dir;
pub mod dirent;
pub mod disk;
pub mod features;
pub mod file;
pub mod fs;
pub mod group;
#[cfg(test)]
mod image_tests;
pub mod inode;
pub mod le;
pub mod mem;
pub mod mount;
pub mod namespace;
pub mod rename;
pub mod superblock;
pub mod syncer;
pub mod vnode;
pub mod xattr;

use rump_plugin_api::{export_plugin, Component};

fn components() -> Vec<Component> {
    vec![Component::file_system(
        "ext2fs",
        env!("CARGO_PKG_VERSION"),
        "ext2fs: the second extended file system",
        mount::Ext2fsType::new,
    )]
}

export_plugin!(components);
