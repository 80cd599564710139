//! A node (an inode): its attributes and its contents by type, and the
//! operations that touch one node only (attributes, file I/O, readlink).
//!
//! Locks, outermost first: a node's contents lock (file data or directory,
//! see [`crate::fs`] for the order among directories), then its `parent`
//! or `attr` mutex, which are leaves: nothing else is locked while one is
//! held, except the accountant's own leaf lock.
//!
//! A node returns its memory (its node charge, a link's target, a file's
//! pages) when the last reference to it goes, whether that was its last
//! directory entry or the last vnode of an unlinked file.

use crate::data::{FileData, MAX_FILE_SIZE};
use crate::dir::Dir;
use crate::mem::{Accountant, Charge, NODE_COST, PAGE_SIZE};
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::stat::{Stat, Timespec, ALLPERMS, NODEV};
use rump_plugin_api::abi_stable::std_types::ROption;
use rump_plugin_api::vfs::{SetAttr, VType, Written};
use rump_plugin_api::{Errno, KResult};
use std::sync::{Arc, Weak};

/// Most links to one node (NetBSD's LINK_MAX).
pub const LINK_MAX: u32 = 32767;

const UF_IMMUTABLE: u32 = 0x0000_0002;
const UF_APPEND: u32 = 0x0000_0004;
const SF_IMMUTABLE: u32 = 0x0002_0000;
const SF_APPEND: u32 = 0x0004_0000;
/// Flags that forbid any change.
pub const IMMUTABLE: u32 = UF_IMMUTABLE | SF_IMMUTABLE;
/// Flags that forbid anything but appending.
pub const APPEND: u32 = UF_APPEND | SF_APPEND;

/// `VNOVAL` in a uid or gid: leave it alone.
const VNOVAL: u32 = u32::MAX;

/// What a directory entry holds: the node and the entry's charge.
pub struct Child {
    pub node: Arc<Node>,
    pub charge: Charge,
}

/// The attributes every node has.
#[derive(Clone, Debug)]
pub struct Attr {
    /// Permission bits (07777).
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub flags: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub birthtime: Timespec,
}

impl Attr {
    /// EPERM if the flags forbid changes.
    fn check_changeable(&self) -> KResult<()> {
        if self.flags & (IMMUTABLE | APPEND) != 0 {
            Err(Errno::EPERM)
        } else {
            Ok(())
        }
    }
}

/// A node's contents.
pub enum Kind {
    Reg(RwLock<FileData>),
    Dir(RwLock<Dir<Child>>),
    Lnk(Box<[u8]>),
    /// A block or character device: its number.
    Dev(u64),
    /// A fifo or a socket: nothing but attributes.
    Special,
}

/// The kind of node to make.
pub enum NewKind<'a> {
    Reg,
    Dir,
    Lnk(&'a [u8]),
    Dev(VType, u64),
    Special(VType),
}

impl NewKind<'_> {
    fn vtype(&self) -> VType {
        match self {
            NewKind::Reg => VType::Reg,
            NewKind::Dir => VType::Dir,
            NewKind::Lnk(_) => VType::Lnk,
            NewKind::Dev(t, _) | NewKind::Special(t) => *t,
        }
    }
}

/// A file, directory, link, device, fifo or socket.
pub struct Node {
    pub id: u64,
    pub vtype: VType,
    acct: Arc<Accountant>,
    /// What was charged for the node itself (and a link's target).
    cost: u64,
    pub attr: Mutex<Attr>,
    /// A directory's parent (itself for the root; none once removed).
    pub parent: Mutex<Weak<Node>>,
    pub kind: Kind,
}

/// What a new node starts with.
pub struct NodeInit<'a> {
    pub id: u64,
    pub kind: NewKind<'a>,
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub now: Timespec,
}

fn round_page_blocks(size: u64) -> u64 {
    size.div_ceil(PAGE_SIZE) * (PAGE_SIZE / 512)
}

