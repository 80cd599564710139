//! The file system type `msdos` and its mounts: mounting from a
//! `msdosfs_args` block and a block device, statvfs, sync, MNT_UPDATE,
//! MNT_GETARGS and unmount.

use crate::args::{Options, MSDOSFSMNT_LONGNAME, MSDOSFSMNT_SHORTNAME};
use crate::disk::Disk;
use crate::fs::Fs;
use crate::vnode::MsdosVnode;
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::mount::{MsdosfsArgs, MNT_RDONLY};
use rump_plugin_api::vfs::{
    mount_obj, FsStats, FsType, Mount, MountArgs, MountEnv, MountObj, VnodeObj,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

/// The file system type.
#[derive(Default)]
pub struct MsdosType;

impl FsType for MsdosType {
    fn name(&self) -> &str {
        "msdos"
    }

    fn args_len(&self) -> usize {
        MsdosfsArgs::SIZE
    }

    fn mount(&self, args: MountArgs<'_, '_>, env: &mut MountEnv<'_>) -> KResult<MountObj> {
        let (opts, fspec) = Options::parse(args.data)?;
        if fspec == 0 {
            return Err(Errno::EINVAL);
        }
        let mut spec = args.lwp.copyinstr(fspec, MAXPATHLEN)?;
        if spec.last() == Some(&0) {
            spec.pop();
        }
        let readonly = args.flags & MNT_RDONLY != 0;
        let dev = env.open_device(&spec, readonly)?;
        let fs = Fs::new(Disk::new(Box::new(dev)), opts, readonly, env.fsid(), spec)?;
        Ok(mount_obj(MsdosMount { fs }))
    }
}

/// A mounted volume.
pub struct MsdosMount {
    pub fs: Arc<Fs>,
}

impl Mount for MsdosMount {
    fn root(&self) -> KResult<VnodeObj> {
        Ok(MsdosVnode::obj(&self.fs, self.fs.root()?))
    }

    fn statvfs(&self) -> KResult<FsStats> {
        self.fs.statvfs()
    }

    fn sync(&self, _wait: bool) -> KResult<()> {
        self.fs.sync()
    }

    fn unmount(&self, _force: bool) -> KResult<()> {
        self.fs.unmount()
    }

    /// MNT_UPDATE: read-only or read-write, and, from a full argument
    /// block, new owner, group, masks and UTC offset (the choice of long
    /// or short names stays).
    fn update(&self, flags: i32, data: &[u8]) -> KResult<()> {
        let mut g = self.fs.lock()?;
        if data.len() >= MsdosfsArgs::SIZE {
            let (o, _) = Options::parse(data)?;
            let keep = g.opts.flags & (MSDOSFSMNT_LONGNAME | MSDOSFSMNT_SHORTNAME);
            let flags = (o.flags & !(MSDOSFSMNT_LONGNAME | MSDOSFSMNT_SHORTNAME)) | keep;
            g.opts = Options { flags, ..o };
        }
        let ro = flags & MNT_RDONLY != 0;
        if ro && !g.readonly {
            self.fs.commit(&mut g)?;
            self.fs.disk.flush()?;
        }
        g.readonly = ro;
        Ok(())
    }

    fn getargs(&self) -> KResult<Vec<u8>> {
        let g = self.fs.lock()?;
        Ok(g.opts.getargs())
    }

    fn source(&self) -> String {
        String::from_utf8_lossy(&self.fs.source).into_owned()
    }
}

impl Drop for MsdosMount {
    fn drop(&mut self) {
        // A mount dropped without an unmount still writes its FAT out.
        let _ = self.fs.unmount();
    }
}
