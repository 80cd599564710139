//! etfs: host files mapped into the kernel's namespace under keys, as
//! `-d` and `-m` use it. Keys are matched at the root of rumpfs, before
//! ordinary lookup, so they shadow what rumpfs has at that path; they do
//! not appear in directory listings.
//!
//! Differences from NetBSD, where its behaviour is a bug: a directory key
//! matches only at a component boundary; a regular-file key registered
//! without a size follows the host file's size; files inside both kinds
//! of directory keys are host-backed and directories list their host
//! entries; disks are never shared between keys.
//!
//! A block key's disk is shown to the partition scanners that device
//! components register (see [`crate::partition`]) when it is attached,
//! and again when a scanner arrives later while it has no partitions.
//! Each partition found becomes a key of its own, the disk's key with
//! the partition's suffix (`/dev/wd0` and `a` make `/dev/wd0a`), a block
//! node of the dk driver; it goes when the disk's key is removed. A key
//! registered later with a partition's name replaces that partition.

use crate::bufcache::CachedDevice;
use crate::dev::{DK_MAJOR, RUMPBLK_MAJOR};
use crate::partition::{self, Window};
use crate::state::vfs;
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi::stat::{
    makedev, Stat, Timespec, NODEV, S_IFBLK, S_IFCHR, S_IFDIR, S_IFREG,
};
use rump_plugin_api::vfs::{
    device_obj, vnode_obj, Device, DeviceObj, DirEntry, EtfsType, SetAttr, VType, Vnode, VnodeObj,
    Written,
};
use rump_plugin_api::{Errno, KResult};
use std::fs::File;
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::PathBuf;
use std::sync::Arc;

/// "Up to the end of the host file".
pub const SIZE_ENDOFF: u64 = u64::MAX;

struct Key {
    key: Vec<u8>,
    dir: bool,
    node: VnodeObj,
    unit: Option<u32>,
    /// A block key's disk, which its partitions are windows on.
    disk: Option<DeviceObj>,
    /// A partition's disk key and dk unit.
    partition: Option<(Vec<u8>, u32)>,
}

impl Key {
    /// Gives its device unit back.
    fn detach(&self) {
        if let Some(u) = self.unit {
            vfs().devs.detach(u);
        }
        if let Some((_, u)) = self.partition {
            vfs().devs.detach_partition(u);
        }
    }
}

/// The registered keys.
#[derive(Default)]
pub struct Etfs {
    keys: RwLock<Vec<Key>>,
    /// Held while a disk's partitions are looked for and added, so that
    /// a disk is scanned by one thread at a time.
    scanning: Mutex<()>,
}

fn host_err(e: &std::io::Error) -> Errno {
    Errno::from_io(e)
}

/// Takes key `k` out of `keys`, with the partitions of its disk; `None`
/// if there is no such key.
fn take_key(keys: &mut Vec<Key>, k: &[u8]) -> Option<Vec<Key>> {
    keys.iter().position(|o| o.key == k)?;
    let (gone, kept) = std::mem::take(keys)
        .into_iter()
        .partition(|o| o.key == k || o.partition.as_ref().is_some_and(|(disk, _)| disk == k));
    *keys = kept;
    Some(gone)
}

/// Strips the leading slashes of a key; EINVAL if it has none.
fn key_of(key: &str) -> KResult<Vec<u8>> {
    let Some(rest) = key.strip_prefix('/') else {
        return Err(Errno::EINVAL);
    };
    let rest = rest.trim_start_matches('/');
    if rest.len() >= 1024 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(rest.as_bytes().to_vec())
}

/// Whether `prefix` is `path` or a leading part of it ending at a `/`.
fn is_dir_prefix(prefix: &[u8], path: &[u8]) -> bool {
    path.starts_with(prefix) && (path.len() == prefix.len() || path[prefix.len()] == b'/')
}

fn host_size(f: &File) -> std::io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let m = f.metadata()?;
    if m.file_type().is_block_device() || m.file_type().is_char_device() {
        let mut f = f;
        let end = f.seek(SeekFrom::End(0))?;
        if end == 0 {
            return Err(std::io::Error::from_raw_os_error(
                Errno::EOPNOTSUPP.to_host(),
            ));
        }
        return Ok(end);
    }
    Ok(m.len())
}