impl Node {
    /// Charges and makes a node whose parent is `parent` (or, when
    /// `None`, itself: a root). ENOSPC when the mount is full.
    pub fn new(
        acct: &Arc<Accountant>,
        init: NodeInit<'_>,
        parent: Option<Weak<Node>>,
    ) -> KResult<Arc<Node>> {
        let extra = match init.kind {
            NewKind::Lnk(t) => t.len() as u64,
            _ => 0,
        };
        let cost = NODE_COST + extra;
        acct.reserve_node(cost)?;
        let vtype = init.kind.vtype();
        let kind = match init.kind {
            NewKind::Reg => Kind::Reg(RwLock::new(FileData::default())),
            NewKind::Dir => Kind::Dir(RwLock::new(Dir::default())),
            NewKind::Lnk(t) => Kind::Lnk(t.into()),
            NewKind::Dev(_, rdev) => Kind::Dev(rdev),
            NewKind::Special(_) => Kind::Special,
        };
        let attr = Attr {
            perm: init.perm & ALLPERMS,
            uid: init.uid,
            gid: init.gid,
            // A directory also links to itself through ".".
            nlink: if vtype == VType::Dir { 2 } else { 1 },
            flags: 0,
            atime: init.now,
            mtime: init.now,
            ctime: init.now,
            birthtime: init.now,
        };
        let make = |parent: Weak<Node>| Node {
            id: init.id,
            vtype,
            acct: acct.clone(),
            cost,
            attr: Mutex::new(attr),
            parent: Mutex::new(parent),
            kind,
        };
        Ok(match parent {
            Some(p) => Arc::new(make(p)),
            None => Arc::new_cyclic(|me| make(me.clone())),
        })
    }

    /// The directory contents, or ENOTDIR.
    pub fn dir(&self) -> KResult<&RwLock<Dir<Child>>> {
        match &self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.vtype == VType::Dir
    }

    /// Sets the time stamps named to `now`.
    pub fn touch(&self, now: Timespec, atime: bool, mtime: bool, ctime: bool) {
        let mut a = self.attr.lock();
        if atime {
            a.atime = now;
        }
        if mtime {
            a.mtime = now;
        }
        if ctime {
            a.ctime = now;
        }
    }

    /// `struct stat`, with `st_dev` = `fsid`.
    pub fn stat(&self, fsid: u64) -> Stat {
        let (size, blocks) = match &self.kind {
            Kind::Reg(d) => {
                let d = d.read();
                (d.size(), d.pages() * (PAGE_SIZE / 512))
            }
            Kind::Dir(d) => {
                let size = d.read().size();
                (size, round_page_blocks(size))
            }
            Kind::Lnk(t) => (t.len() as u64, round_page_blocks(t.len() as u64)),
            Kind::Dev(_) | Kind::Special => (0, 0),
        };
        let rdev = match self.kind {
            Kind::Dev(r) => r,
            _ => NODEV,
        };
        let a = self.attr.lock();
        Stat {
            dev: fsid,
            mode: self.vtype.mode_bits() | a.perm,
            ino: self.id,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            rdev,
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
            birthtime: a.birthtime,
            size: size as i64,
            blocks: blocks as i64,
            blksize: PAGE_SIZE as i32,
            flags: a.flags,
            gen: 0,
        }
    }

