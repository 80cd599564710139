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

/// An image of `kb` KiB made by `mke2fs` with `args`, from `src` if
/// given.
pub fn mkimage(args: &[&str], kb: u64, src: Option<&Path>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("img");
    let mut c = Command::new("mke2fs");
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
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(&img)
        .output()
        .unwrap();
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
