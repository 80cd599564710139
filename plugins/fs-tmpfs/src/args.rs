//! The mount argument block, `struct tmpfs_args`: checking it as NetBSD's
//! `tmpfs_mount` does, and writing it back for MNT_GETARGS.

use crate::mem::{Limits, PAGE_SIZE, UNLIMITED_BYTES};
use rump_plugin_api::abi::mount::TmpfsArgs;
use rump_plugin_api::abi::stat::ALLPERMS;
use rump_plugin_api::{Errno, KResult};

/// `VNOVAL` as a uid or gid.
const VNOVAL: u32 = u32::MAX;

/// What a mount (or a mount update) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountParams {
    /// Bytes, when the block sets a limit (ta_size_max of a page or more).
    pub size_max: Option<u64>,
    /// Nodes, when the block sets a limit (ta_nodes_max above 3).
    pub nodes_max: Option<u64>,
    pub root_uid: u32,
    pub root_gid: u32,
    /// Permission bits of the root directory.
    pub root_perm: u32,
}

impl MountParams {
    /// Checks an argument block: EINVAL if it is shorter than 40 bytes,
    /// of another version, or gives VNOVAL as the root's owner or group.
    pub fn parse(data: &[u8]) -> KResult<MountParams> {
        if data.len() < TmpfsArgs::SIZE {
            return Err(Errno::EINVAL);
        }
        let a = TmpfsArgs::decode(data);
        if a.version != TmpfsArgs::VERSION {
            return Err(Errno::EINVAL);
        }
        if a.root_uid == VNOVAL || a.root_gid == VNOVAL {
            return Err(Errno::EINVAL);
        }
        Ok(MountParams {
            size_max: (a.size_max >= PAGE_SIZE as i64).then_some(a.size_max as u64),
            nodes_max: (a.nodes_max > 3).then_some(a.nodes_max.min(i32::MAX as u64)),
            root_uid: a.root_uid,
            root_gid: a.root_gid,
            root_perm: a.root_mode & ALLPERMS,
        })
    }

    /// The limits of a new mount. Without a node limit, NetBSD allows 3
    /// plus one node per KiB of the size limit; without a size limit
    /// that is taken to be [`UNLIMITED_BYTES`].
    pub fn limits(&self) -> Limits {
        let bytes = self.size_max.unwrap_or(UNLIMITED_BYTES);
        let auto = (3 + bytes / 1024).min(i32::MAX as u64);
        Limits {
            size_max: self.size_max,
            nodes_max: self.nodes_max.unwrap_or(auto),
        }
    }
}

/// The MNT_GETARGS block: version 1, the limits in force (no size limit
/// reads as -1, as NetBSD's UINT64_MAX does) and the root's owner, group
/// and permission bits.
pub fn getargs(limits: Limits, uid: u32, gid: u32, perm: u32) -> Vec<u8> {
    TmpfsArgs {
        version: TmpfsArgs::VERSION,
        nodes_max: limits.nodes_max,
        size_max: limits.size_max.map_or(-1, |s| s as i64),
        root_uid: uid,
        root_gid: gid,
        root_mode: perm,
    }
    .encode()
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(version: i32, nodes: u64, size: i64, uid: u32, gid: u32, mode: u32) -> Vec<u8> {
        TmpfsArgs {
            version,
            nodes_max: nodes,
            size_max: size,
            root_uid: uid,
            root_gid: gid,
            root_mode: mode,
        }
        .encode()
        .to_vec()
    }

    #[test]
    fn bad_blocks_are_einval() {
        let good = block(1, 100, 1 << 20, 0, 0, 0o1777);
        assert!(MountParams::parse(&good).is_ok());
        assert_eq!(MountParams::parse(&good[..39]), Err(Errno::EINVAL));
        assert_eq!(MountParams::parse(&good[..16]), Err(Errno::EINVAL));
        assert_eq!(MountParams::parse(&[]), Err(Errno::EINVAL));
        let mut long = good.clone();
        long.resize(64, 0);
        assert!(MountParams::parse(&long).is_ok());
        let bad = [
            block(2, 100, 1 << 20, 0, 0, 0o1777),
            block(1, 100, 1 << 20, VNOVAL, 0, 0o1777),
            block(1, 100, 1 << 20, 0, VNOVAL, 0o1777),
        ];
        for b in bad {
            assert_eq!(MountParams::parse(&b), Err(Errno::EINVAL));
        }
    }

    #[test]
    fn limits_and_defaults() {
        let p = MountParams::parse(&block(1, 100, 1 << 20, 5, 6, u32::MAX)).unwrap();
        assert_eq!(p.root_perm, 0o7777);
        assert_eq!(
            p.limits(),
            Limits {
                size_max: Some(1 << 20),
                nodes_max: 100
            }
        );
        let p = MountParams::parse(&block(1, 3, 4095, 0, 0, 0o755)).unwrap();
        assert_eq!((p.size_max, p.nodes_max), (None, None));
        assert_eq!(p.limits().nodes_max, 3 + (512 << 10));
        let p = MountParams::parse(&block(1, 0, 1 << 20, 0, 0, 0o755)).unwrap();
        assert_eq!(p.limits().nodes_max, 3 + 1024);
        let p = MountParams::parse(&block(1, u64::MAX, -5, 0, 0, 0o755)).unwrap();
        assert_eq!(p.limits().nodes_max, i32::MAX as u64);
        assert_eq!(p.limits().size_max, None);
    }

    #[test]
    fn getargs_block() {
        let b = getargs(
            Limits {
                size_max: None,
                nodes_max: 100,
            },
            1,
            2,
            0o1777,
        );
        let a = TmpfsArgs::decode(&b);
        assert_eq!(b.len(), 40);
        assert_eq!((a.version, a.nodes_max, a.size_max), (1, 100, -1));
        assert_eq!((a.root_uid, a.root_gid, a.root_mode), (1, 2, 0o1777));
    }
}
