//! rename: moving an entry within a mount, replacing what is at the
//! target, with NetBSD's checks and their order (ENOENT, EINVAL for a
//! directory into its own subtree, a no-op for two links to one file,
//! ENOTEMPTY/ENOTDIR/EISDIR, EPERM for immutable or append-only nodes,
//! EMLINK, ENOSPC for the new name), all before anything changes.
//!
//! It takes the mount's name-space mutex, then both directories, then a
//! directory it replaces (see [`crate::fs`] for why that cannot deadlock).
//! An entry renamed within its directory keeps its place in readdir order;
//! one moved to another directory goes to the end there.

use crate::fs::{check_name, is_dot, Fs};
use crate::mem::{entry_cost, Charge};
use crate::node::{Node, APPEND, IMMUTABLE, LINK_MAX};
use rump_plugin_api::abi::stat::Timespec;
use rump_plugin_api::{Errno, KResult};
use std::sync::{Arc, Weak};

impl Fs {
    /// Whether `a` is `b` or one of its ancestors. Parent pointers only
    /// change under the name-space mutex, which the caller holds.
    fn is_ancestor_or_self(a: &Arc<Node>, b: &Arc<Node>) -> bool {
        let mut cur = b.clone();
        loop {
            if Arc::ptr_eq(&cur, a) {
                return true;
            }
            let parent = cur.parent.lock().upgrade();
            match parent {
                Some(p) if !Arc::ptr_eq(&p, &cur) => cur = p,
                _ => return false,
            }
        }
    }

