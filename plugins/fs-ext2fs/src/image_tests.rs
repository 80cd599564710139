//! Whole-file-system tests on images made by mke2fs, mounted from
//! memory and checked with e2fsck after changes.

use crate::disk::testing::MemDisk;
use crate::disk::Disk;
use crate::fs::{Fs, MountRequest};
use crate::mem::testing::FakeMem;
use crate::superblock::ROOT_INO;
use crate::vnode::Ext2Vnode;
use rump_plugin_api::abi::stat::{Timespec, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG};
use rump_plugin_api::abi_stable::std_types::RSlice;
use rump_plugin_api::vfs::{SetAttr, VnodeObj};
use rump_plugin_api::Errno;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// An e2fsprogs tool (mke2fs, e2fsck, debugfs, dumpe2fs), found on the
/// PATH or in the sbin directories where it lives.
fn e2prog(name: &str) -> Command {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]);
    for d in dirs {
        let p = d.join(name);
        if p.is_file() {
            return Command::new(p);
        }
    }
    Command::new(name)
}

/// An image of `kb` KiB made by `mke2fs` with `args`, from `src` if
/// given.
pub fn mkimage(args: &[&str], kb: u64, src: Option<&Path>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("img");
    let mut c = e2prog("mke2fs");
    c.arg("-q").arg("-F").args(args);
    if let Some(s) = src {
        c.arg("-d").arg(s);
    }
    c.arg(&img).arg(format!("{kb}k"));
    let out = c.output().expect("mke2fs");
    assert!(
        out.status.success(),
        "mke2fs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(img).unwrap()
}

/// e2fsck -fn on `bytes`: (clean, output).
pub fn fsck(bytes: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("img");
    std::fs::write(&img, bytes).unwrap();
    let out = e2prog("e2fsck").arg("-fn").arg(&img).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub fn mount(disk: &Arc<MemDisk>, readonly: bool) -> Result<Arc<Fs>, Errno> {
    Fs::mount(MountRequest {
        disk: disk.clone(),
        fsid: 7,
        readonly,
        source: "/dev/test".into(),
        on: b"/mnt",
        mem: FakeMem::new(u64::MAX),
    })
}

fn ok<T>(r: rump_plugin_api::abi_stable::std_types::RResult<T, Errno>) -> T {
    match r.into_result() {
        Ok(v) => v,
        Err(e) => panic!("failed: {e:?}"),
    }
}

fn s(b: &[u8]) -> RSlice<'_, u8> {
    RSlice::from_slice(b)
}

fn root(fs: &Arc<Fs>) -> VnodeObj {
    Ext2Vnode::obj(fs, fs.get(ROOT_INO).unwrap())
}

fn bytes_of(disk: &MemDisk) -> Vec<u8> {
    disk.bytes.lock().clone()
}

#[test]
fn fresh_image_changes_pass_fsck() {
    for args in [
        &["-t", "ext2", "-b", "1024"][..],
        &["-t", "ext2", "-b", "4096", "-I", "128"][..],
        &["-t", "ext2", "-r", "0"][..],
    ] {
        let disk = MemDisk::new(mkimage(args, 4096, None));
        let fs = mount(&disk, false).unwrap();
        let r = root(&fs);
        let f = ok(r.create(s(b"file"), S_IFREG | 0o644, 0));
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let w = ok(f.write(0, s(&data), false));
        assert_eq!(w.count as usize, data.len());
        assert_eq!(ok(f.read(0, 400_000)).as_slice(), data.as_slice());
        let d = ok(r.mkdir(s(b"dir"), 0o755));
        for i in 0..100 {
            let name = format!("entry-with-a-longish-name-{i}");
            ok(d.create(s(name.as_bytes()), S_IFREG | 0o600, 0));
        }
        for i in (0..100).step_by(3) {
            let name = format!("entry-with-a-longish-name-{i}");
            ok(d.remove(s(name.as_bytes())));
        }
        ok(d.symlink(s(b"short"), s(b"../file"), 0o777));
        let long = vec![b'x'; 200];
        ok(d.symlink(s(b"long"), s(&long), 0o777));
        assert_eq!(
            ok(ok(d.lookup(s(b"long"))).readlink()).as_slice(),
            long.as_slice()
        );
        ok(d.link(s(b"hard"), &f));
        assert_eq!(ok(f.getattr()).nlink, 2);
        ok(r.rename(s(b"file"), &d, s(b"moved")));
        let sub = ok(d.mkdir(s(b"sub"), 0o700));
        ok(d.rename(s(b"sub"), &r, s(b"sub2")));
        assert_eq!(ok(r.getattr()).nlink, 5, ". .. lost+found dir sub2");
        ok(sub.create(s(b"fifo"), S_IFIFO | 0o600, 0));
        ok(f.setattr(&SetAttr {
            size: Some(1000).into(),
            ..SetAttr::default()
        }));
        assert_eq!(ok(f.read(0, 5000)).len(), 1000);
        drop((f, d, sub, r));
        fs.unmount().unwrap();
        let (clean, out) = fsck(&bytes_of(&disk));
        assert!(clean, "{args:?}:\n{out}");
        let fs = mount(&disk, true).unwrap();
        let r = root(&fs);
        let d = ok(r.lookup(s(b"dir")));
        let m = ok(d.lookup(s(b"moved")));
        assert_eq!(ok(m.read(0, 2000)).as_slice(), &data[..1000]);
        assert_eq!(ok(m.getattr()).mode, S_IFREG | 0o644);
        assert_eq!(ok(d.readdir(0, 1000)).len(), 2 + 66 + 4);
        assert_eq!(
            r.create(s(b"x"), S_IFREG, 0).into_result().err(),
            Some(Errno::EROFS)
        );
    }
}

#[test]
fn unlinked_open_files_and_orphans() {
    let disk = MemDisk::new(mkimage(&["-t", "ext2"], 2048, None));
    let fs = mount(&disk, false).unwrap();
    let before = fs.statvfs();
    let r = root(&fs);
    let f = ok(r.create(s(b"f"), S_IFREG | 0o644, 0));
    ok(f.write(0, s(&vec![1u8; 100_000]), false));
    ok(r.remove(s(b"f")));
    assert_eq!(ok(f.getattr()).nlink, 0);
    assert_eq!(ok(f.read(0, 10)).as_slice(), &[1u8; 10]);
    assert!(
        fs.statvfs().bfree < before.bfree,
        "still allocated while open"
    );
    drop(f);
    assert_eq!(fs.statvfs().bfree, before.bfree, "freed on last close");
    assert_eq!(fs.statvfs().ffree, before.ffree);
    let d = ok(r.mkdir(s(b"d"), 0o755));
    ok(r.rmdir(s(b"d")));
    assert_eq!(d.lookup(s(b"x")).into_result().err(), Some(Errno::ENOENT));
    assert!(ok(d.readdir(0, 10)).is_empty());
    drop((d, r));
    fs.unmount().unwrap();
    let (clean, out) = fsck(&bytes_of(&disk));
    assert!(clean, "{out}");
}

#[test]
fn enospc_then_recovery() {
    let disk = MemDisk::new(mkimage(&["-t", "ext2", "-N", "64"], 1024, None));
    let fs = mount(&disk, false).unwrap();
    let r = root(&fs);
    let f = ok(r.create(s(b"big"), S_IFREG | 0o644, 0));
    let chunk = vec![7u8; 65536];
    let mut off = 0u64;
    loop {
        match f.write(off, s(&chunk), false).into_result() {
            Ok(w) if w.count == 0 => break,
            Ok(w) => off += w.count,
            Err(e) => {
                assert_eq!(e, Errno::ENOSPC);
                break;
            }
        }
    }
    assert_eq!(fs.statvfs().bfree, 0);
    let mut n = 0;
    while r
        .create(s(format!("e{n}").as_bytes()), S_IFREG, 0)
        .into_result()
        .is_ok()
    {
        n += 1;
    }
    assert!(n > 0);
    ok(f.setattr(&SetAttr {
        size: Some(0).into(),
        ..SetAttr::default()
    }));
    assert!(fs.statvfs().bfree > 900);
    ok(f.write(0, s(b"again"), false));
    drop((f, r));
    fs.unmount().unwrap();
    let (clean, out) = fsck(&bytes_of(&disk));
    assert!(clean, "{out}");
}

#[test]
fn times_and_attributes() {
    let disk = MemDisk::new(mkimage(&["-t", "ext2", "-I", "256"], 1024, None));
    let fs = mount(&disk, false).unwrap();
    let r = root(&fs);
    let f = ok(r.create(s(b"f"), S_IFREG | 0o644, 0));
    let t = Timespec {
        sec: 1_500_000_002,
        nsec: 222_222_000,
    };
    ok(f.setattr(&SetAttr {
        mtime: Some(t).into(),
        uid: Some(70_000).into(),
        gid: Some(80_000).into(),
        mode: Some(0o4755).into(),
        ..SetAttr::default()
    }));
    let st = ok(f.getattr());
    assert_eq!(
        (st.mtime, st.uid, st.gid, st.mode),
        (t, 70_000, 80_000, S_IFREG | 0o4755)
    );
    let d = ok(r.lookup(s(b"lost+found")));
    assert_eq!(ok(d.getattr()).mode & S_IFMT, S_IFDIR);
    drop((f, d, r));
    fs.unmount().unwrap();
    let (clean, out) = fsck(&bytes_of(&disk));
    assert!(clean, "{out}");
    assert_eq!(
        disk.read(1024 + 58, 2).unwrap(),
        [1, 0],
        "clean after unmount"
    );
}

/// Walks what can be reached from `dir`, reading everything, within a
/// budget of entries.
fn walk(dir: &VnodeObj, budget: &mut u32) {
    let Ok(entries) = dir.readdir(0, 64).into_result() else {
        return;
    };
    for e in entries.iter() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        if e.name.as_slice() == b"." || e.name.as_slice() == b".." {
            continue;
        }
        let Ok(v) = dir.lookup(s(e.name.as_slice())).into_result() else {
            continue;
        };
        let Ok(st) = v.getattr().into_result() else {
            continue;
        };
        match st.mode & S_IFMT {
            S_IFDIR => walk(&v, budget),
            S_IFREG => {
                let _ = v.read(0, 70_000);
                let _ = v.read((st.size as u64) / 2, 5000);
            }
            _ => {
                let _ = v.readlink();
            }
        }
    }
}

