//! The sysctl tree and the `__sysctl` syscall, with CTL_QUERY and
//! CTL_DESCRIBE as NetBSD's libc uses them to walk the tree by name.

use netbsd_abi::bytes::Reader;
use netbsd_abi::limits::CTL_MAXNAME;
use netbsd_abi::sysctl::*;
use netbsd_abi::Errno;
use parking_lot::RwLock;
use rump_plugin_api::SysctlData;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Numbers given to nodes created at run time start here (CREATE_BASE).
pub const CREATE_BASE: i32 = 1024;

/// The value behind a leaf.
pub trait Leaf: Send + Sync {
    fn get(&self) -> Result<SysctlData, Errno>;
    /// Stores a value of the same type; EPERM by default.
    fn set(&self, _value: SysctlData) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
}

/// A leaf whose value never changes.
pub struct Const(pub SysctlData);

impl Leaf for Const {
    fn get(&self) -> Result<SysctlData, Errno> {
        Ok(self.0.clone())
    }
}

/// A leaf computed on each read.
pub struct Computed<F>(pub F);

impl<F: Fn() -> SysctlData + Send + Sync> Leaf for Computed<F> {
    fn get(&self) -> Result<SysctlData, Errno> {
        Ok((self.0)())
    }
}

/// A writable string leaf.
pub struct StringVar {
    value: RwLock<String>,
    capacity: u64,
}

impl StringVar {
    pub fn new(value: String, capacity: u64) -> Self {
        StringVar {
            value: RwLock::new(value),
            capacity,
        }
    }
}

impl Leaf for StringVar {
    fn get(&self) -> Result<SysctlData, Errno> {
        Ok(SysctlData::String {
            value: self.value.read().as_str().into(),
            capacity: self.capacity,
        })
    }

    fn set(&self, v: SysctlData) -> Result<(), Errno> {
        match v {
            SysctlData::String { value, .. } => {
                *self.value.write() = value.into();
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        }
    }
}

enum Kind {
    Dir(Vec<Node>),
    Leaf(Arc<dyn Leaf>),
}

struct Node {
    num: i32,
    name: String,
    flags: u32,
    ver: u32,
    desc: String,
    /// For leaves: the value's size (string capacity, struct length).
    size: u64,
    kind: Kind,
}

fn data_type(d: &SysctlData) -> (u32, u64) {
    match d {
        SysctlData::Int(_) => (CTLTYPE_INT, 4),
        SysctlData::Quad(_) => (CTLTYPE_QUAD, 8),
        SysctlData::Bool(_) => (CTLTYPE_BOOL, 1),
        SysctlData::String { capacity, .. } => (CTLTYPE_STRING, *capacity),
        SysctlData::Struct(v) => (CTLTYPE_STRUCT, v.len() as u64),
    }
}

/// Bytes of a value as a read returns them (strings with their NUL).
fn data_bytes(d: &SysctlData) -> Vec<u8> {
    match d {
        SysctlData::Int(v) => v.to_le_bytes().to_vec(),
        SysctlData::Quad(v) => v.to_le_bytes().to_vec(),
        SysctlData::Bool(v) => vec![u8::from(*v)],
        SysctlData::String { value, .. } => {
            let mut b = value.as_bytes().to_vec();
            b.push(0);
            b
        }
        SysctlData::Struct(v) => v.to_vec(),
    }
}

impl Node {
    fn dir(num: i32, name: &str, flags: u32, ver: u32, desc: &str) -> Node {
        Node {
            num,
            name: name.into(),
            flags: SYSCTL_VERSION | CTLFLAG_PERMANENT | CTLTYPE_NODE | flags,
            ver,
            desc: desc.into(),
            size: SysctlNode::SIZE as u64,
            kind: Kind::Dir(Vec::new()),
        }
    }

    fn children(&self) -> &[Node] {
        match &self.kind {
            Kind::Dir(c) => c,
            Kind::Leaf(_) => &[],
        }
    }

