//! The file system type `cd9660` and its mounts: checking the argument
//! block, opening the device read-only, reading the volume descriptors,
//! choosing Rock Ridge, Joliet or plain names, and statvfs, MNT_UPDATE,
//! MNT_GETARGS and unmount.
//!
//! A mount that is not read-only is refused with EROFS, as NetBSD does.
//! The root directory is loaded while mounting, so an image whose root
//! cannot be read is refused then, not at first use.

use crate::args::{self, Reading};
use crate::disk::{Device, Disk, Source};
use crate::fs::{Fs, Naming, Setup};
use crate::node::Node;
use crate::rrip;
use crate::vnode::IsoVnode;
use crate::volume;
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::mount::{
    IsoArgs, ISOFSMNT_EXTATT, ISOFSMNT_NORRIP, ISOFSMNT_RRCASEINS, MNT_RDONLY,
};
use rump_plugin_api::vfs::{
    mount_obj, FsStats, FsType, Mount, MountArgs, MountEnv, MountObj, VType, VnodeObj,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// The file system type.
#[derive(Default)]
pub struct Cd9660Type;

impl FsType for Cd9660Type {
    fn name(&self) -> &str {
        "cd9660"
    }

    fn args_len(&self) -> usize {
        IsoArgs::SIZE
    }

    fn mount(&self, a: MountArgs<'_, '_>, env: &mut MountEnv<'_>) -> KResult<MountObj> {
        let iso = args::parse(a.data)?;
        if a.flags & MNT_RDONLY == 0 {
            return Err(Errno::EROFS);
        }
        let path = a.lwp.copyinstr(iso.fspec, MAXPATHLEN)?;
        let dev = env.open_device(&path, true)?;
        let fs = open(Box::new(Device(dev)), iso.flags, env.fsid(), a.on)?;
        Ok(mount_obj(IsoMount {
            fs,
            source: String::from_utf8_lossy(&path).into_owned(),
        }))
    }
}

/// Mounts the volume in `src` with ISOFSMNT_* `flags` as file system
/// `fsid` on `on`.
pub fn open(src: Box<dyn Source>, flags: i32, fsid: u64, on: &[u8]) -> KResult<Arc<Fs>> {
    let disk = Disk::new(src);
    let vol = volume::scan(&disk)?;
    let pri = vol.primary;
    let rock_ridge = if flags & ISOFSMNT_NORRIP == 0 {
        let first = pri.geo.block(&disk, pri.root_block())?;
        rrip::detect(&disk, &pri.geo, &first, pri.root_extent)
    } else {
        None
    };
    let joliet_level = vol.joliet.map_or(0, |(level, _)| level);
    let d = args::decide(flags, rock_ridge.is_some(), joliet_level);
    let desc = match (d.joliet, vol.joliet) {
        (true, Some((_, j))) => j,
        _ => pri,
    };
    let naming = match (d.reading, rock_ridge) {
        (Reading::RockRidge, Some(rr)) => Naming::RockRidge(rr),
        (
            Reading::Iso {
                style,
                merge_versions,
            },
            _,
        ) => Naming::Iso {
            style,
            merge_versions,
        },
        (Reading::RockRidge, None) => return Err(Errno::EINVAL),
    };
    let fs = Arc::new(Fs::new(Setup {
        root_ino: desc.root_block() << desc.geo.shift,
        disk,
        geo: desc.geo,
        naming,
        flags: d.flags,
        extatt: flags & ISOFSMNT_EXTATT != 0,
        rr_caseins: flags & ISOFSMNT_RRCASEINS != 0,
        fsid,
        volroot: on.to_vec(),
    })?);
    let root = Node::load(&fs, fs.root_ino)?;
    if root.vtype != VType::Dir {
        return Err(Errno::EINVAL);
    }
    Ok(fs)
}

/// A mounted volume.
pub struct IsoMount {
    fs: Arc<Fs>,
    source: String,
}

impl Mount for IsoMount {
    fn root(&self) -> KResult<VnodeObj> {
        IsoVnode::load(&self.fs, self.fs.root_ino)
    }

    /// NetBSD's numbers: logical blocks, none free, no file counts.
    fn statvfs(&self) -> KResult<FsStats> {
        self.fs.alive()?;
        let bs = self.fs.geo.block_size() as u64;
        Ok(FsStats {
            bsize: bs,
            frsize: bs,
            iosize: bs,
            blocks: self.fs.geo.blocks,
            namemax: 255,
            ..FsStats::default()
        })
    }

    fn unmount(&self, _force: bool) -> KResult<()> {
        self.fs.unmount();
        Ok(())
    }

    /// MNT_UPDATE: only to read-only, naming the device again; nothing
    /// changes.
    fn update(&self, flags: i32, data: &[u8]) -> KResult<()> {
        let a = args::parse(data)?;
        if flags & MNT_RDONLY == 0 {
            return Err(Errno::EROFS);
        }
        if a.fspec == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn getargs(&self) -> KResult<Vec<u8>> {
        Ok(args::getargs(self.fs.flags))
    }

    fn source(&self) -> String {
        self.source.clone()
    }
}
