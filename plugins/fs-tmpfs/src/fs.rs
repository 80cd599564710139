//! One mounted tmpfs: its root, its accountant, and the operations on the
//! name space (lookup, create, link, remove, rmdir, readdir; rename is in
//! [`crate::rename`]).
//!
//! Locking: an operation that locks one directory (lookup, readdir,
//! create, mkdir, symlink, link, remove) takes that directory's lock
//! alone. An operation that locks several (rmdir: the parent, then the
//! victim; rename: both parents, then a directory it replaces) first takes
//! the mount's name-space mutex, so at most one thread ever holds more
//! than one directory lock and no cycle can form. A directory's parent
//! pointer changes only under that mutex. Attribute and parent mutexes are
//! leaves (see [`crate::node`]).
//!
//! Every change is checked in full before anything is modified, and the
//! memory it needs is reserved first, so a failure (ENOSPC included)
//! leaves no trace.

use crate::dir::Item;
use crate::mem::{entry_cost, Accountant, Charge, Limits, PAGE_SIZE, UNLIMITED_BYTES};
use crate::node::{Child, Kind, NewKind, Node, NodeInit, APPEND, IMMUTABLE, LINK_MAX};
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::limits::NAME_MAX_FS;
use rump_plugin_api::abi::stat::{
    Timespec, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use rump_plugin_api::vfs::{DirEntry, FsStats, VType};
use rump_plugin_api::{Errno, KResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// The owner of new nodes: every client is root.
const NEW_UID: u32 = 0;

/// A mounted tmpfs.
pub struct Fs {
    pub acct: Arc<Accountant>,
    pub fsid: u64,
    /// Held by operations that lock more than one directory.
    pub(crate) ns: Mutex<()>,
    next_ino: AtomicU64,
    root: RwLock<Option<Arc<Node>>>,
}

/// ENAMETOOLONG for a name longer than 255 bytes, ENOENT for an empty one.
pub(crate) fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > NAME_MAX_FS {
        Err(Errno::ENAMETOOLONG)
    } else if name.is_empty() {
        Err(Errno::ENOENT)
    } else {
        Ok(())
    }
}

pub(crate) fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

impl Fs {
    /// A new file system whose root has `uid`, `gid` and `perm`.
    pub fn new(
        acct: Arc<Accountant>,
        fsid: u64,
        uid: u32,
        gid: u32,
        perm: u32,
    ) -> KResult<Arc<Fs>> {
        let fs = Fs {
            acct,
            fsid,
            ns: Mutex::new(()),
            next_ino: AtomicU64::new(2),
            root: RwLock::new(None),
        };
        let root = fs.new_node(NewKind::Dir, perm, uid, gid, Timespec::now(), None)?;
        *fs.root.write() = Some(root);
        Ok(Arc::new(fs))
    }

    /// EIO once unmounted.
    pub fn alive(&self) -> KResult<()> {
        if self.acct.is_dead() {
            Err(Errno::EIO)
        } else {
            Ok(())
        }
    }

    pub fn root(&self) -> KResult<Arc<Node>> {
        self.root.read().clone().ok_or(Errno::EIO)
    }

    fn new_node(
        &self,
        kind: NewKind<'_>,
        perm: u32,
        uid: u32,
        gid: u32,
        now: Timespec,
        parent: Option<Weak<Node>>,
    ) -> KResult<Arc<Node>> {
        // Numbers are never reused while mounted; 2^64 of them will do.
        let id = self.next_ino.fetch_add(1, Ordering::Relaxed);
        Node::new(
            &self.acct,
            NodeInit {
                id,
                kind,
                perm,
                uid,
                gid,
                now,
            },
            parent,
        )
    }

    /// The node `name` in `dir` (`.` is `dir`, `..` its parent).
    pub fn lookup(&self, dir: &Arc<Node>, name: &[u8]) -> KResult<Arc<Node>> {
        let lock = dir.dir()?;
        if name.len() > NAME_MAX_FS {
            return Err(Errno::ENAMETOOLONG);
        }
        let d = lock.read();
        if d.unlinked {
            return Err(Errno::ENOENT);
        }
        match name {
            b"." => Ok(dir.clone()),
            b".." => dir.parent.lock().upgrade().ok_or(Errno::ENOENT),
            _ => d
                .get(name)
                .map(|e| e.value.node.clone())
                .ok_or(Errno::ENOENT),
        }
    }

    /// Creates a non-directory from `mode`'s type bits (none: a regular
    /// file) and permission bits.
    pub fn create(&self, dir: &Arc<Node>, name: &[u8], mode: u32, rdev: u64) -> KResult<Arc<Node>> {
        let kind = match mode & S_IFMT {
            0 | S_IFREG => NewKind::Reg,
            S_IFBLK => NewKind::Dev(VType::Blk, rdev),
            S_IFCHR => NewKind::Dev(VType::Chr, rdev),
            S_IFIFO => NewKind::Special(VType::Fifo),
            S_IFSOCK => NewKind::Special(VType::Sock),
            S_IFDIR | S_IFLNK => return Err(Errno::EINVAL),
            _ => return Err(Errno::EINVAL),
        };
        self.construct(dir, name, kind, mode)
    }

    pub fn mkdir(&self, dir: &Arc<Node>, name: &[u8], perm: u32) -> KResult<Arc<Node>> {
        self.construct(dir, name, NewKind::Dir, perm)
    }

    pub fn symlink(
        &self,
        dir: &Arc<Node>,
        name: &[u8],
        target: &[u8],
        perm: u32,
    ) -> KResult<Arc<Node>> {
        self.construct(dir, name, NewKind::Lnk(target), perm)
    }

    fn construct(
        &self,
        dir: &Arc<Node>,
        name: &[u8],
        kind: NewKind<'_>,
        perm: u32,
    ) -> KResult<Arc<Node>> {
        let lock = dir.dir()?;
        check_name(name)?;
        if is_dot(name) {
            return Err(Errno::EEXIST);
        }
        let mut d = lock.write();
        if d.unlinked {
            return Err(Errno::ENOENT);
        }
        if d.contains(name) {
            return Err(Errno::EEXIST);
        }
        let is_dir = matches!(kind, NewKind::Dir);
        let gid = {
            let a = dir.attr.lock();
            if is_dir && a.nlink >= LINK_MAX {
                return Err(Errno::EMLINK);
            }
            a.gid
        };
        let now = Timespec::now();
        let node = self.new_node(kind, perm, NEW_UID, gid, now, Some(Arc::downgrade(dir)))?;
        // If the entry does not fit, dropping the node returns its charge.
        let charge = Charge::new(&self.acct, entry_cost(name))?;
        d.insert(
            name.into(),
            Child {
                node: node.clone(),
                charge,
            },
        );
        let mut a = dir.attr.lock();
        if is_dir {
            a.nlink += 1;
        }
        a.mtime = now;
        a.ctime = now;
        Ok(node)
    }

    /// Makes `name` in `dir` another link to `target`.
    pub fn link(&self, dir: &Arc<Node>, name: &[u8], target: &Arc<Node>) -> KResult<()> {
        let lock = dir.dir()?;
        check_name(name)?;
        if is_dot(name) {
            return Err(Errno::EEXIST);
        }
        if target.is_dir() {
            return Err(Errno::EPERM);
        }
        let mut d = lock.write();
        if d.unlinked {
            return Err(Errno::ENOENT);
        }
        if d.contains(name) {
            return Err(Errno::EEXIST);
        }
        let charge = Charge::new(&self.acct, entry_cost(name))?;
        let now = Timespec::now();
        {
            let mut a = target.attr.lock();
            if a.nlink == 0 {
                return Err(Errno::ENOENT);
            }
            if a.nlink >= LINK_MAX {
                return Err(Errno::EMLINK);
            }
            if a.flags & (IMMUTABLE | APPEND) != 0 {
                return Err(Errno::EPERM);
            }
            a.nlink += 1;
            a.ctime = now;
        }
        d.insert(
            name.into(),
            Child {
                node: target.clone(),
                charge,
            },
        );
        dir.touch(now, false, true, true);
        Ok(())
    }

    /// Removes the non-directory `name` (EPERM for a directory, as in
    /// NetBSD's tmpfs).
    pub fn remove(&self, dir: &Arc<Node>, name: &[u8]) -> KResult<()> {
        let lock = dir.dir()?;
        check_name(name)?;
        if is_dot(name) {
            return Err(Errno::EINVAL);
        }
        let mut d = lock.write();
        let node = d
            .get(name)
            .map(|e| e.value.node.clone())
            .ok_or(Errno::ENOENT)?;
        if node.is_dir() {
            return Err(Errno::EPERM);
        }
        let dflags = dir.attr.lock().flags;
        let now = Timespec::now();
        {
            let mut a = node.attr.lock();
            if a.flags & (IMMUTABLE | APPEND) != 0 || dflags & APPEND != 0 {
                return Err(Errno::EPERM);
            }
            a.nlink = a.nlink.saturating_sub(1);
            if a.nlink > 0 {
                a.ctime = now;
            }
        }
        let removed = d.remove(name);
        dir.touch(now, false, true, true);
        drop(d);
        drop(removed);
        Ok(())
    }

    /// Removes the empty directory `name`.
    pub fn rmdir(&self, dir: &Arc<Node>, name: &[u8]) -> KResult<()> {
        let lock = dir.dir()?;
        check_name(name)?;
        if is_dot(name) {
            return Err(Errno::EINVAL);
        }
        let _ns = self.ns.lock();
        let mut d = lock.write();
        let node = d
            .get(name)
            .map(|e| e.value.node.clone())
            .ok_or(Errno::ENOENT)?;
        let clock = node.dir()?;
        let mut c = clock.write();
        if !c.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let dflags = dir.attr.lock().flags;
        let now = Timespec::now();
        {
            let mut a = node.attr.lock();
            if dflags & APPEND != 0 || a.flags & (IMMUTABLE | APPEND) != 0 {
                return Err(Errno::EPERM);
            }
            a.nlink = 0;
        }
        c.unlinked = true;
        drop(c);
        *node.parent.lock() = Weak::new();
        let removed = d.remove(name);
        {
            let mut a = dir.attr.lock();
            a.nlink = a.nlink.saturating_sub(1);
            a.mtime = now;
            a.ctime = now;
        }
        drop(d);
        drop(removed);
        Ok(())
    }

    /// Up to `max` entries of `dir` from `cookie` on.
    pub fn readdir(&self, dir: &Arc<Node>, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        let lock = dir.dir()?;
        let d = lock.read();
        let items = d.read(cookie, max).ok_or(Errno::EINVAL)?;
        let entry = |fileno: u64, vtype: VType, name: &[u8], next: i64| DirEntry {
            fileno,
            dtype: vtype.dtype(),
            name: name.to_vec().into(),
            next,
        };
        let mut out = Vec::with_capacity(items.len());
        for (item, next) in items {
            out.push(match item {
                Item::Dot => entry(dir.id, VType::Dir, b".", next),
                Item::DotDot => {
                    let parent = dir.parent.lock().upgrade().map_or(dir.id, |p| p.id);
                    entry(parent, VType::Dir, b"..", next)
                }
                Item::Entry(e) => entry(e.value.node.id, e.value.node.vtype, &e.name, next),
            });
        }
        let unlinked = d.unlinked;
        drop(d);
        if !unlinked {
            dir.touch(Timespec::now(), true, false, false);
        }
        Ok(out)
    }

    /// Sizes and counts for statvfs.
    pub fn statvfs(&self) -> FsStats {
        let u = self.acct.usage();
        let blocks = u.limits.size_max.unwrap_or(UNLIMITED_BYTES) / PAGE_SIZE;
        let bfree = blocks.saturating_sub(u.pages());
        let ffree = u.limits.nodes_max.saturating_sub(u.nodes);
        FsStats {
            bsize: PAGE_SIZE,
            frsize: PAGE_SIZE,
            iosize: PAGE_SIZE,
            blocks,
            bfree,
            bavail: bfree,
            bresvd: 0,
            files: u.limits.nodes_max,
            ffree,
            favail: ffree,
            fresvd: 0,
            namemax: NAME_MAX_FS as u64,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.acct.usage().limits
    }

    /// Tears the tree down and returns all memory. Nodes that vnodes
    /// still reference stay as empty husks; every operation on them fails
    /// with EIO from now on.
    pub fn unmount(&self) {
        let _ns = self.ns.lock();
        let Some(root) = self.root.write().take() else {
            return;
        };
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            match &n.kind {
                Kind::Dir(d) => {
                    let mut g = d.write();
                    g.unlinked = true;
                    stack.extend(g.drain().into_iter().map(|e| e.value.node));
                }
                Kind::Reg(_) => n.clear_data(),
                _ => {}
            }
            *n.parent.lock() = Weak::new();
        }
        self.acct.release_all();
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A mount on a stand-in accountant, and small helpers.

    use super::*;
    use crate::mem::testing::FakeMem;

    pub fn mount(size: Option<u64>, nodes: u64) -> (Arc<FakeMem>, Arc<Fs>) {
        let fake = FakeMem::new(None);
        let acct = Accountant::new(
            fake.clone(),
            Limits {
                size_max: size,
                nodes_max: nodes,
            },
        );
        (fake, Fs::new(acct, 0xab01, 0, 0, 0o1777).unwrap())
    }

    pub fn nlink(n: &Arc<Node>) -> u32 {
        n.attr.lock().nlink
    }

    pub fn ls(fs: &Fs, dir: &Arc<Node>) -> Vec<String> {
        fs.readdir(dir, 0, 1000)
            .unwrap()
            .into_iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{ls, mount, nlink};
    use super::*;
    use crate::dir::DIRENT_SIZE;
    use crate::mem::testing::FakeMem;
    use crate::mem::{ENTRY_COST, NODE_COST};
    use rump_plugin_api::abi::stat::S_IFDIR;

    #[test]
    fn fresh_mount_statvfs_matches_netbsd() {
        let (fake, fs) = mount(Some(1 << 20), 100);
        let s = fs.statvfs();
        assert_eq!((s.blocks, s.bfree, s.bavail), (256, 255, 255));
        assert_eq!((s.files, s.ffree, s.favail), (100, 99, 99));
        assert_eq!(
            (s.bsize, s.frsize, s.iosize, s.namemax),
            (4096, 4096, 4096, 255)
        );
        let root = fs.root().unwrap();
        let st = root.stat(fs.fsid);
        assert_eq!(st.mode, S_IFDIR | 0o1777);
        assert_eq!((st.ino, st.nlink, st.size, st.dev), (2, 2, 0, 0xab01));
        assert_eq!(fake.used(), NODE_COST);
        fs.unmount();
        assert_eq!(fake.used(), 0);
    }

    #[test]
    fn create_lookup_and_errors() {
        let (_, fs) = mount(None, 1000);
        let root = fs.root().unwrap();
        let f = fs.create(&root, b"f", S_IFREG | 0o644, 0).unwrap();
        assert_eq!(f.id, 3);
        assert!(Arc::ptr_eq(&fs.lookup(&root, b"f").unwrap(), &f));
        assert_eq!(fs.create(&root, b"f", 0o644, 0).err(), Some(Errno::EEXIST));
        assert_eq!(fs.mkdir(&root, b"f", 0o755).err(), Some(Errno::EEXIST));
        assert_eq!(fs.lookup(&root, b"g").err(), Some(Errno::ENOENT));
        let long = [b'x'; 256];
        assert_eq!(fs.lookup(&root, &long).err(), Some(Errno::ENAMETOOLONG));
        assert_eq!(
            fs.create(&root, &long, 0o644, 0).err(),
            Some(Errno::ENAMETOOLONG)
        );
        fs.create(&root, &long[..255], 0o644, 0).unwrap();
        assert_eq!(fs.lookup(&f, b"x").err(), Some(Errno::ENOTDIR));
        assert_eq!(fs.create(&f, b"x", 0o644, 0).err(), Some(Errno::ENOTDIR));
        let dev = fs.create(&root, b"dev", S_IFBLK | 0o600, 0x305).unwrap();
        assert_eq!(dev.stat(0).rdev, 0x305);
        assert_eq!(dev.vtype, VType::Blk);
        let fifo = fs.create(&root, b"fifo", S_IFIFO | 0o600, 0).unwrap();
        assert_eq!(fifo.vtype, VType::Fifo);
        let sock = fs.create(&root, b"sock", S_IFSOCK | 0o600, 0).unwrap();
        assert_eq!(sock.vtype, VType::Sock);
        let l = fs.symlink(&root, b"l", b"f", 0o777).unwrap();
        assert_eq!(l.readlink().unwrap(), b"f");
        assert_eq!(root.stat(0).size, 6 * DIRENT_SIZE as i64);
        let d = fs.mkdir(&root, b"d", 0o755).unwrap();
        assert!(Arc::ptr_eq(&fs.lookup(&d, b"..").unwrap(), &root));
        assert!(Arc::ptr_eq(&fs.lookup(&d, b".").unwrap(), &d));
        assert!(Arc::ptr_eq(&fs.lookup(&root, b"..").unwrap(), &root));
    }

    #[test]
    fn link_counts() {
        let (_, fs) = mount(None, 1000);
        let root = fs.root().unwrap();
        let a = fs.mkdir(&root, b"a", 0o755).unwrap();
        let b = fs.mkdir(&root, b"b", 0o755).unwrap();
        fs.mkdir(&a, b"c", 0o755).unwrap();
        assert_eq!((nlink(&root), nlink(&a), nlink(&b)), (4, 3, 2));
        let f = fs.create(&a, b"f", 0o644, 0).unwrap();
        fs.link(&b, b"g", &f).unwrap();
        fs.link(&root, b"h", &f).unwrap();
        assert_eq!(nlink(&f), 3);
        assert_eq!(fs.link(&root, b"h", &f), Err(Errno::EEXIST));
        assert_eq!(fs.link(&root, b"x", &a), Err(Errno::EPERM));
        fs.remove(&a, b"f").unwrap();
        assert_eq!(nlink(&f), 2);
        assert_eq!(fs.remove(&root, b"a"), Err(Errno::EPERM));
        assert_eq!(fs.rmdir(&root, b"h"), Err(Errno::ENOTDIR));
        assert_eq!(fs.rmdir(&root, b"a"), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.rmdir(&root, b"zz"), Err(Errno::ENOENT));
        fs.rmdir(&a, b"c").unwrap();
        assert_eq!(nlink(&a), 2);
        fs.rmdir(&root, b"a").unwrap();
        assert_eq!((nlink(&root), nlink(&a)), (3, 0));
        // A removed directory reads empty and takes nothing new.
        assert!(fs.readdir(&a, 0, 10).unwrap().is_empty());
        assert_eq!(fs.create(&a, b"n", 0o644, 0).err(), Some(Errno::ENOENT));
        assert_eq!(fs.lookup(&a, b"..").err(), Some(Errno::ENOENT));
    }

    #[test]
    fn unlinked_files_live_while_referenced() {
        let (fake, fs) = mount(None, 1000);
        let root = fs.root().unwrap();
        let f = fs.create(&root, b"f", 0o644, 0).unwrap();
        f.write(0, &[1; 10_000], false).unwrap();
        let used = fake.used();
        fs.remove(&root, b"f").unwrap();
        assert_eq!(nlink(&f), 0);
        assert_eq!(fake.used(), used - ENTRY_COST - 1);
        f.write(10_000, b"more", false).unwrap();
        assert_eq!(f.read(9_998, 10).unwrap(), [1, 1, b'm', b'o', b'r', b'e']);
        drop(f);
        assert_eq!(fake.used(), NODE_COST);
        assert_eq!(fs.acct.usage().nodes, 1);
    }

    #[test]
    fn readdir_order_and_cookies() {
        let (_, fs) = mount(None, 1000);
        let root = fs.root().unwrap();
        let d = fs.mkdir(&root, b"d", 0o755).unwrap();
        for n in ["x", "y", "z"] {
            fs.create(&d, n.as_bytes(), 0o644, 0).unwrap();
        }
        let all = fs.readdir(&d, 0, 100).unwrap();
        let cookies: Vec<i64> = all.iter().map(|e| e.next).collect();
        assert_eq!(cookies, [1, 3, 4, 5, 2]);
        assert_eq!(all[0].fileno, d.id);
        assert_eq!(all[1].fileno, root.id);
        assert_eq!(all[1].dtype, 4);
        assert_eq!(all[2].dtype, 8);
        // Remove the next entry while reading.
        let first = fs.readdir(&d, 0, 3).unwrap();
        assert_eq!(first.last().unwrap().next, 4);
        fs.remove(&d, b"y").unwrap();
        let rest = fs.readdir(&d, 4, 100).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(&rest[0].name[..], b"z");
        assert!(fs.readdir(&d, 2, 100).unwrap().is_empty());
        assert_eq!(fs.readdir(&d, -5, 100).err(), Some(Errno::EINVAL));
    }

    #[test]
    fn enospc_leaves_no_half_created_entry() {
        // Room for the root and one more node.
        let (fake, fs) = mount(None, 2);
        let root = fs.root().unwrap();
        fs.create(&root, b"one", 0o644, 0).unwrap();
        let used = fake.used();
        assert_eq!(
            fs.create(&root, b"two", 0o644, 0).err(),
            Some(Errno::ENOSPC)
        );
        assert_eq!(fs.mkdir(&root, b"two", 0o755).err(), Some(Errno::ENOSPC));
        assert_eq!(fake.used(), used);
        assert_eq!(ls(&fs, &root), [".", "..", "one"]);
        assert_eq!(nlink(&root), 2);

        // Room for the node but not its entry.
        let (fake, fs) = mount(Some(2 * NODE_COST + ENTRY_COST), 100);
        let root = fs.root().unwrap();
        let used = fake.used();
        assert_eq!(fs.create(&root, b"n", 0o644, 0).err(), Some(Errno::ENOSPC));
        assert_eq!(fake.used(), used);
        assert_eq!(fs.acct.usage().nodes, 1);
        assert!(fs.lookup(&root, b"n").is_err());
        assert_eq!(root.stat(0).size, 0);
        // A link that does not fit.
        let (_, fs) = mount(Some(2 * NODE_COST + ENTRY_COST + 1), 100);
        let root = fs.root().unwrap();
        let f = fs.create(&root, b"f", 0o644, 0).unwrap();
        assert_eq!(fs.link(&root, b"g", &f), Err(Errno::ENOSPC));
        assert_eq!(nlink(&f), 1);
        // A rename to a longer name that does not fit changes nothing.
        assert_eq!(fs.rename(&root, b"f", &root, b"ff"), Err(Errno::ENOSPC));
        assert!(fs.lookup(&root, b"f").is_ok());
        fs.rename(&root, b"f", &root, b"g").unwrap();
    }

    #[test]
    fn kernel_refusal_is_enospc() {
        let fake = FakeMem::new(Some(NODE_COST + 10));
        let acct = Accountant::new(
            fake.clone(),
            Limits {
                size_max: None,
                nodes_max: 10,
            },
        );
        let fs = Fs::new(acct, 1, 0, 0, 0o755).unwrap();
        let root = fs.root().unwrap();
        assert_eq!(fs.create(&root, b"x", 0o644, 0).err(), Some(Errno::ENOSPC));
        assert_eq!(fake.used(), NODE_COST);
    }

    #[test]
    fn unmount_returns_everything_even_with_open_files() {
        let (fake, fs) = mount(None, 100_000);
        let root = fs.root().unwrap();
        let mut dir = root.clone();
        for i in 0..2000 {
            dir = fs.mkdir(&dir, format!("d{i}").as_bytes(), 0o755).unwrap();
        }
        let f = fs.create(&dir, b"f", 0o644, 0).unwrap();
        f.write(0, &[9; 100_000], false).unwrap();
        drop(dir);
        assert!(fake.used() > 0);
        fs.unmount();
        assert_eq!(fake.used(), 0);
        assert_eq!(fs.alive(), Err(Errno::EIO));
        assert_eq!(f.write(0, b"x", false), Err(Errno::EIO));
        drop(f);
        drop(root);
        assert_eq!(fake.used(), 0);
    }

    #[test]
    fn dropping_a_deep_tree_does_not_recurse() {
        let (fake, fs) = mount(None, 1_000_000);
        let root = fs.root().unwrap();
        let top = fs.mkdir(&root, b"top", 0o755).unwrap();
        let mut dir = top.clone();
        for _ in 0..100_000 {
            dir = fs.mkdir(&dir, b"d", 0o755).unwrap();
        }
        drop(dir);
        // Take the subtree out of the tree by hand: the last reference
        // frees 100,000 levels.
        let entry = root.dir().unwrap().write().remove(b"top");
        drop(entry);
        drop(top);
        assert_eq!(fake.used(), NODE_COST);
    }

    /// Walks the tree, checks link counts and parent pointers, and
    /// returns what the tree should have charged: (bytes, nodes).
    fn audit(fs: &Fs) -> (u64, u64) {
        use std::collections::HashMap;
        let root = fs.root().unwrap();
        let mut refs: HashMap<u64, (Arc<Node>, u32)> = HashMap::new();
        let mut bytes = 0;
        let mut stack = vec![root.clone()];
        refs.insert(root.id, (root.clone(), 0));
        while let Some(dir) = stack.pop() {
            let d = dir.dir().unwrap().read();
            let mut subdirs = 0;
            for e in d.iter() {
                let n = &e.value.node;
                bytes += entry_cost(&e.name);
                assert_eq!(e.value.charge.bytes(), entry_cost(&e.name));
                if n.is_dir() {
                    subdirs += 1;
                    let p = n.parent.lock().upgrade().unwrap();
                    assert!(Arc::ptr_eq(&p, &dir));
                    stack.push(n.clone());
                }
                refs.entry(n.id).or_insert_with(|| (n.clone(), 0)).1 += 1;
            }
            assert_eq!(nlink(&dir), 2 + subdirs, "directory {}", dir.id);
        }
        for (n, count) in refs.values() {
            bytes += NODE_COST;
            match &n.kind {
                Kind::Reg(d) => {
                    bytes += d.read().charged() * PAGE_SIZE;
                    assert_eq!(nlink(n), *count);
                }
                Kind::Lnk(t) => bytes += t.len() as u64,
                Kind::Dir(_) => assert!(n.id == root.id || *count == 1),
                _ => {}
            }
        }
        (bytes, refs.len() as u64)
    }

    #[test]
    fn concurrent_operations_keep_the_tree_consistent() {
        let (fake, fs) = mount(None, 100_000);
        let root = fs.root().unwrap();
        for i in 0..4 {
            fs.mkdir(&root, format!("d{i}").as_bytes(), 0o755).unwrap();
        }
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let fs = &fs;
                let root = &root;
                s.spawn(move || {
                    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (t * 0x1234_5678 + 1);
                    let mut rnd = move |n: u64| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x % n
                    };
                    let pick = |r: u64| match r {
                        0 => root.clone(),
                        r => fs
                            .lookup(root, format!("d{}", r - 1).as_bytes())
                            .unwrap_or_else(|_| root.clone()),
                    };
                    for _ in 0..4000 {
                        let d = pick(rnd(5));
                        let name = format!("n{}", rnd(6));
                        let name = name.as_bytes();
                        match rnd(9) {
                            0 => {
                                let _ = fs.create(&d, name, 0o644, 0);
                            }
                            1 => {
                                let _ = fs.mkdir(&d, name, 0o755);
                            }
                            2 => {
                                let _ = fs.remove(&d, name);
                            }
                            3 => {
                                let _ = fs.rmdir(&d, name);
                            }
                            4 | 5 => {
                                let d2 = pick(rnd(5));
                                let to = format!("n{}", rnd(6));
                                let _ = fs.rename(&d, name, &d2, to.as_bytes());
                            }
                            6 => {
                                let _ = fs.readdir(&d, 0, 100);
                            }
                            7 => {
                                if let Ok(n) = fs.lookup(&d, name) {
                                    let _ = n.write(rnd(10_000), b"data", rnd(2) == 0);
                                }
                            }
                            _ => {
                                let d2 = pick(rnd(5));
                                if let Ok(n) = fs.lookup(&d, name) {
                                    let l = format!("n{}", rnd(6));
                                    let _ = fs.link(&d2, l.as_bytes(), &n);
                                }
                            }
                        }
                    }
                });
            }
        });
        let (bytes, nodes) = audit(&fs);
        assert!(nodes > 5);
        let u = fs.acct.usage();
        assert_eq!((u.bytes, u.nodes), (bytes, nodes));
        assert_eq!(fake.used(), bytes);
        fs.unmount();
        assert_eq!(fake.used(), 0);
    }

    #[test]
    fn hundred_thousand_entries() {
        let (_, fs) = mount(None, 200_000);
        let root = fs.root().unwrap();
        for i in 0..100_000 {
            fs.create(&root, format!("file-{i}").as_bytes(), 0o644, 0)
                .unwrap();
        }
        for i in (0..100_000).step_by(997) {
            fs.lookup(&root, format!("file-{i}").as_bytes()).unwrap();
        }
        let mut cookie = 0;
        let mut n = 0;
        loop {
            let batch = fs.readdir(&root, cookie, 500).unwrap();
            let Some(last) = batch.last() else { break };
            cookie = last.next;
            n += batch.len();
        }
        assert_eq!(n, 100_002);
        assert_eq!(root.stat(0).size, 100_000 * DIRENT_SIZE as i64);
        for i in 0..100_000 {
            fs.remove(&root, format!("file-{i}").as_bytes()).unwrap();
        }
        assert_eq!(fs.acct.usage().nodes, 1);
    }
}