    /// Applies `sa` in NetBSD's order (flags, size, owner, mode, times);
    /// a step that fails leaves the earlier ones done, as in NetBSD.
    pub fn setattr(&self, sa: &SetAttr) -> KResult<()> {
        let now = Timespec::now();
        let mut data = match (&self.kind, &sa.size) {
            (Kind::Reg(d), ROption::RSome(_)) => Some(d.write()),
            _ => None,
        };
        let mut a = self.attr.lock();
        if let ROption::RSome(flags) = sa.flags {
            a.flags = flags;
            a.ctime = now;
        }
        if let ROption::RSome(size) = sa.size {
            match self.vtype {
                VType::Dir => return Err(Errno::EISDIR),
                VType::Reg => {
                    a.check_changeable()?;
                    if size > MAX_FILE_SIZE {
                        return Err(Errno::EINVAL);
                    }
                    if let Some(d) = data.as_deref_mut() {
                        if d.size() != size {
                            let freed = d.truncate(size);
                            self.acct.release(freed * PAGE_SIZE);
                            a.mtime = now;
                            a.ctime = now;
                        }
                    }
                }
                // The size of a special file is the device's business.
                VType::Blk | VType::Chr | VType::Fifo => {}
                _ => return Err(Errno::EOPNOTSUPP),
            }
        }
        drop(data);
        let uid = sa.uid.into_option().filter(|&u| u != VNOVAL);
        let gid = sa.gid.into_option().filter(|&g| g != VNOVAL);
        if uid.is_some() || gid.is_some() {
            a.check_changeable()?;
            a.uid = uid.unwrap_or(a.uid);
            a.gid = gid.unwrap_or(a.gid);
            a.ctime = now;
        }
        if let ROption::RSome(mode) = sa.mode {
            a.check_changeable()?;
            a.perm = mode & ALLPERMS;
            a.ctime = now;
        }
        let times = [&sa.atime, &sa.mtime, &sa.birthtime];
        if times.iter().any(|t| t.is_some()) {
            a.check_changeable()?;
            let pick = |t: &ROption<Timespec>, old: Timespec| match t {
                ROption::RSome(t) if t.nsec == Timespec::UTIME_OMIT => old,
                ROption::RSome(t) if t.nsec == Timespec::UTIME_NOW => now,
                ROption::RSome(t) => *t,
                ROption::RNone => old,
            };
            a.atime = pick(&sa.atime, a.atime);
            a.mtime = pick(&sa.mtime, a.mtime);
            a.birthtime = pick(&sa.birthtime, a.birthtime);
            a.ctime = now;
        }
        Ok(())
    }