impl Etfs {
    /// rump_etfs_register_withsize.
    pub fn register(
        &self,
        key: &str,
        hostpath: &str,
        ftype: EtfsType,
        begin: u64,
        size: u64,
    ) -> KResult<()> {
        let k = key_of(key)?;
        let meta = std::fs::metadata(hostpath).map_err(|e| host_err(&e))?;
        let now = Timespec::now();
        let ino = vfs().rumpfs.alloc_ino();
        let mut blk_disk = None;
        let (node, unit): (VnodeObj, Option<u32>) = match ftype {
            EtfsType::Dir | EtfsType::DirSubdirs => {
                if !meta.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                if begin != 0 || size != SIZE_ENDOFF {
                    return Err(Errno::EISDIR);
                }
                let dir = HostDir {
                    path: hostpath.into(),
                    subdirs: ftype == EtfsType::DirSubdirs,
                    lookups: true,
                    ino,
                    time: now,
                };
                (vnode_obj(Arc::new(dir)), None)
            }
            EtfsType::Reg | EtfsType::Blk | EtfsType::Chr => {
                let file = match File::options().read(true).write(true).open(hostpath) {
                    Ok(f) => f,
                    Err(_) => File::open(hostpath).map_err(|e| host_err(&e))?,
                };
                let hsize = host_size(&file).map_err(|e| host_err(&e))?;
                if begin > hsize {
                    return Err(Errno::EINVAL);
                }
                let follow = size == SIZE_ENDOFF;
                let size = if follow { hsize - begin } else { size };
                if begin.checked_add(size).is_none_or(|end| end > hsize) {
                    return Err(Errno::EINVAL);
                }
                if ftype == EtfsType::Reg {
                    let f = HostFile {
                        file,
                        begin,
                        size,
                        follow,
                        attrs: Mutex::new(EtfsAttrs::new(now)),
                        ino,
                    };
                    (vnode_obj(Arc::new(f)), None)
                } else {
                    let ft = meta.file_type();
                    if !(ft.is_file() || ft.is_block_device() || ft.is_char_device()) {
                        return Err(Errno::EINVAL);
                    }
                    let writable = File::options().write(true).open(hostpath).is_ok();
                    let disk = HostDisk {
                        file,
                        begin,
                        size,
                        readonly: !writable,
                    };
                    let raw = device_obj(Arc::new(disk));
                    // Block devices go through the buffer cache; character
                    // devices are raw, as in NetBSD.
                    let dev = if ftype == EtfsType::Blk {
                        let cached = device_obj(Arc::new(CachedDevice::new(raw)));
                        blk_disk = Some(cached.clone());
                        cached
                    } else {
                        raw
                    };
                    let unit = vfs().devs.attach(dev)?;
                    let vtype = if ftype == EtfsType::Blk {
                        VType::Blk
                    } else {
                        VType::Chr
                    };
                    let node = DevNode {
                        vtype,
                        rdev: makedev(RUMPBLK_MAJOR, unit),
                        size,
                        ino,
                        attrs: Mutex::new(EtfsAttrs::new(now)),
                    };
                    (vnode_obj(Arc::new(node)), Some(unit))
                }
            }
        };
        let dir = matches!(ftype, EtfsType::Dir | EtfsType::DirSubdirs);
        let mut keys = self.keys.write();
        // A partition gives its name up to a key registered by name.
        if let Some(i) = keys
            .iter()
            .position(|o| o.key == k && o.partition.is_some())
        {
            let gone = keys.remove(i);
            gone.detach();
            vfs().kernel.info(&format!(
                "/{}: replaces the partition node of that name",
                String::from_utf8_lossy(&k)
            ));
        }
        let clash = keys.iter().any(|o| {
            o.key == k || (o.dir && is_dir_prefix(&o.key, &k)) || (dir && is_dir_prefix(&k, &o.key))
        });
        if clash {
            if let Some(u) = unit {
                vfs().devs.detach(u);
            }
            return Err(Errno::EEXIST);
        }
        if ftype == EtfsType::Blk {
            vfs().kernel.info(&format!(
                "/{}: hostpath {hostpath} ({size})",
                String::from_utf8_lossy(&k)
            ));
        }
        let scan = blk_disk.is_some();
        keys.push(Key {
            key: k.clone(),
            dir,
            node,
            unit,
            disk: blk_disk,
            partition: None,
        });
        drop(keys);
        if scan {
            self.add_partitions(&k);
        }
        Ok(())
    }