    /// Moves `from` in `fdir` to `to` in `tdir`, replacing what is there.
    pub fn rename(
        &self,
        fdir: &Arc<Node>,
        from: &[u8],
        tdir: &Arc<Node>,
        to: &[u8],
    ) -> KResult<()> {
        let flock = fdir.dir()?;
        let tlock = tdir.dir()?;
        check_name(from)?;
        check_name(to)?;
        if is_dot(from) || is_dot(to) {
            return Err(Errno::EINVAL);
        }
        let same = Arc::ptr_eq(fdir, tdir);
        let _ns = self.ns.lock();
        let mut fguard = flock.write();
        let mut tguard = if same { None } else { Some(tlock.write()) };
        let fd = &mut *fguard;
        let mut td = tguard.as_deref_mut();

        let (src, old_cost) = fd
            .get(from)
            .map(|e| (e.value.node.clone(), e.value.charge.bytes()))
            .ok_or(Errno::ENOENT)?;
        if td.as_ref().is_some_and(|t| t.unlinked) {
            return Err(Errno::ENOENT);
        }
        let src_dir = src.is_dir();
        if src_dir && !same && Self::is_ancestor_or_self(&src, tdir) {
            return Err(Errno::EINVAL);
        }
        let target = match &td {
            Some(t) => t.get(to),
            None => fd.get(to),
        }
        .map(|e| e.value.node.clone());

        // Hold a replaced directory's lock until it is gone, so that no
        // entry appears in it meanwhile.
        let mut victim_dir = None;
        if let Some(t) = &target {
            if Arc::ptr_eq(t, &src) {
                // Two links to one file: nothing to do (POSIX).
                return Ok(());
            }
            match (src_dir, t.is_dir()) {
                (true, true) => {
                    // The source's own parent is not empty: it holds the source.
                    if Arc::ptr_eq(t, fdir) {
                        return Err(Errno::ENOTEMPTY);
                    }
                    let g = t.dir()?.write();
                    if !g.is_empty() {
                        return Err(Errno::ENOTEMPTY);
                    }
                    victim_dir = Some(g);
                }
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (false, false) => {}
            }
        }

        let fdflags = fdir.attr.lock().flags;
        let tdattr = tdir.attr.lock().clone();
        let sflags = src.attr.lock().flags;
        let tflags = target.as_ref().map_or(0, |t| t.attr.lock().flags);
        let clobber = target.is_some();
        if (fdflags | sflags) & (IMMUTABLE | APPEND) != 0
            || tdattr.flags & (IMMUTABLE | if clobber { APPEND } else { 0 }) != 0
            || (clobber && tflags & (IMMUTABLE | APPEND) != 0)
        {
            return Err(Errno::EPERM);
        }
        if src_dir && !same && !clobber && tdattr.nlink >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        let new_cost = entry_cost(to);
        let new_charge = if new_cost != old_cost {
            Some(Charge::new(&self.acct, new_cost)?)
        } else {
            None
        };

        // Everything is checked: make the change.
        let now = Timespec::now();
        let replaced = match td.as_deref_mut() {
            Some(t) => t.remove(to),
            None => fd.remove(to),
        };
        if let Some(t) = &replaced {
            let t = &t.value.node;
            if let Some(mut g) = victim_dir.take() {
                g.unlinked = true;
                t.attr.lock().nlink = 0;
                *t.parent.lock() = Weak::new();
                let mut a = tdir.attr.lock();
                a.nlink = a.nlink.saturating_sub(1);
            } else {
                let mut a = t.attr.lock();
                a.nlink = a.nlink.saturating_sub(1);
            }
        }
        match td {
            None => {
                fd.rename(from, to);
                if let (Some(c), Some(e)) = (new_charge, fd.get_mut(to)) {
                    e.value.charge = c;
                }
            }
            Some(t) => {
                if let Some(mut e) = fd.remove(from) {
                    if let Some(c) = new_charge {
                        e.value.charge = c;
                    }
                    t.insert(to.into(), e.value);
                }
                if src_dir {
                    {
                        let mut a = fdir.attr.lock();
                        a.nlink = a.nlink.saturating_sub(1);
                    }
                    tdir.attr.lock().nlink += 1;
                    *src.parent.lock() = Arc::downgrade(tdir);
                }
            }
        }
        fdir.touch(now, false, true, true);
        tdir.touch(now, false, true, true);
        src.touch(now, false, false, true);
        drop(tguard);
        drop(fguard);
        drop(replaced);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::fs::testing::{ls, mount, nlink};
    use rump_plugin_api::Errno;
    use std::sync::Arc;

    #[test]
    fn rename_cases() {
        let (fake, fs) = mount(None, 1000);
        let root = fs.root().unwrap();
        let a = fs.mkdir(&root, b"a", 0o755).unwrap();
        let b = fs.mkdir(&root, b"b", 0o755).unwrap();
        let f = fs.create(&a, b"f", 0o644, 0).unwrap();
        let g = fs.create(&a, b"g", 0o644, 0).unwrap();
        fs.create(&a, b"h", 0o644, 0).unwrap();

        // In place: keeps its position.
        fs.rename(&a, b"f", &a, b"f2").unwrap();
        assert_eq!(ls(&fs, &a), [".", "..", "f2", "g", "h"]);
        // File over file: the moved entry keeps its place.
        fs.rename(&a, b"f2", &a, b"h").unwrap();
        assert_eq!(ls(&fs, &a), [".", "..", "h", "g"]);
        assert!(Arc::ptr_eq(&fs.lookup(&a, b"h").unwrap(), &f));
        // Onto another link of itself: nothing happens.
        fs.link(&b, b"g2", &g).unwrap();
        fs.rename(&a, b"g", &b, b"g2").unwrap();
        assert_eq!(nlink(&g), 2);
        fs.rename(&a, b"g", &a, b"g").unwrap();
        // Across directories, with the directory's link counts.
        let sub = fs.mkdir(&a, b"sub", 0o755).unwrap();
        assert_eq!((nlink(&a), nlink(&b)), (3, 2));
        fs.rename(&a, b"sub", &b, b"sub").unwrap();
        assert_eq!((nlink(&a), nlink(&b)), (2, 3));
        assert!(Arc::ptr_eq(&fs.lookup(&sub, b"..").unwrap(), &b));
        let r = fs.readdir(&sub, 0, 10).unwrap();
        assert_eq!(r[1].fileno, b.id);
        // Directory over an empty directory.
        let e = fs.mkdir(&root, b"e", 0o755).unwrap();
        fs.rename(&b, b"sub", &root, b"e").unwrap();
        assert_eq!(nlink(&e), 0);
        assert_eq!((nlink(&root), nlink(&b)), (5, 2));
        assert!(Arc::ptr_eq(&fs.lookup(&root, b"e").unwrap(), &sub));
        // Directory over a non-empty directory, over a file; file over a directory.
        fs.create(&b, b"x", 0o644, 0).unwrap();
        assert_eq!(fs.rename(&root, b"e", &root, b"b"), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.rename(&root, b"e", &a, b"h"), Err(Errno::ENOTDIR));
        assert_eq!(fs.rename(&a, b"h", &root, b"e"), Err(Errno::EISDIR));
        // A directory into itself or below itself.
        assert_eq!(fs.rename(&root, b"e", &sub, b"x"), Err(Errno::EINVAL));
        let deep = fs.mkdir(&sub, b"deep", 0o755).unwrap();
        assert_eq!(fs.rename(&root, b"e", &deep, b"x"), Err(Errno::EINVAL));
        // A directory onto its own parent.
        assert_eq!(fs.rename(&sub, b"deep", &root, b"e"), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.rename(&a, b"missing", &b, b"y"), Err(Errno::ENOENT));
        // Name charges follow the new name.
        let before = fake.used();
        fs.rename(&a, b"h", &a, b"a-much-longer-name").unwrap();
        assert_eq!(fake.used(), before + 17);
        // Link counts add up.
        assert_eq!(nlink(&root), 2 + 3);
        assert_eq!(nlink(&sub), 3);
    }
}
