//! rumpfs: the in-memory root file system of the kernel, with NetBSD's
//! quirks where clients can see them: directories list no `.` and `..`
//! and show the newest entry first, rename is not supported, every node
//! has st_blksize 512 and st_blocks 1. (NetBSD's rumpfs reports st_dev
//! equal to st_ino through a missing semicolon; here st_dev is the
//! file system's fsid, so that mount points can be told apart.)

use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::stat::{
    makedev, Stat, Timespec, NODEV, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
};
use rump_plugin_api::vfs::{
    downcast_vnode, mount_obj, vnode_obj, DirEntry, FsStats, Mount, MountObj, SetAttr, VType,
    Vnode, VnodeObj, Written,
};
use rump_plugin_api::{Errno, KResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// The inode number of the root directory.
pub const ROOT_INO: u64 = 3;

enum Content {
    Dir {
        entries: Vec<(Vec<u8>, Arc<Node>)>,
        parent: Weak<Node>,
    },
    Reg(Vec<u8>),
    Lnk(Vec<u8>),
    Other,
}

struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    flags: u32,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    birthtime: Timespec,
}

/// A rumpfs node.
pub struct Node {
    ino: u64,
    fs: Weak<RumpFs>,
    me: Weak<Node>,
    attrs: Mutex<Attrs>,
    content: RwLock<Content>,
}

/// The file system.
pub struct RumpFs {
    fsid: u64,
    next_ino: AtomicU64,
    root: Mutex<Option<Arc<Node>>>,
    me: Weak<RumpFs>,
}

fn vtype_of(mode: u32) -> VType {
    VType::from_mode(mode)
}

impl RumpFs {
    pub fn new(fsid: u64) -> Arc<RumpFs> {
        let fs = Arc::new_cyclic(|me| RumpFs {
            fsid,
            next_ino: AtomicU64::new(ROOT_INO),
            root: Mutex::new(None),
            me: me.clone(),
        });
        let root = fs.new_node(
            S_IFDIR | 0o755,
            NODEV,
            Content::Dir {
                entries: Vec::new(),
                parent: Weak::new(),
            },
        );
        *fs.root.lock() = Some(root);
        fs
    }

    fn new_node(&self, mode: u32, rdev: u64, content: Content) -> Arc<Node> {
        let now = Timespec::now();
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        Arc::new_cyclic(|me| Node {
            ino: self.next_ino.fetch_add(1, Ordering::Relaxed),
            fs: self.me.clone(),
            me: me.clone(),
            attrs: Mutex::new(Attrs {
                mode,
                uid: 0,
                gid: 0,
                nlink,
                rdev,
                flags: 0,
                atime: now,
                mtime: now,
                ctime: now,
                birthtime: now,
            }),
            content: RwLock::new(content),
        })
    }

    fn root_node(&self) -> KResult<Arc<Node>> {
        self.root.lock().clone().ok_or(Errno::EIO)
    }

    /// A fresh inode number (etfs nodes take theirs from rumpfs).
    pub fn alloc_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    /// The file system's fsid.
    pub fn fsid(&self) -> u64 {
        self.fsid
    }

    /// Creates `/dev` (with `null` and `zero`) and `/tmp`.
    pub fn populate(&self) -> KResult<()> {
        let root = self.root_node()?;
        let dev = root.mkdir(b"dev", 0o755)?;
        root.mkdir(b"tmp", 0o1777)?;
        let dev = downcast_vnode::<Node>(&dev).ok_or(Errno::EIO)?;
        dev.create(b"null", S_IFCHR | 0o644, makedev(2, 2))?;
        dev.create(b"zero", S_IFCHR | 0o644, makedev(2, 12))?;
        Ok(())
    }

    /// The file system as a mount.
    pub fn mount_obj(self: &Arc<Self>) -> MountObj {
        mount_obj(RumpMount(self.clone()))
    }
}

struct RumpMount(Arc<RumpFs>);

impl Mount for RumpMount {
    fn root(&self) -> KResult<VnodeObj> {
        Ok(vnode_obj(self.0.root_node()?))
    }

    fn statvfs(&self) -> KResult<FsStats> {
        Ok(FsStats {
            bsize: 512,
            frsize: 512,
            iosize: 512,
            blocks: 2,
            namemax: 255,
            ..FsStats::default()
        })
    }