    /// rump_etfs_remove. A disk's partitions go with it.
    pub fn remove(&self, key: &str) -> KResult<()> {
        let k = key_of(key)?;
        let gone = take_key(&mut self.keys.write(), &k).ok_or(Errno::ENOENT)?;
        for g in &gone {
            g.detach();
        }
        Ok(())
    }

    /// Looks for the partitions of the disk at key `k`, unless it has
    /// some already, and adds a key for each.
    fn add_partitions(&self, k: &[u8]) {
        let _one_at_a_time = self.scanning.lock();
        let disk = {
            let keys = self.keys.read();
            let has_partitions = keys
                .iter()
                .any(|o| o.partition.as_ref().is_some_and(|(d, _)| d == k));
            match keys.iter().find(|o| o.key == k) {
                Some(Key {
                    disk: Some(d),
                    partition: None,
                    ..
                }) if !has_partitions => d.clone(),
                _ => return,
            }
        };
        let kernel = &vfs().kernel;
        let name = format!("/{}", String::from_utf8_lossy(k));
        // The scanners read the disk with no lock of ours held.
        let found = partition::scan(kernel, &name, &disk);
        for f in found {
            let mut pk = k.to_vec();
            pk.extend_from_slice(&f.suffix);
            let pname = format!("/{}", String::from_utf8_lossy(&pk));
            let mut keys = self.keys.write();
            if !keys.iter().any(|o| o.key == k) {
                return;
            }
            let clash = keys
                .iter()
                .any(|o| o.key == pk || (o.dir && is_dir_prefix(&o.key, &pk)));
            if clash {
                kernel.warn(&format!(
                    "{pname}: partition of {name} not added: name in use"
                ));
                continue;
            }
            let window = Window::new(disk.clone(), f.offset, f.size);
            let unit = match vfs().devs.attach_partition(device_obj(Arc::new(window))) {
                Ok(u) => u,
                Err(e) => {
                    kernel.warn(&format!("{pname}: partition of {name} not added: {e}"));
                    return;
                }
            };
            let node = DevNode {
                vtype: VType::Blk,
                rdev: makedev(DK_MAJOR, unit),
                size: f.size,
                ino: vfs().rumpfs.alloc_ino(),
                attrs: Mutex::new(EtfsAttrs::new(Timespec::now())),
            };
            keys.push(Key {
                key: pk,
                dir: false,
                node: vnode_obj(Arc::new(node)),
                unit: None,
                disk: None,
                partition: Some((k.to_vec(), unit)),
            });
            drop(keys);
            let ptype = if f.ptype.is_empty() {
                "unknown"
            } else {
                &f.ptype
            };
            let wname = if f.wname.is_empty() {
                String::new()
            } else {
                format!(" \"{}\"", f.wname)
            };
            kernel.info(&format!(
                "{pname} (dk{unit}){wname}: {ptype} partition of {name} at byte {}, {} bytes",
                f.offset, f.size
            ));
        }
    }

    /// Looks for partitions on every disk that has none (a partition
    /// scanner was registered).
    pub fn rescan(&self) {
        let disks: Vec<Vec<u8>> = self
            .keys
            .read()
            .iter()
            .filter(|o| o.disk.is_some())
            .map(|o| o.key.clone())
            .collect();
        for k in disks {
            self.add_partitions(&k);
        }
    }

    /// The node a path starting at the root of rumpfs leads to through a
    /// key, with how many bytes of `rest` the key consumed.
    pub fn lookup(&self, rest: &[u8]) -> Option<(VnodeObj, usize)> {
        let keys = self.keys.read();
        for k in keys.iter() {
            if k.dir {
                if is_dir_prefix(&k.key, rest) {
                    return Some((k.node.clone(), k.key.len()));
                }
            } else if k.key == rest {
                return Some((k.node.clone(), k.key.len()));
            }
        }
        None
    }
}

/// Mode, owner and times of an etfs node (kept in the kernel only).
struct EtfsAttrs {
    mode: u32,
    uid: u32,
    gid: u32,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    birthtime: Timespec,
}

impl EtfsAttrs {
    fn new(now: Timespec) -> Self {
        EtfsAttrs {
            mode: 0o755,
            uid: 0,
            gid: 0,
            atime: now,
            mtime: now,
            ctime: now,
            birthtime: now,
        }
    }

