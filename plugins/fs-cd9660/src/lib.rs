//! cd9660 for the rump kernel: ISO 9660 images, read-only, with Rock
//! Ridge and Joliet, as NetBSD reads them (`librumpfs_cd9660.so`,
//! NetBSD's `-lrumpfs_cd9660`).
//!
//! The component `cd9660` registers the file system type `cd9660` with
//! the VFS faction (`rumpvfs`), which mounts it read-only with an
//! `iso_args` block naming a block device. Every byte of the image is
//! untrusted: a malformed image makes the mount or the operation fail
//! (EINVAL, EIO), never the server. The pieces:
//!
//! | module | job |
//! |---|---|
//! | [`num`] | ISO 9660 number formats |
//! | [`disk`] | exact reads from the image; logical block geometry |
//! | [`volume`] | the volume descriptors: primary, Joliet |
//! | [`record`] | directory records |
//! | [`time`] | recorded dates |
//! | [`names`] | ISO 9660 and Joliet names: shown and matched |
//! | [`susp`] | SUSP fields and continuation areas |
//! | [`rrip`] | Rock Ridge: attributes, names, links, devices, moved directories |
//! | [`attrs`] | attributes without Rock Ridge; extended attribute records |
//! | [`data`] | a file's extents (multi-extent, interleaved) and reading them |
//! | [`node`] | loading a file from its number |
//! | [`walk`] | walking a directory's records and naming them |
//! | [`dircache`] | the listings of the directories used last |
//! | [`dir`] | readdir and lookup |
//! | [`mem`] | charging what a mount keeps to the kernel |
//! | [`fs`] | one mounted volume |
//! | [`args`] | the `iso_args` block and NetBSD's option precedence |
//! | [`vnode`] | the [`rump_plugin_api::vfs::Vnode`]s the VFS sees |
//! | [`mount`] | the [`rump_plugin_api::vfs::FsType`] and its mounts |
#![deny(unsafe_code)]

pub mod args;
pub mod attrs;
pub mod data;
pub mod dir;
pub mod dircache;
pub mod disk;
pub mod fs;
pub mod mem;
pub mod mount;
pub mod names;
pub mod node;
pub mod num;
pub mod record;
pub mod rrip;
pub mod susp;
pub mod time;
pub mod vnode;
pub mod volume;
pub mod walk;

#[cfg(test)]
mod tests;

use rump_plugin_api::{export_plugin, Component};

fn components() -> Vec<Component> {
    vec![Component::file_system(
        "cd9660",
        env!("CARGO_PKG_VERSION"),
        "cd9660: ISO 9660 images, read-only, with Rock Ridge and Joliet",
        || mount::Cd9660Type,
    )]
}

export_plugin!(components);
