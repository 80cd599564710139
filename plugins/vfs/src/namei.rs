//! Path name lookup: from a starting directory through the components of
//! a path, following symbolic links, crossing mount points, matching etfs
//! keys at the root of rumpfs.

use crate::state::vfs;
use crate::vn::Vn;
use rump_plugin_api::abi::limits::NAME_MAX_FS;
use rump_plugin_api::vfs::VType;
use rump_plugin_api::{Errno, KResult};

/// Symbolic links followed in one lookup before ELOOP (MAXSYMLINKS).
pub const MAXSYMLINKS: usize = 32;

/// What a lookup is for; etfs keys take part in lookups and creations,
/// not in removals and renames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lookup,
    Create,
    Delete,
}

/// Where a lookup starts.
pub struct Start {
    /// The process's root directory (`/` and the limit of `..`).
    pub root: Vn,
    /// Where relative paths start (the working directory, or a dirfd).
    pub dir: Vn,
}

/// The last component of a path, for operations that create or remove.
pub enum Last {
    /// A name in the parent directory (possibly `.` or `..`).
    Name(Vec<u8>),
    /// The path is an etfs key: the node exists already.
    Key(Vn),
    /// The path has no last component (it is `/`).
    Root,
}

/// A resolved parent directory and the last component.
pub struct Parent {
    pub dir: Vn,
    pub last: Last,
    /// The path ended in a slash.
    pub trailing: bool,
}

enum Walked {
    Node(Vn),
    Parent(Parent),
}

/// Resolves `path` to a vnode, following a final symbolic link if
/// `follow`.
pub fn lookup(start: &Start, path: &[u8], follow: bool) -> KResult<Vn> {
    match walk(start, path, follow, false, Op::Lookup)? {
        Walked::Node(v) => Ok(v),
        Walked::Parent(_) => Err(Errno::EIO),
    }
}

/// Resolves all of `path` but its last component.
pub fn parent(start: &Start, path: &[u8], op: Op) -> KResult<Parent> {
    match walk(start, path, false, true, op)? {
        Walked::Parent(p) => Ok(p),
        Walked::Node(v) => Ok(Parent {
            dir: v,
            last: Last::Root,
            trailing: false,
        }),
    }
}

/// `..` from `cur`: stays at the process's root; at the root of a mounted
/// file system goes to the directory it is mounted on first.
fn dotdot(mut cur: Vn, root: &Vn) -> KResult<Vn> {
    loop {
        if cur.same(root) {
            return Ok(cur);
        }
        if !cur.is_mount_root() {
            break;
        }
        match &cur.mnt.covered {
            Some(c) => cur = c.clone(),
            None => return Ok(cur),
        }
    }
    let up = cur.obj.lookup(b"..".as_slice().into()).into_result()?;
    Ok(Vn::new(up, cur.mnt.clone()))
}

fn walk(start: &Start, path: &[u8], follow_last: bool, stop_last: bool, op: Op) -> KResult<Walked> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let v = vfs();
    let mut rest = path.to_vec();
    let mut pos = 0;
    let mut links = 0;
    let mut cur = if rest[0] == b'/' {
        start.root.clone()
    } else {
        start.dir.clone()
    };
    loop {
        while pos < rest.len() && rest[pos] == b'/' {
            pos += 1;
        }
        if pos == rest.len() {
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(if stop_last {
                Walked::Parent(Parent {
                    dir: cur,
                    last: Last::Root,
                    trailing: false,
                })
            } else {
                Walked::Node(cur)
            });
        }
        if op != Op::Delete && v.is_rumpfs_root(&cur) {
            if let Some((obj, used)) = v.etfs.lookup(&rest[pos..]) {
                let key = Vn::new(obj, cur.mnt.clone());
                pos += used;
                let done = rest[pos..].iter().all(|&b| b == b'/');
                if done {
                    let trailing = pos < rest.len();
                    if trailing && !key.is_dir() {
                        return Err(Errno::ENOTDIR);
                    }
                    return Ok(if stop_last {
                        Walked::Parent(Parent {
                            dir: cur,
                            last: Last::Key(key),
                            trailing,
                        })
                    } else {
                        Walked::Node(key)
                    });
                }
                cur = key;
                continue;
            }
        }
        let end = rest[pos..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(rest.len(), |i| pos + i);
        let comp = rest[pos..end].to_vec();
        let after = end + rest[end..].iter().take_while(|&&b| b == b'/').count();
        let is_last = after == rest.len();
        let trailing = is_last && end < rest.len();
        if comp.len() > NAME_MAX_FS {
            return Err(Errno::ENAMETOOLONG);
        }
        if is_last && stop_last {
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(Walked::Parent(Parent {
                dir: cur,
                last: Last::Name(comp),
                trailing,
            }));
        }
        pos = end;
        if comp == b"." {
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            continue;
        }
        if comp == b".." {
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            cur = dotdot(cur, &start.root)?;
            continue;
        }
        let obj = cur.obj.lookup(comp.as_slice().into()).into_result()?;
        let next = Vn::new(obj, cur.mnt.clone());
        if next.vtype() == VType::Lnk && (!is_last || follow_last || trailing) {
            links += 1;
            if links > MAXSYMLINKS {
                return Err(Errno::ELOOP);
            }
            let target: Vec<u8> = next.obj.readlink().into_result()?.into();
            if target.is_empty() {
                return Err(Errno::ENOENT);
            }
            let mut expanded = target.clone();
            expanded.extend_from_slice(&rest[end..]);
            rest = expanded;
            pos = 0;
            if target[0] == b'/' {
                cur = start.root.clone();
            }
            continue;
        }
        cur = v.mounts.cross(next);
        if is_last {
            if trailing && !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(Walked::Node(cur));
        }
    }
}