    fn apply(&mut self, s: &SetAttr) {
        if let Some(m) = s.mode.into_option() {
            self.mode = m & 0o7777;
        }
        if let Some(u) = s.uid.into_option() {
            self.uid = u;
        }
        if let Some(g) = s.gid.into_option() {
            self.gid = g;
        }
        if let Some(t) = s.atime.into_option() {
            self.atime = t;
        }
        if let Some(t) = s.mtime.into_option() {
            self.mtime = t;
        }
        self.ctime = Timespec::now();
    }

    fn stat(&self, ifmt: u32, ino: u64, size: u64, rdev: u64) -> Stat {
        Stat {
            dev: vfs().rumpfs.fsid(),
            mode: ifmt | self.mode,
            ino,
            nlink: if ifmt == S_IFDIR { 2 } else { 1 },
            uid: self.uid,
            gid: self.gid,
            rdev,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
            birthtime: self.birthtime,
            size: size as i64,
            blocks: 1,
            blksize: 512,
            flags: 0,
            gen: 0,
        }
    }
}

/// A regular-file key: reads and writes go to the host file.
struct HostFile {
    file: File,
    begin: u64,
    size: u64,
    follow: bool,
    attrs: Mutex<EtfsAttrs>,
    ino: u64,
}

impl HostFile {
    fn size(&self) -> u64 {
        if self.follow {
            self.file
                .metadata()
                .map_or(self.size, |m| m.len().saturating_sub(self.begin))
        } else {
            self.size
        }
    }
}

impl Vnode for HostFile {
    fn vtype(&self) -> VType {
        VType::Reg
    }

    fn fileid(&self) -> u64 {
        self.ino
    }

    fn getattr(&self) -> KResult<Stat> {
        Ok(self
            .attrs
            .lock()
            .stat(S_IFREG, self.ino, self.size(), NODEV))
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        // A size change is ignored: the host file is never truncated.
        self.attrs.lock().apply(attr);
        Ok(())
    }

    fn read(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let at = self.begin.checked_add(offset).ok_or(Errno::EINVAL)?;
        let mut got = 0;
        while got < len {
            match self.file.read_at(&mut buf[got..], at + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(host_err(&e)),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn write(&self, offset: u64, data: &[u8], append: bool) -> KResult<Written> {
        let offset = if append { self.size() } else { offset };
        let at = self.begin.checked_add(offset).ok_or(Errno::EINVAL)?;
        self.file.write_all_at(data, at).map_err(|e| host_err(&e))?;
        let end = offset + data.len() as u64;
        Ok(Written {
            count: data.len() as u64,
            end,
        })
    }

    fn fsync(&self, _data_only: bool) -> KResult<()> {
        self.file.sync_data().map_err(|e| host_err(&e))
    }

    fn remove(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
}

/// A block or character key: a device node of rumpblk.
struct DevNode {
    vtype: VType,
    rdev: u64,
    size: u64,
    ino: u64,
    attrs: Mutex<EtfsAttrs>,
}

impl Vnode for DevNode {
    fn vtype(&self) -> VType {
        self.vtype
    }

    fn fileid(&self) -> u64 {
        self.ino
    }

    fn getattr(&self) -> KResult<Stat> {
        let ifmt = if self.vtype == VType::Blk {
            S_IFBLK
        } else {
            S_IFCHR
        };
        Ok(self.attrs.lock().stat(ifmt, self.ino, self.size, self.rdev))
    }

    fn setattr(&self, attr: &SetAttr) -> KResult<()> {
        self.attrs.lock().apply(attr);
        Ok(())
    }
}

/// A directory key: names inside are looked up on the host.
struct HostDir {
    path: PathBuf,
    subdirs: bool,
    /// Whether names inside may be looked up (false for the
    /// subdirectories of a plain DIR key).
    lookups: bool,
    ino: u64,
    time: Timespec,
}

impl Vnode for HostDir {
    fn vtype(&self) -> VType {
        VType::Dir
    }

    fn fileid(&self) -> u64 {
        self.ino
    }

    fn getattr(&self) -> KResult<Stat> {
        let size = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        Ok(EtfsAttrs::new(self.time).stat(S_IFDIR, self.ino, size, NODEV))
    }

    fn lookup(&self, name: &[u8]) -> KResult<VnodeObj> {
        if name == b".." {
            return Err(Errno::EOPNOTSUPP);
        }
        if !self.lookups || name.contains(&b'/') {
            return Err(Errno::ENOENT);
        }
        let path = self.path.join(String::from_utf8_lossy(name).as_ref());
        let meta = std::fs::metadata(&path).map_err(|_| Errno::ENOENT)?;
        let now = Timespec::now();
        let ino = vfs().rumpfs.alloc_ino();
        if meta.is_dir() {
            let d = HostDir {
                path,
                subdirs: self.subdirs,
                lookups: self.subdirs,
                ino,
                time: now,
            };
            return Ok(vnode_obj(Arc::new(d)));
        }
        if !meta.is_file() {
            return Err(Errno::ENOENT);
        }
        let file = match File::options().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(_) => File::open(&path).map_err(|e| host_err(&e))?,
        };
        let f = HostFile {
            file,
            begin: 0,
            size: meta.len(),
            follow: true,
            attrs: Mutex::new(EtfsAttrs::new(now)),
            ino,
        };
        Ok(vnode_obj(Arc::new(f)))
    }

    fn readdir(&self, cookie: i64, max: usize) -> KResult<Vec<DirEntry>> {
        let mut names: Vec<(Vec<u8>, u8)> = std::fs::read_dir(&self.path)
            .map_err(|e| host_err(&e))?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let t = e.file_type().ok()?;
                let dtype = if t.is_dir() {
                    VType::Dir.dtype()
                } else if t.is_file() {
                    VType::Reg.dtype()
                } else {
                    return None;
                };
                Some((e.file_name().into_encoded_bytes(), dtype))
            })
            .collect();
        names.sort();
        let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
        Ok(names
            .into_iter()
            .enumerate()
            .skip(skip)
            .take(max)
            .map(|(i, (name, dtype))| DirEntry {
                fileno: self.ino + 1 + i as u64,
                dtype,
                name: name.into(),
                next: i as i64 + 1,
            })
            .collect())
    }
}

/// The host side of an etfs disk: a window of a host file or device.
struct HostDisk {
    file: File,
    begin: u64,
    size: u64,
    readonly: bool,
}

impl Device for HostDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn readonly(&self) -> bool {
        self.readonly
    }