    fn describe(&self) -> SysctlNode {
        let clen = self.children().len() as u32;
        SysctlNode {
            flags: self.flags,
            num: self.num,
            name: self.name.clone(),
            ver: self.ver,
            csize: clen,
            clen,
            qdata: 0,
            size: self.size,
        }
    }
}

/// Client memory access, as `__sysctl` needs it.
pub trait SysctlIo {
    fn copyin(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, Errno>;
    fn copyout(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno>;
}

/// The arguments of `__sysctl`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SysctlArgs {
    pub name: u64,
    pub namelen: u32,
    pub oldp: u64,
    pub oldlenp: u64,
    pub newp: u64,
    pub newlen: u64,
}

/// The kernel's sysctl tree.
pub struct SysctlTree {
    root: RwLock<Node>,
    ver: AtomicU32,
}

impl SysctlTree {
    /// A tree with NetBSD's top-level nodes.
    pub fn new() -> Self {
        let t = SysctlTree {
            root: RwLock::new(Node::dir(0, "", 0, 1, "")),
            ver: AtomicU32::new(1),
        };
        let top: [(i32, &str, &str); 13] = [
            (CTL_KERN, "kern", "High kernel"),
            (CTL_VM, "vm", "Virtual memory"),
            (CTL_VFS, "vfs", "Filesystem"),
            (CTL_NET, "net", "Networking"),
            (CTL_DEBUG, "debug", "Debugging"),
            (CTL_HW, "hw", "Generic CPU, I/O"),
            (CTL_MACHDEP, "machdep", "Machine dependent"),
            (CTL_USER, "user", "User-level"),
            (CTL_DDB, "ddb", "In-kernel debugger"),
            (CTL_PROC, "proc", "Per-process"),
            (CTL_VENDOR, "vendor", "Vendor specific"),
            (CTL_EMUL, "emul", "Emulation settings"),
            (CTL_SECURITY, "security", "Security"),
        ];
        for (num, name, desc) in top {
            let flags = if num == CTL_VENDOR {
                CTLFLAG_READWRITE
            } else {
                0
            };
            let ver = t.next_ver();
            if let Kind::Dir(c) = &mut t.root.write().kind {
                c.push(Node::dir(num, name, flags, ver, desc));
            }
        }
        t
    }

