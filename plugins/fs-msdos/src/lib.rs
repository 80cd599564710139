//! msdosfs for the rump kernel: FAT12, FAT16 and FAT32 volumes with
//! Win95 long names, read and written with NetBSD msdosfs's behaviour
//! (`librumpfs_msdos.so`, NetBSD's `-lrumpfs_msdos`).
//!
//! The component `msdos` registers the file system type `msdos`
//! (MOUNT_MSDOS) with the VFS faction (`rumpvfs`), which mounts it with a
//! `msdosfs_args` block naming a block device. The pieces:
//!
//! | module | job |
//! |---|---|
//! | [`args`] | the `msdosfs_args` block and MNT_GETARGS |
//! | [`bpb`] | the boot sector: geometry and FAT type |
//! | [`cursor`] | where a file's cluster chain was last walked |
//! | [`disk`] | byte-addressed I/O on the sector-addressed device |
//! | [`fat`] | the FAT in memory: chains, allocation, every copy, FSInfo |
//! | [`time`] | DOS dates and times |
//! | [`names`] | short names, `~N` tails, long names, checksums, case |
//! | [`dirent`] | the 32-byte short and long-name slots |
//! | [`dir`] | directories: listing, finding, adding and freeing slots |
//! | [`node`] | the in-memory node of each file in use, file numbers |
//! | [`fs`] | a mount: its lock, its node table, the tree operations |
//! | [`file`] | file data: read, write, truncate, no holes |
//! | [`rename`] | moving entries |
//! | [`vnode`] | the [`rump_plugin_api::vfs::Vnode`]s the VFS sees |
//! | [`mount`] | the [`rump_plugin_api::vfs::FsType`] and its mounts |
//! | [`mem`] | charging memory to the kernel |
#![deny(unsafe_code)]

pub mod args;
pub mod bpb;
pub mod cursor;
pub mod dir;
pub mod dirent;
pub mod disk;
pub mod fat;
pub mod file;
pub mod fs;
pub mod mem;
pub mod mount;
pub mod names;
pub mod node;
pub mod rename;
pub mod time;
pub mod vnode;

use rump_plugin_api::{export_plugin, Component};

fn components() -> Vec<Component> {
    vec![Component::file_system(
        "msdos",
        env!("CARGO_PKG_VERSION"),
        "msdosfs: FAT12, FAT16 and FAT32 with long names",
        || mount::MsdosType,
    )]
}

export_plugin!(components);
