//! tmpfs for the rump kernel: a file system kept in memory, with NetBSD
//! tmpfs's behaviour (`librumpfs_tmpfs.so`, NetBSD's
//! `-lrumpfs_tmpfs`).
//!
//! The component `tmpfs` registers the file system type `tmpfs` with the
//! VFS faction (`rumpvfs`), which mounts it with a `tmpfs_args` block and
//! walks its vnodes. The pieces:
//!
//! | module | job |
//! |---|---|
//! | [`args`] | the `tmpfs_args` block: checks, defaults, MNT_GETARGS |
//! | [`mem`] | charging every byte kept to the kernel and to the mount's limits |
//! | [`data`] | a regular file's bytes: sparse 4 KiB pages |
//! | [`extent`] | a run of a file's pages: heap buffer or huge mapping |
//! | [`supply`] | huge extents faulted in ahead of a big file's writer |
//! | [`dir`] | a directory's entries and its readdir cookies |
//! | [`node`] | a node's attributes, and the operations on one node |
//! | [`fs`] | a mount's tree: lookup, create, link, remove, rmdir, readdir |
//! | [`rename`] | moving entries, with every check before any change |
//! | [`vnode`] | the [`rump_plugin_api::vfs::Vnode`]s the VFS sees |
//! | [`mount`] | the [`rump_plugin_api::vfs::FsType`] and its mounts |
#![deny(unsafe_code)]

pub mod args;
pub mod data;
pub mod dir;
pub mod extent;
pub mod fs;
pub mod mem;
pub mod mount;
pub mod node;
pub mod rename;
pub mod supply;
pub mod vnode;

use rump_plugin_api::{export_plugin, Component};

fn components() -> Vec<Component> {
    vec![Component::file_system(
        "tmpfs",
        env!("CARGO_PKG_VERSION"),
        "tmpfs: a file system in memory",
        mount::TmpfsType::new,
    )]
}

export_plugin!(components);
