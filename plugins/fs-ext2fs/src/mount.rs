//! The file system type `ext2fs` (NetBSD's MOUNT_EXT2FS) and its
//! mounts. The argument block is `struct ufs_args`: a pointer to the
//! device path, read from the caller's memory; the device is opened
//! through the VFS, read-only for a read-only mount. A device already
//! mounted is refused with EBUSY, as NetBSD does.

use crate::disk::DeviceDisk;
use crate::fs::{Fs, MountRequest};
use crate::mem::{KernelMem, MemSink};
use crate::superblock::ROOT_INO;
use crate::vnode::Ext2Vnode;
use parking_lot::Mutex;
use rump_plugin_api::abi::limits::MAXPATHLEN;
use rump_plugin_api::abi::mount::{MNT_RDONLY, UFS_ARGS_SIZE};
use rump_plugin_api::vfs::{
    mount_obj, FsStats, FsType, Mount, MountArgs, MountEnv, MountObj, VnodeObj,
};
use rump_plugin_api::{Errno, KResult};
use std::collections::HashSet;
use std::sync::Arc;

/// The devices mounted, by path.
type Mounted = Arc<Mutex<HashSet<Vec<u8>>>>;

/// The file system type.
pub struct Ext2fsType {
    mem: Arc<dyn MemSink>,
    mounted: Mounted,
}

impl Ext2fsType {
    pub fn new() -> Ext2fsType {
        Ext2fsType {
            mem: Arc::new(KernelMem),
            mounted: Mounted::default(),
        }
    }
}

/// A device path with repeated slashes folded, to compare mounts.
fn device_key(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &c in path {
        if !(c == b'/' && out.last() == Some(&b'/')) {
            out.push(c);
        }
    }
    out
}

impl Default for Ext2fsType {
    fn default() -> Self {
        Ext2fsType::new()
    }
}

/// The device path pointer of a `ufs_args` block; EINVAL if the block is
/// short or the pointer NULL.
pub fn fspec_pointer(data: &[u8]) -> KResult<u64> {
    let b: [u8; 8] = data
        .get(..UFS_ARGS_SIZE)
        .and_then(|s| s.try_into().ok())
        .ok_or(Errno::EINVAL)?;
    match u64::from_le_bytes(b) {
        0 => Err(Errno::EINVAL),
        p => Ok(p),
    }
}

impl FsType for Ext2fsType {
    fn name(&self) -> &str {
        "ext2fs"
    }

    fn args_len(&self) -> usize {
        UFS_ARGS_SIZE
    }

    fn mount(&self, args: MountArgs<'_, '_>, env: &mut MountEnv<'_>) -> KResult<MountObj> {
        let ptr = fspec_pointer(args.data)?;
        let path = args.lwp.copyinstr(ptr, MAXPATHLEN)?;
        let readonly = args.flags & MNT_RDONLY != 0;
        let dev = env.open_device(&path, readonly)?;
        let key = device_key(&path);
        if !self.mounted.lock().insert(key.clone()) {
            return Err(Errno::EBUSY);
        }
        let fs = Fs::mount(MountRequest {
            disk: Arc::new(DeviceDisk(dev)),
            fsid: env.fsid(),
            readonly,
            source: String::from_utf8_lossy(&path).into_owned(),
            on: args.on,
            mem: self.mem.clone(),
        });
        match fs {
            Ok(fs) => {
                let syncer = crate::syncer::start(&fs, crate::syncer::INTERVAL);
                Ok(mount_obj(Ext2Mount {
                    fs,
                    mounted: self.mounted.clone(),
                    key,
                    syncer: Mutex::new(syncer),
                }))
            }
            Err(e) => {
                self.mounted.lock().remove(&key);
                Err(e)
            }
        }
    }
}

/// A mounted ext2 file system.
pub struct Ext2Mount {
    pub fs: Arc<Fs>,
    mounted: Mounted,
    key: Vec<u8>,
    syncer: Mutex<Option<crate::syncer::Syncer>>,
}

impl Ext2Mount {
    fn release(&self) -> KResult<()> {
        // The syncer first, before anything it might wait for is taken.
        if let Some(s) = self.syncer.lock().take() {
            s.stop();
        }
        let r = self.fs.unmount();
        if r.is_ok() {
            self.mounted.lock().remove(&self.key);
        }
        r
    }
}

impl Mount for Ext2Mount {
    fn root(&self) -> KResult<VnodeObj> {
        let fs = &self.fs;
        let root = fs.shared(|| fs.get(ROOT_INO))?;
        Ok(Ext2Vnode::obj(fs, root))
    }

    fn statvfs(&self) -> KResult<FsStats> {
        self.fs.alive()?;
        Ok(self.fs.statvfs())
    }

    fn sync(&self, wait: bool) -> KResult<()> {
        self.fs.sync(wait)
    }

    fn unmount(&self, _force: bool) -> KResult<()> {
        self.release()
    }

    /// MNT_UPDATE: only the change between read-only and read-write.
    fn update(&self, flags: i32, _data: &[u8]) -> KResult<()> {
        self.fs.set_readonly(flags & MNT_RDONLY != 0)
    }

    /// The arguments, as NetBSD returns them: no device path.
    fn getargs(&self) -> KResult<Vec<u8>> {
        Ok(vec![0u8; UFS_ARGS_SIZE])
    }

    fn source(&self) -> String {
        self.fs.source.clone()
    }
}

impl Drop for Ext2Mount {
    fn drop(&mut self) {
        // A mount dropped without an unmount is still left clean.
        let _ = self.release();
        self.mounted.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_keys_and_argument_blocks() {
        assert_eq!(device_key(b"//dev///wd0"), b"/dev/wd0");
        assert_eq!(fspec_pointer(&[0; 8]), Err(Errno::EINVAL));
        assert_eq!(fspec_pointer(&[1, 0, 0]), Err(Errno::EINVAL));
        assert_eq!(fspec_pointer(&0x1234u64.to_le_bytes()), Ok(0x1234));
    }
}