    fn unmount(&self, _force: bool) -> KResult<()> {
        Err(Errno::EBUSY)
    }
}

impl Node {
    fn fs(&self) -> KResult<Arc<RumpFs>> {
        self.fs.upgrade().ok_or(Errno::EIO)
    }

    fn touch_dir(&self) {
        let now = Timespec::now();
        let mut a = self.attrs.lock();
        a.mtime = now;
        a.ctime = now;
    }

    /// Adds a new node under `name`.
    fn insert(&self, name: &[u8], mode: u32, rdev: u64, content: Content) -> KResult<VnodeObj> {
        check_name(name)?;
        let fs = self.fs()?;
        let mut c = self.content.write();
        let Content::Dir { entries, .. } = &mut *c else {
            return Err(Errno::ENOTDIR);
        };
        if entries.iter().any(|(n, _)| n == name) {
            return Err(Errno::EEXIST);
        }
        let node = fs.new_node(mode, rdev, content);
        entries.push((name.to_vec(), node.clone()));
        drop(c);
        self.touch_dir();
        Ok(vnode_obj(node))
    }

    fn unlink_entry(&self, name: &[u8], want_dir: bool) -> KResult<()> {
        let mut c = self.content.write();
        let Content::Dir { entries, .. } = &mut *c else {
            return Err(Errno::ENOTDIR);
        };
        let i = entries
            .iter()
            .position(|(n, _)| n == name)
            .ok_or(Errno::ENOENT)?;
        let node = entries[i].1.clone();
        let is_dir = matches!(&*node.content.read(), Content::Dir { .. });
        match (want_dir, is_dir) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EPERM),
            (true, true) => {
                if let Content::Dir { entries, .. } = &*node.content.read() {
                    if !entries.is_empty() {
                        return Err(Errno::ENOTEMPTY);
                    }
                }
            }
            _ => {}
        }
        entries.remove(i);
        drop(c);
        {
            let mut a = node.attrs.lock();
            a.nlink = a.nlink.saturating_sub(1);
            a.ctime = Timespec::now();
        }
        self.touch_dir();
        Ok(())
    }
}

fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

impl Vnode for Node {
    fn vtype(&self) -> VType {
        vtype_of(self.attrs.lock().mode)
    }

    fn fileid(&self) -> u64 {
        self.ino
    }

    fn getattr(&self) -> KResult<Stat> {
        let fsid = self.fs()?.fsid;
        let size = match &*self.content.read() {
            Content::Dir { .. } => 512,
            Content::Reg(d) => d.len() as i64,
            Content::Lnk(t) => t.len() as i64,
            Content::Other => 0,
        };
        let a = self.attrs.lock();
        Ok(Stat {
            dev: fsid,
            mode: a.mode,
            ino: self.ino,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            rdev: a.rdev,
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
            birthtime: a.birthtime,
            size,
            blocks: 1,
            blksize: 512,
            flags: a.flags,
            gen: 0,
        })
    }