/// Damaged copies of a populated image: mounting, walking and changing
/// them fails cleanly or works, and never panics. EXT2_FUZZ_ROUNDS,
/// _SEED, _HITS (most bytes damaged) and _MKE2FS (mke2fs arguments)
/// change what is tried.
#[test]
fn damaged_images_fail_cleanly() {
    let src = tempfile::tempdir().unwrap();
    let t = src.path();
    std::fs::create_dir_all(t.join("d/e")).unwrap();
    std::fs::write(t.join("a"), vec![5u8; 300_000]).unwrap();
    std::fs::write(t.join("d/e/c"), b"c").unwrap();
    std::os::unix::fs::symlink("x".repeat(80), t.join("slow")).unwrap();
    std::os::unix::fs::symlink("a", t.join("fast")).unwrap();
    for i in 0..30 {
        std::fs::write(
            t.join(format!("d/name-long-enough-for-two-blocks-{i:02}")),
            b"n",
        )
        .unwrap();
    }
    let args = std::env::var("EXT2_FUZZ_MKE2FS").unwrap_or("-t ext2 -b 1024 -N 64".into());
    let args: Vec<&str> = args.split_whitespace().collect();
    let pristine = mkimage(&args, 512, Some(t));
    let rounds: u64 = std::env::var("EXT2_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut seed: u64 = std::env::var("EXT2_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let hits: u64 = std::env::var("EXT2_FUZZ_HITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    for round in 0..rounds {
        let mut bytes = pristine.clone();
        for _ in 0..1 + next() % hits {
            let span = if next() % 4 == 0 {
                bytes.len()
            } else {
                80 << 10
            };
            let at = (next() % span as u64) as usize;
            bytes[at] = match next() % 3 {
                0 => next() as u8,
                1 => 0xff,
                _ => 0,
            };
        }
        let disk = MemDisk::new(bytes);
        let Ok(fs) = mount(&disk, round % 4 == 0) else {
            continue;
        };
        let Ok(r) = fs.get(ROOT_INO).map(|i| Ext2Vnode::obj(&fs, i)) else {
            continue;
        };
        let mut budget = 100;
        walk(&r, &mut budget);
        if let Ok(d) = r.lookup(s(b"d")).into_result() {
            if let Ok(f) = d.create(s(b"new"), S_IFREG | 0o644, 0).into_result() {
                let _ = f.write(0, s(&vec![1u8; 20_000]), false);
                let _ = f.setattr(&SetAttr {
                    size: Some(100).into(),
                    ..SetAttr::default()
                });
            }
            let _ = d.mkdir(s(b"sub"), 0o755);
            let _ = d.remove(s(b"name-long-enough-for-two-blocks-03"));
            let _ = r.rename(s(b"a"), &d, s(b"moved"));
            let _ = d.rename(s(b"e"), &r, s(b"e2"));
            let _ = r.rmdir(s(b"e2"));
        }
        let _ = r.remove(s(b"a"));
        let _ = fs.sync(true);
        drop(r);
        let _ = fs.unmount();
    }
}

/// Threads creating, writing, linking, renaming and removing in shared
/// directories at once leave a consistent file system (EXT2_STRESS_OPS
/// and EXT2_STRESS_SEED change the work).
#[test]
fn concurrent_changes_stay_consistent() {
    let ops: usize = std::env::var("EXT2_STRESS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("EXT2_STRESS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x1234_5678_9abc_def0);
    let disk = MemDisk::new(mkimage(&["-t", "ext2", "-b", "1024"], 8192, None));
    let fs = mount(&disk, false).unwrap();
    let r = root(&fs);
    for d in 0..3 {
        ok(r.mkdir(s(format!("d{d}").as_bytes()), 0o755));
    }
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let fs = fs.clone();
            std::thread::spawn(move || {
                let r = root(&fs);
                let dirs: Vec<VnodeObj> = (0..3)
                    .map(|d| ok(r.lookup(s(format!("d{d}").as_bytes()))))
                    .collect();
                let mut x = seed ^ (t << 32) ^ 1;
                let mut rnd = move |n: u64| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % n
                };
                // Files kept open across changes, so that some are
                // removed while in use.
                let mut held: Vec<VnodeObj> = Vec::new();
                for i in 0..ops {
                    if rnd(10) == 0 {
                        held.clear();
                    }
                    let d = &dirs[rnd(3) as usize];
                    let name = format!("t{t}-{}", rnd(20));
                    let n = name.as_bytes();
                    match rnd(7) {
                        0 | 1 => {
                            if let Ok(f) = d.create(s(n), S_IFREG | 0o644, 0).into_result() {
                                let _ = f.write(0, s(&vec![t as u8; (i % 7) * 3000]), false);
                                held.push(f);
                            }
                        }
                        2 => {
                            let _ = d.remove(s(n));
                        }
                        3 => {
                            let to = &dirs[rnd(3) as usize];
                            let _ = d.rename(s(n), to, s(format!("t{t}-{}", rnd(20)).as_bytes()));
                        }
                        4 => {
                            if let Ok(f) = d.lookup(s(n)).into_result() {
                                let _ = dirs[rnd(3) as usize]
                                    .link(s(format!("l{t}-{i}").as_bytes()), &f);
                            }
                        }
                        5 => {
                            let _ = d.mkdir(s(n), 0o755);
                            let _ = d.rmdir(s(format!("t{t}-{}", rnd(20)).as_bytes()));
                        }
                        _ => {
                            if let Ok(f) = d.lookup(s(n)).into_result() {
                                let _ = f.read(0, 10_000);
                                let _ = f.setattr(&SetAttr {
                                    size: Some(rnd(20_000)).into(),
                                    ..SetAttr::default()
                                });
                            }
                            for f in &held {
                                let _ = f.write(rnd(50_000), s(b"still open"), false);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(r);
    fs.unmount().unwrap();
    let (clean, out) = fsck(&bytes_of(&disk));
    assert!(clean, "{out}");
}

/// Link counts through every kind of directory rename.
#[test]
fn directory_renames_keep_link_counts() {
    let disk = MemDisk::new(mkimage(&["-t", "ext2"], 2048, None));
    let fs = mount(&disk, false).unwrap();
    let r = root(&fs);
    let a = ok(r.mkdir(s(b"a"), 0o755));
    let b = ok(r.mkdir(s(b"b"), 0o755));
    ok(a.mkdir(s(b"x"), 0o755));
    ok(b.mkdir(s(b"y"), 0o755));
    ok(b.mkdir(s(b"z"), 0o755));
    let links = |v: &VnodeObj| ok(v.getattr()).nlink;
    assert_eq!((links(&a), links(&b)), (3, 4));
    // Across parents, over an empty directory.
    ok(a.rename(s(b"x"), &b, s(b"y")));
    assert_eq!((links(&a), links(&b)), (2, 4));
    // Within a parent, over an empty directory.
    ok(b.rename(s(b"y"), &b, s(b"z")));
    assert_eq!(links(&b), 3);
    // Across parents, to a new name.
    ok(b.rename(s(b"z"), &a, s(b"w")));
    assert_eq!((links(&a), links(&b)), (3, 2));
    let w = ok(a.lookup(s(b"w")));
    assert_eq!(
        ok(ok(w.lookup(s(b".."))).getattr()).ino,
        ok(a.getattr()).ino
    );
    drop((a, b, w, r));
    fs.unmount().unwrap();
    let (clean, out) = fsck(&bytes_of(&disk));
    assert!(clean, "{out}");
}

/// The syncer writes changes back by itself, and stops with the mount.
#[test]
fn the_syncer_writes_changes_back() {
    let disk = MemDisk::new(mkimage(&["-t", "ext2"], 2048, None));
    let fs = mount(&disk, false).unwrap();
    let syncer = crate::syncer::start(&fs, std::time::Duration::from_millis(50)).unwrap();
    let r = root(&fs);
    ok(r.mkdir(s(b"d"), 0o755));
    assert!(fs.is_dirty());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fs.is_dirty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!fs.is_dirty(), "written back");
    // What is on the disk now is consistent (the state flag aside).
    let mut bytes = bytes_of(&disk);
    bytes[1024 + 58] = 1;
    let (clean, out) = fsck(&bytes);
    assert!(clean, "{out}");
    let t = std::time::Instant::now();
    syncer.stop();
    assert!(
        t.elapsed() < std::time::Duration::from_secs(1),
        "stops at once"
    );
    drop(r);
    fs.unmount().unwrap();
}