    fn next_ver(&self) -> u32 {
        self.ver.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Adds a leaf under the node named by `parent` (names from the top,
    /// e.g. `["kern"]`); `num` of `None` takes the next dynamic number.
    /// Missing intermediate nodes are created.
    pub fn add_leaf(
        &self,
        parent: &[&str],
        name: &str,
        num: Option<i32>,
        desc: &str,
        writable: bool,
        leaf: Arc<dyn Leaf>,
    ) -> Result<i32, Errno> {
        if name.is_empty() || name.len() >= SYSCTL_NAMELEN || parent.is_empty() {
            return Err(Errno::EINVAL);
        }
        let (ty, size) = data_type(&leaf.get()?);
        let ver = self.next_ver();
        let mut root = self.root.write();
        let mut dir = &mut *root;
        for part in parent {
            let Kind::Dir(children) = &mut dir.kind else {
                return Err(Errno::ENOTDIR);
            };
            let i = match children.iter().position(|c| c.name == *part) {
                Some(i) => i,
                None => {
                    let n = next_num(children);
                    children.push(Node::dir(n, part, 0, ver, ""));
                    children.len() - 1
                }
            };
            dir = &mut children[i];
        }
        let Kind::Dir(children) = &mut dir.kind else {
            return Err(Errno::ENOTDIR);
        };
        let num = num.unwrap_or_else(|| next_num(children));
        if children.iter().any(|c| c.name == name || c.num == num) {
            return Err(Errno::EEXIST);
        }
        let rw = if writable { CTLFLAG_READWRITE } else { 0 };
        children.push(Node {
            num,
            name: name.into(),
            flags: SYSCTL_VERSION | CTLFLAG_PERMANENT | ty | rw,
            ver,
            desc: desc.into(),
            size,
            kind: Kind::Leaf(leaf),
        });
        children.sort_by_key(|c| c.num);
        Ok(num)
    }

    /// Removes the leaf at a dotted path (when its component goes away).
    pub fn remove(&self, path: &[&str]) {
        let Some((last, parent)) = path.split_last() else {
            return;
        };
        let mut root = self.root.write();
        let mut dir = &mut *root;
        for part in parent {
            let Kind::Dir(children) = &mut dir.kind else {
                return;
            };
            match children.iter_mut().find(|c| c.name == *part) {
                Some(c) => dir = c,
                None => return,
            }
        }
        if let Kind::Dir(children) = &mut dir.kind {
            children.retain(|c| c.name != *last);
        }
    }

    /// The `__sysctl` syscall.
    pub fn syscall(&self, io: &mut dyn SysctlIo, a: SysctlArgs) -> Result<(), Errno> {
        let mut oldlen = 0u64;
        if a.oldlenp != 0 {
            oldlen = Reader::new(&io.copyin(a.oldlenp, 8)?).u64(0);
        }
        let savelen = oldlen;
        let namelen = a.namelen as usize;
        if !(1..=CTL_MAXNAME).contains(&namelen) {
            return Err(Errno::EINVAL);
        }
        let raw = io.copyin(a.name, namelen * 4)?;
        let name: Vec<i32> = (0..namelen).map(|i| Reader::new(&raw).i32(i * 4)).collect();
        let mut error = self.dispatch(io, &name, &a, &mut oldlen).err();
        if a.oldlenp != 0 {
            let r = io.copyout(a.oldlenp, &oldlen.to_le_bytes());
            if error.is_none() {
                error = r.err();
            }
        }
        if error.is_none() && a.oldp != 0 && savelen < oldlen {
            error = Some(Errno::ENOMEM);
        }
        error.map_or(Ok(()), Err)
    }

    fn dispatch(
        &self,
        io: &mut dyn SysctlIo,
        name: &[i32],
        a: &SysctlArgs,
        oldlen: &mut u64,
    ) -> Result<(), Errno> {
        let root = self.root.read();
        let mut node = &*root;
        for (i, &n) in name.iter().enumerate() {
            let last = i + 1 == name.len();
            match &node.kind {
                Kind::Leaf(_) => return Err(Errno::ENOTDIR),
                Kind::Dir(children) => match children.iter().find(|c| c.num == n) {
                    Some(c) => node = c,
                    None if last && n < 0 => return self.meta(io, node, n, a, oldlen),
                    None => return Err(Errno::ENOENT),
                },
            }
        }
        let Kind::Leaf(leaf) = &node.kind else {
            return Err(Errno::EINVAL);
        };
        let leaf = leaf.clone();
        let (flags, size) = (node.flags, node.size);
        drop(root);
        lookup(io, leaf.as_ref(), flags, size, a, oldlen)
    }

    fn meta(
        &self,
        io: &mut dyn SysctlIo,
        dir: &Node,
        op: i32,
        a: &SysctlArgs,
        oldlen: &mut u64,
    ) -> Result<(), Errno> {
        match op {
            CTL_QUERY => {
                let q = query_node(io, a)?;
                if q.ver != 0 && q.ver != dir.ver {
                    return Err(Errno::EINVAL);
                }
                let (mut out, mut left) = (0u64, *oldlen);
                for c in dir.children() {
                    let n = SysctlNode::SIZE as u64;
                    if a.oldp != 0 && left >= n {
                        io.copyout(a.oldp + out, &c.describe().encode())?;
                    }
                    out += n;
                    left = left.saturating_sub(n);
                }
                *oldlen = out;
                Ok(())
            }
            CTL_DESCRIBE => {
                let only = if a.newp != 0 {
                    let q = query_node(io, a)?;
                    if Reader::new(&q.raw).u64(88) != 0 {
                        return Err(Errno::EPERM);
                    }
                    Some(q.num)
                } else {
                    None
                };
                let (mut tot, mut left) = (0u64, *oldlen);
                for c in dir
                    .children()
                    .iter()
                    .filter(|c| only.is_none_or(|n| n == c.num))
                {
                    let rec = encode_desc(c.num, c.ver, &c.desc);
                    if a.oldp != 0 && left >= rec.len() as u64 {
                        io.copyout(a.oldp + tot, &rec)?;
                        left -= rec.len() as u64;
                    }
                    tot += rec.len() as u64;
                }
                if only.is_some() && tot == 0 {
                    return Err(Errno::ENOENT);
                }
                *oldlen = tot;
                Ok(())
            }
            CTL_CREATE | CTL_CREATESYM | CTL_DESTROY => {
                if a.newp == 0 {
                    Err(Errno::EINVAL)
                } else {
                    Err(Errno::EPERM)
                }
            }
            CTL_MMAP => Err(Errno::EOPNOTSUPP),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// Walks the tree: every leaf with its dotted name (for diagnostics).
    pub fn leaves(&self) -> Vec<(String, SysctlData)> {
        fn walk(n: &Node, prefix: &str, out: &mut Vec<(String, SysctlData)>) {
            for c in n.children() {
                let path = if prefix.is_empty() {
                    c.name.clone()
                } else {
                    format!("{prefix}.{}", c.name)
                };
                match &c.kind {
                    Kind::Dir(_) => walk(c, &path, out),
                    Kind::Leaf(l) => {
                        if let Ok(v) = l.get() {
                            out.push((path, v));
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root.read(), "", &mut out);
        out
    }
}

impl Default for SysctlTree {
    fn default() -> Self {
        Self::new()
    }
}

fn next_num(children: &[Node]) -> i32 {
    children
        .iter()
        .map(|c| c.num + 1)
        .filter(|&n| n > CREATE_BASE)
        .max()
        .unwrap_or(CREATE_BASE)
}

struct Query {
    num: i32,
    ver: u32,
    raw: Vec<u8>,
}

/// Reads the node a CTL_QUERY or CTL_DESCRIBE passes in `new`: first its
/// flags word, which must carry the sysctl version, then all of it.
fn query_node(io: &mut dyn SysctlIo, a: &SysctlArgs) -> Result<Query, Errno> {
    if a.newp == 0 || a.newlen < 4 {
        return Err(Errno::EINVAL);
    }
    let flags = Reader::new(&io.copyin(a.newp, 4)?).u32(0);
    if a.newlen != SysctlNode::SIZE as u64 || flags & SYSCTL_VERS_MASK != SYSCTL_VERSION {
        return Err(Errno::EINVAL);
    }
    let raw = io.copyin(a.newp, SysctlNode::SIZE)?;
    let n = SysctlNode::decode(&raw);
    Ok(Query {
        num: n.num,
        ver: n.ver,
        raw,
    })
}

/// Reads and optionally writes a leaf.
fn lookup(
    io: &mut dyn SysctlIo,
    leaf: &dyn Leaf,
    flags: u32,
    size: u64,
    a: &SysctlArgs,
    oldlen: &mut u64,
) -> Result<(), Errno> {
    let newp = if a.newlen == 0 { 0 } else { a.newp };
    if newp != 0 && flags & CTLFLAG_READWRITE == 0 {
        return Err(Errno::EPERM);
    }
    let current = leaf.get()?;
    let bytes = data_bytes(&current);
    if a.oldp != 0 {
        let n = (bytes.len() as u64).min(*oldlen) as usize;
        io.copyout(a.oldp, &bytes[..n])?;
    }
    *oldlen = bytes.len() as u64;
    if newp == 0 {
        return Ok(());
    }
    let value = match current {
        SysctlData::String { capacity, .. } => {
            if a.newlen > capacity {
                return Err(Errno::EINVAL);
            }
            let b = io.copyin(newp, a.newlen as usize)?;
            if b.last() != Some(&0) && a.newlen == capacity {
                return Err(Errno::EINVAL);
            }
            let s = b.split(|&c| c == 0).next().unwrap_or_default();
            SysctlData::String {
                value: String::from_utf8_lossy(s).as_ref().into(),
                capacity,
            }
        }
        other => {
            if a.newlen != size {
                return Err(Errno::EINVAL);
            }
            let b = io.copyin(newp, size as usize)?;
            let r = Reader::new(&b);
            match other {
                SysctlData::Int(_) => SysctlData::Int(r.i32(0)),
                SysctlData::Quad(_) => SysctlData::Quad(r.i64(0)),
                SysctlData::Bool(_) => match b[0] {
                    0 | 1 => SysctlData::Bool(b[0] == 1),
                    _ => return Err(Errno::EINVAL),
                },
                _ => SysctlData::Struct(b.into()),
            }
        }
    };
    leaf.set(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Client memory: a map from addresses to byte vectors.
    #[derive(Default)]
    struct Mem(HashMap<u64, Vec<u8>>, Vec<String>);

    impl SysctlIo for Mem {
        fn copyin(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
            self.1.push(format!("in {addr:#x} {len}"));
            let v = self.0.get(&addr).ok_or(Errno::EFAULT)?;
            Ok(v[..len.min(v.len())].to_vec())
        }
        fn copyout(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
            self.1.push(format!("out {addr:#x} {}", data.len()));
            // Writes that continue an earlier one extend its region.
            let base = self
                .0
                .keys()
                .copied()
                .find(|&b| b < addr && addr <= b + self.0[&b].len() as u64);
            match base {
                Some(b) => {
                    let v = self.0.get_mut(&b).unwrap();
                    let off = (addr - b) as usize;
                    v.truncate(off);
                    v.extend_from_slice(data);
                }
                None => {
                    self.0.insert(addr, data.to_vec());
                }
            }
            Ok(())
        }
    }

    const NAME: u64 = 0x100;
    const OLD: u64 = 0x200;
    const OLDLEN: u64 = 0x300;
    const NEW: u64 = 0x400;

    fn tree() -> SysctlTree {
        let t = SysctlTree::new();
        t.add_leaf(
            &["kern"],
            "ostype",
            Some(1),
            "type",
            false,
            Arc::new(Const(SysctlData::String {
                value: "NetBSD".into(),
                capacity: 7,
            })),
        )
        .unwrap();
        t.add_leaf(
            &["kern"],
            "hostname",
            Some(10),
            "name",
            true,
            Arc::new(StringVar::new("rump-1.vm".into(), 256)),
        )
        .unwrap();
        t.add_leaf(
            &["hw"],
            "ncpu",
            Some(3),
            "cpus",
            false,
            Arc::new(Const(SysctlData::Int(2))),
        )
        .unwrap();
        t
    }

    fn call(
        t: &SysctlTree,
        m: &mut Mem,
        name: &[i32],
        old: Option<u64>,
        new: Option<(Vec<u8>, u64)>,
    ) -> Result<(), Errno> {
        m.0.insert(NAME, name.iter().flat_map(|n| n.to_le_bytes()).collect());
        let mut a = SysctlArgs {
            name: NAME,
            namelen: name.len() as u32,
            ..Default::default()
        };
        if let Some(len) = old {
            m.0.insert(OLDLEN, len.to_le_bytes().to_vec());
            a.oldp = OLD;
            a.oldlenp = OLDLEN;
        }
        if let Some((bytes, len)) = new {
            m.0.insert(NEW, bytes);
            a.newp = NEW;
            a.newlen = len;
        }
        t.syscall(m, a)
    }

    fn oldlen(m: &Mem) -> u64 {
        Reader::new(&m.0[&OLDLEN]).u64(0)
    }

    #[test]
    fn reads_strings_and_ints_in_capture_order() {
        let t = tree();
        let mut m = Mem::default();
        call(&t, &mut m, &[1, 10], Some(256), None).unwrap();
        assert_eq!(m.0[&OLD], b"rump-1.vm\0");
        assert_eq!(oldlen(&m), 10);
        assert_eq!(
            m.1,
            ["in 0x300 8", "in 0x100 8", "out 0x200 10", "out 0x300 8"]
        );
        let mut m = Mem::default();
        call(&t, &mut m, &[6, 3], Some(4), None).unwrap();
        assert_eq!(m.0[&OLD], 2i32.to_le_bytes());
    }

    #[test]
    fn short_buffers_and_bad_names() {
        let t = tree();
        let mut m = Mem::default();
        assert_eq!(
            call(&t, &mut m, &[1, 10], Some(4), None),
            Err(Errno::ENOMEM)
        );
        assert_eq!(m.0[&OLD], b"rump");
        assert_eq!(oldlen(&m), 10);
        assert_eq!(
            call(&t, &mut Mem::default(), &[1, 99], Some(8), None),
            Err(Errno::ENOENT)
        );
        assert_eq!(
            call(&t, &mut Mem::default(), &[6, 3, 1], Some(8), None),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            call(&t, &mut Mem::default(), &[6], Some(8), None),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            call(&t, &mut Mem::default(), &[0; 13], Some(8), None),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn writes_check_permission_and_size() {
        let t = tree();
        let mut m = Mem::default();
        call(&t, &mut m, &[1, 10], None, Some((b"newname\0".to_vec(), 8))).unwrap();
        call(&t, &mut m, &[1, 10], Some(256), None).unwrap();
        assert_eq!(m.0[&OLD], b"newname\0");
        assert_eq!(
            call(&t, &mut m, &[6, 3], None, Some((vec![1, 0, 0, 0], 4))),
            Err(Errno::EPERM)
        );
        assert_eq!(
            call(&t, &mut m, &[1, 10], None, Some((vec![b'x'; 300], 300))),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn query_lists_children() {
        let t = tree();
        let q = SysctlNode {
            flags: SYSCTL_VERSION,
            ..Default::default()
        }
        .encode()
        .to_vec();
        let mut m = Mem::default();
        call(&t, &mut m, &[CTL_QUERY], Some(0), Some((q.clone(), 96))).unwrap_err();
        assert_eq!(oldlen(&m), 13 * 96, "a zero-sized buffer learns the size");
        let mut m = Mem::default();
        m.0.insert(OLDLEN, 0u64.to_le_bytes().to_vec());
        let a = SysctlArgs {
            name: NAME,
            namelen: 1,
            oldlenp: OLDLEN,
            newp: NEW,
            newlen: 96,
            ..Default::default()
        };
        m.0.insert(NAME, CTL_QUERY.to_le_bytes().to_vec());
        m.0.insert(NEW, q.clone());
        t.syscall(&mut m, a).unwrap();
        assert_eq!(oldlen(&m), 1248);
        assert_eq!(
            &m.1[..4],
            ["in 0x300 8", "in 0x100 4", "in 0x400 4", "in 0x400 96"]
        );
        let mut m = Mem::default();
        call(&t, &mut m, &[6, CTL_QUERY], Some(96), Some((q.clone(), 96))).unwrap();
        let n = SysctlNode::decode(&m.0[&OLD]);
        assert_eq!((n.num, n.name.as_str(), n.size), (3, "ncpu", 4));
        assert_eq!(n.flags, SYSCTL_VERSION | CTLFLAG_PERMANENT | CTLTYPE_INT);
        assert_eq!(
            call(&t, &mut Mem::default(), &[CTL_QUERY], Some(0), None),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            call(
                &t,
                &mut Mem::default(),
                &[6, 3, CTL_QUERY],
                Some(0),
                Some((q, 96))
            ),
            Err(Errno::ENOTDIR)
        );
    }

    #[test]
    fn describe_and_dynamic_nodes() {
        let t = tree();
        let n = t
            .add_leaf(
                &["hw", "example"],
                "greeting",
                None,
                "hello",
                false,
                Arc::new(Const(SysctlData::Int(1))),
            )
            .unwrap();
        assert_eq!(n, CREATE_BASE);
        let mut m = Mem::default();
        call(&t, &mut m, &[1, CTL_DESCRIBE], Some(4096), None).unwrap();
        let d = decode_descs(&m.0[&OLD]);
        assert_eq!(d, vec![(1, "type".to_string()), (10, "name".to_string())]);
        assert!(t.leaves().iter().any(|(p, _)| p == "hw.example.greeting"));
    }
}