    fn setattr(&self, s: &SetAttr) -> KResult<()> {
        if let Some(size) = s.size.into_option() {
            match &mut *self.content.write() {
                Content::Reg(d) => d.resize(usize::try_from(size).map_err(|_| Errno::EFBIG)?, 0),
                Content::Dir { .. } => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
        }
        let now = Timespec::now();
        let mut a = self.attrs.lock();
        if let Some(m) = s.mode.into_option() {
            a.mode = (a.mode & S_IFMT) | (m & 0o7777);
        }
        if let Some(u) = s.uid.into_option() {
            a.uid = u;
        }
        if let Some(g) = s.gid.into_option() {
            a.gid = g;
        }
        if let Some(t) = s.atime.into_option() {
            a.atime = t;
        }
        if let Some(t) = s.mtime.into_option() {
            a.mtime = t;
        }
        if let Some(t) = s.birthtime.into_option() {
            a.birthtime = t;
        }
        if let Some(f) = s.flags.into_option() {
            a.flags = f;
        }
        if s.size.is_some() {
            a.mtime = now;
        }
        a.ctime = now;
        Ok(())
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        check_name(name)?;
        match &*self.content.read() {
            Content::Dir { entries, parent } => {
                if name == b".." {
                    let p = parent.upgrade().ok_or(Errno::ENOENT)?;
                    return Ok(vnode_obj(p));
                }
                entries
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, node)| vnode_obj(node.clone()))
                    .ok_or(Errno::ENOENT)
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<VnodeObj> {
        let content = if mode & S_IFMT == S_IFREG {
            Content::Reg(Vec::new())
        } else {
            Content::Other
        };
        let rdev = if matches!(VType::from_mode(mode), VType::Blk | VType::Chr) {
            rdev
        } else {
            NODEV
        };
        self.insert(name, mode, rdev, content)
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<VnodeObj> {
        let parent = self.me.clone();
        self.insert(
            name,
            S_IFDIR | (mode & 0o7777),
            NODEV,
            Content::Dir {
                entries: Vec::new(),
                parent,
            },
        )
    }

    fn symlink(&self, name: &[u8], target: &[u8], mode: u32) -> KResult<VnodeObj> {
        self.insert(
            name,
            S_IFLNK | (mode & 0o7777),
            NODEV,
            Content::Lnk(target.to_vec()),
        )
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match &*self.content.read() {
            Content::Lnk(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn link(&self, name: &[u8], target: &VnodeObj) -> KResult<()> {
        check_name(name)?;
        let node = downcast_vnode::<Node>(target).ok_or(Errno::EXDEV)?;
        if matches!(&*node.content.read(), Content::Dir { .. }) {
            return Err(Errno::EPERM);
        }
        let mut c = self.content.write();
        let Content::Dir { entries, .. } = &mut *c else {
            return Err(Errno::ENOTDIR);
        };
        if entries.iter().any(|(n, _)| n == name) {
            return Err(Errno::EEXIST);
        }
        entries.push((name.to_vec(), node.clone()));
        drop(c);
        {
            let mut a = node.attrs.lock();
            a.nlink += 1;
            a.ctime = Timespec::now();
        }
        self.touch_dir();
        Ok(())
    }

    fn remove(&self, name: &[u8]) -> KResult<()> {
        self.unlink_entry(name, false)
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.unlink_entry(name, true)
    }

    fn rename(&self, _from: &[u8], _to_dir: &VnodeObj, _to: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        let c = self.content.read();
        let Content::Dir { entries, .. } = &*c else {
            return Err(Errno::ENOTDIR);
        };
        // Newest first; the cookie counts the entries already returned.
        let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
        Ok(entries
            .iter()
            .rev()
            .enumerate()
            .skip(skip)
            .take(max)
            .map(|(i, (name, node))| DirEntry {
                fileno: node.ino,
                dtype: vtype_of(node.attrs.lock().mode).dtype(),
                name: name.clone().into(),
                next: i as i64 + 1,
            })
            .collect())
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let c = self.content.read();
        let data = match &*c {
            Content::Reg(d) => d,
            Content::Dir { .. } => return Err(Errno::EISDIR),
            _ => return Err(Errno::EOPNOTSUPP),
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(len).min(data.len());
        let out = data[start..end].to_vec();
        drop(c);
        self.attrs.lock().atime = Timespec::now();
        Ok(out)
    }

    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        let mut c = self.content.write();
        let Content::Reg(d) = &mut *c else {
            return Err(Errno::EOPNOTSUPP);
        };
        let start = if append {
            d.len()
        } else {
            usize::try_from(offset).map_err(|_| Errno::EFBIG)?
        };
        let end = start.checked_add(data.len()).ok_or(Errno::EFBIG)?;
        if end > d.len() {
            d.resize(end, 0);
        }
        d[start..end].copy_from_slice(data);
        drop(c);
        self.touch_dir();
        Ok(Written {
            count: data.len() as u64,
            end: end as u64,
        })
    }

    fn pathconf(&self, name: i32) -> KResult<i64> {
        use rump_plugin_api::abi::fcntl::*;
        match name {
            _PC_LINK_MAX => Ok(32767),
            _PC_NAME_MAX => Ok(255),
            _PC_PATH_MAX => Ok(1024),
            _PC_PIPE_BUF => Ok(512),
            _PC_CHOWN_RESTRICTED | _PC_NO_TRUNC => Ok(1),
            _PC_FILESIZEBITS => Ok(64),
            _ => Err(Errno::EINVAL),
        }
    }
}