    fn read_at(&self, offset: u64, len: usize) -> KResult<Vec<u8>> {
        if offset > self.size {
            return Err(Errno::EINVAL);
        }
        let len = (len as u64).min(self.size - offset) as usize;
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, self.begin + offset)
            .map_err(|e| host_err(&e))?;
        Ok(buf)
    }

    fn write_at(&self, offset: u64, data: &[u8]) -> KResult<()> {
        if self.readonly {
            return Err(Errno::EROFS);
        }
        if offset
            .checked_add(data.len() as u64)
            .is_none_or(|end| end > self.size)
        {
            return Err(Errno::EINVAL);
        }
        self.file
            .write_all_at(data, self.begin + offset)
            .map_err(|e| host_err(&e))
    }

    fn flush(&self) -> KResult<()> {
        self.file.sync_data().map_err(|e| host_err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    impl Vnode for Nothing {
        fn vtype(&self) -> VType {
            VType::Blk
        }

        fn fileid(&self) -> u64 {
            1
        }

        fn getattr(&self) -> KResult<Stat> {
            Err(Errno::EIO)
        }
    }

    fn key(name: &str, disk: Option<&str>) -> Key {
        Key {
            key: name.as_bytes().to_vec(),
            dir: false,
            node: vnode_obj(Arc::new(Nothing)),
            unit: None,
            disk: None,
            partition: disk.map(|d| (d.as_bytes().to_vec(), 0)),
        }
    }

    #[test]
    fn a_disk_takes_its_partitions_along() {
        let mut keys = vec![
            key("dev/wd0", None),
            key("dev/wd0e", Some("dev/wd0")),
            key("dev/wd1", None),
            key("dev/wd1e", Some("dev/wd1")),
            key("dev/wd0f", Some("dev/wd0")),
        ];
        let names = |v: &[Key]| -> Vec<String> {
            v.iter()
                .map(|k| String::from_utf8_lossy(&k.key).into_owned())
                .collect()
        };
        let gone = take_key(&mut keys, b"dev/wd0").unwrap();
        assert_eq!(names(&gone), ["dev/wd0", "dev/wd0e", "dev/wd0f"]);
        assert_eq!(names(&keys), ["dev/wd1", "dev/wd1e"]);
        assert!(take_key(&mut keys, b"dev/wd0").is_none());
        let gone = take_key(&mut keys, b"dev/wd1e").unwrap();
        assert_eq!(names(&gone), ["dev/wd1e"], "a partition alone");
        assert_eq!(names(&keys), ["dev/wd1"]);
    }
}
