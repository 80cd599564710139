//! The file system type `tmpfs` and its mounts: mounting from a
//! `tmpfs_args` block, statvfs, MNT_UPDATE, MNT_GETARGS and unmount.

use crate::args::{getargs, MountParams};
use crate::fs::Fs;
use crate::mem::{Accountant, KernelMem, MemSink};
use crate::vnode::TmpfsVnode;
use rump_plugin_api::abi::mount::TmpfsArgs;
use rump_plugin_api::abi::stat::Timespec;
use rump_plugin_api::vfs::{
    mount_obj, FsStats, FsType, Mount, MountArgs, MountEnv, MountObj, VnodeObj,
};
use rump_plugin_api::KResult;
use std::sync::Arc;

/// The file system type.
pub struct TmpfsType {
    sink: Arc<dyn MemSink>,
}

impl TmpfsType {
    /// The type whose mounts charge the kernel's memory accountant.
    pub fn new() -> TmpfsType {
        TmpfsType::with_sink(Arc::new(KernelMem))
    }

    /// The type whose mounts charge `sink`.
    pub fn with_sink(sink: Arc<dyn MemSink>) -> TmpfsType {
        TmpfsType { sink }
    }

    /// Mounts a file system with identity `fsid` from argument block
    /// `data`.
    pub fn mount_data(&self, data: &[u8], fsid: u64) -> KResult<TmpfsMount> {
        let p = MountParams::parse(data)?;
        let acct = Accountant::new(self.sink.clone(), p.limits());
        let fs = Fs::new(acct, fsid, p.root_uid, p.root_gid, p.root_perm)?;
        Ok(TmpfsMount { fs })
    }
}

impl Default for TmpfsType {
    fn default() -> Self {
        TmpfsType::new()
    }
}

impl FsType for TmpfsType {
    fn name(&self) -> &str {
        "tmpfs"
    }

    fn args_len(&self) -> usize {
        TmpfsArgs::SIZE
    }

    fn mount(&self, args: MountArgs<'_, '_>, env: &mut MountEnv<'_>) -> KResult<MountObj> {
        self.mount_data(args.data, env.fsid()).map(mount_obj)
    }
}

/// A mounted tmpfs.
pub struct TmpfsMount {
    fs: Arc<Fs>,
}

impl TmpfsMount {
    pub fn fs(&self) -> &Arc<Fs> {
        &self.fs
    }
}

impl Mount for TmpfsMount {
    fn root(&self) -> KResult<VnodeObj> {
        Ok(TmpfsVnode::obj(&self.fs, self.fs.root()?))
    }

    fn statvfs(&self) -> KResult<FsStats> {
        self.fs.alive()?;
        Ok(self.fs.statvfs())
    }

    fn unmount(&self, _force: bool) -> KResult<()> {
        self.fs.unmount();
        Ok(())
    }

    /// MNT_UPDATE: new limits (EBUSY below what is in use) and the root's
    /// owner, group and mode, from a full argument block as NetBSD wants.
    fn update(&self, _flags: i32, data: &[u8]) -> KResult<()> {
        let p = MountParams::parse(data)?;
        let root = self.fs.root()?;
        self.fs.acct.set_limits(p.size_max.map(Some), p.nodes_max)?;
        let mut a = root.attr.lock();
        a.uid = p.root_uid;
        a.gid = p.root_gid;
        a.perm = p.root_perm;
        a.ctime = Timespec::now();
        Ok(())
    }

    fn getargs(&self) -> KResult<Vec<u8>> {
        let root = self.fs.root()?;
        let a = root.attr.lock().clone();
        Ok(getargs(self.fs.limits(), a.uid, a.gid, a.perm))
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        // A mount dropped without an unmount still gives its memory back.
        self.fs.unmount();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::testing::FakeMem;
    use crate::mem::NODE_COST;
    use rump_plugin_api::abi::stat::S_IFDIR;
    use rump_plugin_api::Errno;

    fn args(nodes: u64, size: i64, mode: u32) -> Vec<u8> {
        TmpfsArgs {
            version: 1,
            nodes_max: nodes,
            size_max: size,
            root_uid: 1000,
            root_gid: 100,
            root_mode: mode,
        }
        .encode()
        .to_vec()
    }

    #[test]
    fn mount_statvfs_getargs_update_unmount() {
        let fake = FakeMem::new(None);
        let t = TmpfsType::with_sink(fake.clone());
        assert_eq!(t.name(), "tmpfs");
        assert_eq!(t.args_len(), 40);
        assert_eq!(
            t.mount_data(&args(100, 1 << 20, 0o1777)[..39], 1).err(),
            Some(Errno::EINVAL)
        );
        let m = t.mount_data(&args(100, 1 << 20, 0o41777), 0xab01).unwrap();
        assert_eq!(fake.used(), NODE_COST);
        let s = m.statvfs().unwrap();
        assert_eq!((s.blocks, s.bfree, s.files, s.ffree), (256, 255, 100, 99));
        let root = m.root().unwrap();
        let st = root.getattr().into_result().unwrap();
        assert_eq!(st.mode, S_IFDIR | 0o1777);
        assert_eq!((st.uid, st.gid, st.dev, st.ino), (1000, 100, 0xab01, 2));
        let back = TmpfsArgs::decode(&m.getargs().unwrap());
        assert_eq!(
            back,
            TmpfsArgs {
                version: 1,
                nodes_max: 100,
                size_max: 1 << 20,
                root_uid: 1000,
                root_gid: 100,
                root_mode: 0o1777,
            }
        );
        m.update(0, &args(50, 2 << 20, 0o755)).unwrap();
        let s = m.statvfs().unwrap();
        assert_eq!((s.blocks, s.files), (512, 50));
        assert_eq!(m.update(0, &args(50, 4096, 0o755)), Err(Errno::EBUSY));
        assert_eq!(root.getattr().into_result().unwrap().mode, S_IFDIR | 0o755);
        m.unmount(false).unwrap();
        assert_eq!(fake.used(), 0);
        assert!(m.root().is_err());
        drop(m);
        assert_eq!(fake.used(), 0);
    }

    #[test]
    fn unlimited_mount() {
        let fake = FakeMem::new(None);
        let t = TmpfsType::with_sink(fake.clone());
        let m = t.mount_data(&args(0, 0, 0o755), 1).unwrap();
        let s = m.statvfs().unwrap();
        assert_eq!((s.blocks, s.bfree), (131_072, 131_071));
        assert_eq!(s.files, 3 + (512 << 10));
        let a = TmpfsArgs::decode(&m.getargs().unwrap());
        assert_eq!(a.size_max, -1);
        drop(m);
        assert_eq!(fake.used(), 0);
    }
}