    /// Up to `len` bytes at `offset`.
    pub fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let d = match &self.kind {
            Kind::Reg(d) => d,
            Kind::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if offset > MAX_FILE_SIZE {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        let out = d.read().read(offset, len);
        self.touch(Timespec::now(), true, false, false);
        Ok(out)
    }

    /// Writes `buf` at `offset`, or at the end when `append`; all of it or
    /// nothing (ENOSPC, EFBIG).
    pub fn write(&self, offset: u64, buf: &[u8], append: bool) -> KResult<Written> {
        let d = match &self.kind {
            Kind::Reg(d) => d,
            Kind::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let mut d = d.write();
        let start = if append { d.size() } else { offset };
        if start > MAX_FILE_SIZE {
            return Err(Errno::EINVAL);
        }
        if buf.is_empty() {
            return Ok(Written {
                count: 0,
                end: start,
            });
        }
        let end = start
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Errno::EFBIG)?;
        // Huge extents charge up to 2 MiB ahead of the data; when that
        // does not fit, the write takes only the pages it fills.
        let reserve = |pages: u64| {
            self.acct.reserve(pages * PAGE_SIZE).or_else(|_| {
                // Extents made ready ahead may hold the memory needed.
                self.acct.supply().drain();
                self.acct.reserve(pages * PAGE_SIZE)
            })
        };
        let mut huge = true;
        let mut planned = d.charge_for_write(start, buf.len(), huge);
        if planned > 0 {
            if let Err(e) = reserve(planned) {
                let small = d.charge_for_write(start, buf.len(), false);
                if small == planned {
                    return Err(e);
                }
                reserve(small)?;
                (huge, planned) = (false, small);
            }
        }
        let charged = d.write(start, buf, huge.then(|| self.acct.supply()));
        if charged < planned {
            self.acct.release((planned - charged) * PAGE_SIZE);
        }
        drop(d);
        let now = Timespec::now();
        self.touch(now, false, true, true);
        Ok(Written {
            count: buf.len() as u64,
            end,
        })
    }

    /// A symbolic link's target.
    pub fn readlink(&self) -> KResult<Vec<u8>> {
        match &self.kind {
            Kind::Lnk(t) => {
                self.touch(Timespec::now(), true, false, false);
                Ok(t.to_vec())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Drops a file's pages (unmount), returning nothing to the
    /// accountant: the unmount returns everything at once.
    pub fn clear_data(&self) {
        if let Kind::Reg(d) = &self.kind {
            d.write().clear();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let mut bytes = self.cost;
        match &mut self.kind {
            Kind::Reg(d) => bytes += d.get_mut().clear() * PAGE_SIZE,
            Kind::Dir(d) => {
                // Free the subtree without recursing once per level.
                let mut stack: Vec<Arc<Node>> = d
                    .get_mut()
                    .drain()
                    .into_iter()
                    .map(|e| e.value.node)
                    .collect();
                while let Some(n) = stack.pop() {
                    if let Ok(mut n) = Arc::try_unwrap(n) {
                        if let Kind::Dir(d) = &mut n.kind {
                            stack.extend(d.get_mut().drain().into_iter().map(|e| e.value.node));
                        }
                    }
                }
            }
            _ => {}
        }
        self.acct.release_node(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::testing::FakeMem;
    use crate::mem::Limits;
    use rump_plugin_api::abi::stat::{S_IFCHR, S_IFREG};

    fn setup(size: Option<u64>) -> (Arc<FakeMem>, Arc<Accountant>) {
        let fake = FakeMem::new(None);
        let acct = Accountant::new(
            fake.clone(),
            Limits {
                size_max: size,
                nodes_max: 100,
            },
        );
        (fake, acct)
    }

    fn file(acct: &Arc<Accountant>) -> Arc<Node> {
        Node::new(
            acct,
            NodeInit {
                id: 7,
                kind: NewKind::Reg,
                perm: 0o100644,
                uid: 1,
                gid: 2,
                now: Timespec::now(),
            },
            Some(Weak::new()),
        )
        .unwrap()
    }

    #[test]
    fn file_io_charges_pages_and_frees_them() {
        let (fake, acct) = setup(None);
        let f = file(&acct);
        assert_eq!(fake.used(), NODE_COST);
        let w = f.write(5000, &[1; 100], false).unwrap();
        assert_eq!(
            w,
            Written {
                count: 100,
                end: 5100
            }
        );
        assert_eq!(fake.used(), NODE_COST + PAGE_SIZE);
        let w = f.write(0, b"xy", true).unwrap();
        assert_eq!(w.end, 5102);
        let st = f.stat(9);
        assert_eq!(st.size, 5102);
        assert_eq!(st.blocks, 8);
        assert_eq!(st.mode, S_IFREG | 0o644);
        assert_eq!(st.rdev, NODEV);
        assert_eq!(st.dev, 9);
        assert_eq!(f.read(5098, 10).unwrap(), [1, 1, b'x', b'y']);
        f.setattr(&SetAttr {
            size: ROption::RSome(0),
            ..SetAttr::default()
        })
        .unwrap();
        assert_eq!(fake.used(), NODE_COST);
        drop(f);
        assert_eq!(fake.used(), 0);
        assert_eq!(acct.usage().nodes, 0);
    }

    #[test]
    fn a_full_file_system_takes_every_page_even_past_2_mib() {
        // Room for 2 MiB + 16 pages: the first write past 2 MiB cannot
        // charge a whole huge extent, and takes only its own pages.
        let pages = 512 + 16;
        let (fake, acct) = setup(Some(NODE_COST + pages * PAGE_SIZE));
        let f = file(&acct);
        let block = vec![3u8; 64 << 10];
        let mut at = 0;
        while f.write(at, &block, false).is_ok() {
            at += block.len() as u64;
        }
        assert_eq!(at, pages * PAGE_SIZE);
        assert_eq!(fake.used(), NODE_COST + pages * PAGE_SIZE);
        assert_eq!(f.stat(0).blocks, (pages * PAGE_SIZE / 512) as i64);
        assert!(f.read(at - 10, 10).unwrap().iter().all(|&b| b == 3));
        drop(f);
        assert_eq!(fake.used(), 0);
    }

    #[test]
    fn huge_extents_are_charged_ahead_and_returned() {
        let (fake, acct) = setup(None);
        let f = file(&acct);
        f.write(0, &vec![1u8; (2 << 20) + 4096], false).unwrap();
        // (Extents made ready ahead are charged too; not counted here.)
        acct.supply().stop();
        // 2 MiB in heap extents, then a huge extent charged whole.
        assert_eq!(fake.used(), NODE_COST + (4 << 20));
        assert_eq!(f.stat(0).blocks, ((2 << 20) + 4096) / 512);
        drop(f);
        assert_eq!(fake.used(), 0);
    }

    #[test]
    fn enospc_leaves_the_file_as_it_was() {
        let (_, acct) = setup(Some(NODE_COST + PAGE_SIZE));
        let f = file(&acct);
        f.write(0, b"abc", false).unwrap();
        let before = f.stat(0);
        assert_eq!(f.write(10, &[7; 3 * 4096], false), Err(Errno::ENOSPC));
        let after = f.stat(0);
        assert_eq!(before.size, after.size);
        assert_eq!(before.blocks, after.blocks);
        assert_eq!(f.read(0, 100).unwrap(), b"abc");
        assert_eq!(f.write(1 << 62, b"x", false), Err(Errno::ENOSPC));
        assert_eq!(f.write(i64::MAX as u64, b"x", false), Err(Errno::EFBIG));
        assert_eq!(f.write(u64::MAX, b"x", false), Err(Errno::EINVAL));
        // Overwriting present pages needs no memory.
        f.write(1, b"ZZ", false).unwrap();
        assert_eq!(f.read(0, 3).unwrap(), b"aZZ");
    }

    #[test]
    fn setattr_follows_netbsd() {
        let (_, acct) = setup(None);
        let f = file(&acct);
        let old = f.stat(0);
        f.setattr(&SetAttr {
            mode: ROption::RSome(0o107755),
            uid: ROption::RSome(5),
            gid: ROption::RSome(VNOVAL),
            ..SetAttr::default()
        })
        .unwrap();
        let st = f.stat(0);
        assert_eq!(st.mode, S_IFREG | 0o7755);
        assert_eq!((st.uid, st.gid), (5, 2));
        assert!(st.ctime >= old.ctime);
        let t = Timespec {
            sec: 1_000_000_001,
            nsec: 111_111_000,
        };
        f.setattr(&SetAttr {
            atime: ROption::RSome(t),
            mtime: ROption::RSome(Timespec {
                sec: 5,
                nsec: Timespec::UTIME_OMIT,
            }),
            ..SetAttr::default()
        })
        .unwrap();
        let st2 = f.stat(0);
        assert_eq!(st2.atime, t);
        assert_eq!(st2.mtime, st.mtime);
        // Immutable files refuse changes.
        f.setattr(&SetAttr {
            flags: ROption::RSome(UF_IMMUTABLE),
            ..SetAttr::default()
        })
        .unwrap();
        let chmod = SetAttr {
            mode: ROption::RSome(0o600),
            ..SetAttr::default()
        };
        assert_eq!(f.setattr(&chmod), Err(Errno::EPERM));
        let dev = Node::new(
            &acct,
            NodeInit {
                id: 8,
                kind: NewKind::Dev(VType::Chr, 0x305),
                perm: 0o600,
                uid: 0,
                gid: 0,
                now: Timespec::now(),
            },
            Some(Weak::new()),
        )
        .unwrap();
        let trunc = SetAttr {
            size: ROption::RSome(0),
            ..SetAttr::default()
        };
        assert_eq!(dev.setattr(&trunc), Ok(()));
        assert_eq!(dev.stat(0).rdev, 0x305);
        assert_eq!(dev.stat(0).mode, S_IFCHR | 0o600);
        let lnk = Node::new(
            &acct,
            NodeInit {
                id: 9,
                kind: NewKind::Lnk(b"target"),
                perm: 0o755,
                uid: 0,
                gid: 0,
                now: Timespec::now(),
            },
            Some(Weak::new()),
        )
        .unwrap();
        assert_eq!(lnk.setattr(&trunc), Err(Errno::EOPNOTSUPP));
        assert_eq!(lnk.readlink().unwrap(), b"target");
        assert_eq!(lnk.stat(0).size, 6);
        assert_eq!(f.readlink(), Err(Errno::EINVAL));
        assert_eq!(lnk.read(0, 1), Err(Errno::EINVAL));
    }
}
