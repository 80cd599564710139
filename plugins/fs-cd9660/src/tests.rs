//! Whole-volume tests on images built in memory: what the image tools do
//! not make (multi-extent and interleaved files, versions, associated
//! files, extended attribute records, relocation by hand) and what no
//! tool makes on purpose (loops and corruption).

use crate::data;
use crate::dir;
use crate::fs::Fs;
use crate::mount::open;
use crate::node::Node;
use crate::record::testing::record;
use crate::record::{FLAG_ASSOC, FLAG_DIR, FLAG_MULTI_EXTENT};
use crate::susp::testing::{both32, ce, field};
use rump_plugin_api::abi::dirent::{DT_DIR, DT_LNK, DT_REG};
use rump_plugin_api::abi::mount::{
    ISOFSMNT_EXTATT, ISOFSMNT_GENS, ISOFSMNT_NOCASETRANS, ISOFSMNT_NOJOLIET, ISOFSMNT_NORRIP,
    ISOFSMNT_RRCASEINS,
};
use rump_plugin_api::abi::stat::{S_IFDIR, S_IFLNK, S_IFREG};
use rump_plugin_api::vfs::VType;
use rump_plugin_api::{Errno, KResult};
use std::sync::Arc;

const BS: usize = 2048;
/// Where the root directory is.
const ROOT: u32 = 20;

/// An image under construction, in 2048-byte blocks.
struct Image {
    data: Vec<u8>,
}

impl Image {
    /// `blocks` blocks with a primary descriptor (root at block 20, one
    /// block long) and a terminator.
    fn new(blocks: usize) -> Image {
        let mut img = Image {
            data: vec![0u8; blocks * BS],
        };
        img.descriptor(16, 1, ROOT, BS as u32, b"");
        img.descriptor(17, 255, 0, 0, b"");
        img
    }

    fn descriptor(&mut self, at: u32, kind: u8, root: u32, root_size: u32, escape: &[u8]) {
        let blocks = (self.data.len() / BS) as u32;
        let mut s = vec![0u8; BS];
        s[0] = kind;
        s[1..6].copy_from_slice(b"CD001");
        s[6] = 1;
        s[80..88].copy_from_slice(&both32(blocks));
        s[88..88 + escape.len()].copy_from_slice(escape);
        s[128..130].copy_from_slice(&(BS as u16).to_le_bytes());
        s[130..132].copy_from_slice(&(BS as u16).to_be_bytes());
        let r = record(b"\0", root, root_size, FLAG_DIR, b"");
        s[156..156 + r.len()].copy_from_slice(&r);
        self.put(at, 0, &s);
    }

    /// A Joliet supplementary descriptor with its root at `root`.
    fn joliet(&mut self, root: u32) {
        self.descriptor(17, 2, root, BS as u32, b"%/E");
        self.descriptor(18, 255, 0, 0, b"");
    }

    fn put(&mut self, block: u32, off: usize, bytes: &[u8]) {
        let at = block as usize * BS + off;
        self.data[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// Writes `records` into the blocks from `block` on (clearing them),
    /// starting a new block when one does not fit.
    fn dir(&mut self, block: u32, records: &[Vec<u8>]) {
        let (mut b, mut off) = (block, 0);
        self.put(b, 0, &[0; BS]);
        for r in records {
            if off + r.len() > BS {
                b += 1;
                off = 0;
                self.put(b, 0, &[0; BS]);
            }
            self.put(b, off, r);
            off += r.len();
        }
    }

    fn mount(&self, flags: i32) -> KResult<Arc<Fs>> {
        open(Box::new(self.data.clone()), flags, 7, b"/mnt")
    }
}

/// The `.` and `..` records of a directory at `me` in `parent`, with
/// system use bytes for `.`.
fn dots(me: u32, parent: u32, size: u32, su: &[u8]) -> Vec<Vec<u8>> {
    vec![
        record(b"\0", me, size, FLAG_DIR, su),
        record(b"\x01", parent, BS as u32, FLAG_DIR, b""),
    ]
}

fn file(name: &[u8], extent: u32, size: u32) -> Vec<u8> {
    record(name, extent, size, 0, b"")
}

fn subdir(name: &[u8], extent: u32) -> Vec<u8> {
    record(name, extent, BS as u32, FLAG_DIR, b"")
}

fn listing(fs: &Fs, dir_ino: u64) -> Vec<(String, u64, u8)> {
    let d = Node::load(fs, dir_ino).unwrap();
    dir::readdir(fs, &d, 0, 10_000)
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                String::from_utf8_lossy(&e.name).into_owned(),
                e.fileno,
                e.dtype,
            )
        })
        .collect()
}

fn names(fs: &Fs, dir_ino: u64) -> Vec<String> {
    listing(fs, dir_ino).into_iter().map(|e| e.0).collect()
}

fn find(fs: &Fs, path: &str) -> KResult<Node> {
    let mut n = Node::load(fs, fs.root_ino)?;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let ino = dir::lookup(fs, &n, part.as_bytes())?;
        n = Node::load(fs, ino)?;
    }
    Ok(n)
}

fn contents(fs: &Fs, path: &str) -> Vec<u8> {
    let n = find(fs, path).unwrap();
    data::read(&fs.disk, &fs.geo, &n.extents, 0, usize::MAX).unwrap()
}

/// A plain volume: files, a directory, two versions of one file and an
/// associated file.
fn plain() -> Image {
    let mut img = Image::new(64);
    let mut root = dots(ROOT, ROOT, BS as u32, b"");
    root.extend([
        file(b"README.TXT;1", 30, 5),
        subdir(b"SUB", 22),
        file(b"VERS.TXT;2", 31, 4),
        file(b"VERS.TXT;1", 32, 4),
        record(b"RES.;1", 33, 3, FLAG_ASSOC, b""),
        file(b"RES.;1", 34, 3),
    ]);
    img.dir(ROOT, &root);
    let mut sub = dots(22, ROOT, BS as u32, b"");
    sub.push(file(b"INNER.C;1", 35, 6));
    img.dir(22, &sub);
    for (b, text) in [
        (30, &b"hello"[..]),
        (31, b"two!"),
        (32, b"one!"),
        (33, b"rsc"),
        (34, b"dat"),
        (35, b"inner!"),
    ] {
        img.put(b, 0, text);
    }
    img
}

#[test]
fn plain_names_versions_and_attributes() {
    let img = plain();
    let fs = img.mount(0).unwrap();
    let root = fs.root_ino;
    assert_eq!(root, u64::from(ROOT) * 2048);
    let l = listing(&fs, root);
    let shown: Vec<&str> = l.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        shown,
        [".", "..", "readme.txt", "sub", "vers.txt", "=res", "res"]
    );
    // readme.txt is numbered by its record's byte address (after the
    // 34-byte `.` and `..` records); vers.txt by its last version's.
    assert_eq!(l[2], ("readme.txt".into(), 20 * 2048 + 68, DT_REG));
    assert_eq!(l[3], ("sub".into(), 22 * 2048, DT_DIR));
    assert_eq!(contents(&fs, "vers.txt"), b"one!");
    assert_eq!(find(&fs, "vers.txt").unwrap().ino, l[4].1);
    assert_eq!(contents(&fs, "VERS.TXT;2"), b"two!", "an explicit version");
    assert_eq!(contents(&fs, "README.TXT"), b"hello", "recorded case");
    assert_eq!(contents(&fs, "Readme.Txt;1"), b"hello");
    assert_eq!(find(&fs, "readme.txt;3").err(), Some(Errno::ENOENT));
    assert_eq!(find(&fs, "readme").err(), Some(Errno::ENOENT));
    assert_eq!(contents(&fs, "=res"), b"rsc", "an associated file");
    assert_eq!(contents(&fs, "res"), b"dat");
    assert_eq!(contents(&fs, "sub/inner.c"), b"inner!");
    assert_eq!(find(&fs, "sub/..").unwrap().ino, root);
    let n = find(&fs, "readme.txt").unwrap();
    let st = n.stat(7, 2048);
    assert_eq!(
        (st.mode, st.nlink, st.uid, st.gid),
        (S_IFREG | 0o555, 1, 0, 0)
    );
    assert_eq!((st.size, st.blocks, st.blksize, st.dev), (5, 0, 2048, 7));
    // the record date: 2026-01-02 03:04:05 UTC
    assert_eq!(
        (st.mtime.sec, st.atime.sec, st.ctime.sec),
        (1_767_323_045, 1_767_323_045, 1_767_323_045)
    );
    assert_eq!(
        find(&fs, "sub").unwrap().stat(7, 2048).mode,
        S_IFDIR | 0o555
    );

    let fs = img.mount(ISOFSMNT_GENS).unwrap();
    assert_eq!(
        names(&fs, fs.root_ino),
        [
            ".",
            "..",
            "readme.txt;1",
            "sub",
            "vers.txt;2",
            "vers.txt;1",
            "=res.;1",
            "res.;1"
        ]
    );
    let fs = img.mount(ISOFSMNT_NOCASETRANS).unwrap();
    assert_eq!(names(&fs, fs.root_ino)[2..4], ["README.TXT", "SUB"]);
    assert_eq!(contents(&fs, "README.TXT"), b"hello");
}

#[test]
fn readdir_cookies_resume_where_they_left_off() {
    let mut img = Image::new(64);
    let mut root = dots(ROOT, ROOT, 2 * BS as u32, b"");
    for i in 0..60 {
        root.push(file(format!("FILE{i:02}.DAT;1").as_bytes(), 40, 1));
    }
    img.dir(ROOT, &root);
    img.descriptor(16, 1, ROOT, 2 * BS as u32, b"");
    let fs = img.mount(0).unwrap();
    let d = Node::load(&fs, fs.root_ino).unwrap();
    let all = dir::readdir(&fs, &d, 0, 1000).unwrap();
    assert_eq!(all.len(), 62, "records in two blocks");
    let mut cookie = 0;
    let mut pieces = Vec::new();
    loop {
        let batch = dir::readdir(&fs, &d, cookie, 7).unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 7);
        cookie = batch.last().unwrap().next;
        pieces.extend(batch);
    }
    assert_eq!(pieces, all);
    assert!(dir::readdir(&fs, &d, -5, 10).unwrap().is_empty());
    assert!(dir::readdir(&fs, &d, 1 << 40, 10).unwrap().is_empty());
    // a cookie inside a record reads whatever is there, without panicking
    for c in 0..200 {
        let _ = dir::readdir(&fs, &d, c, 10);
    }
}

#[test]
fn multi_extent_and_interleaved_files() {
    let mut img = Image::new(80);
    let mut root = dots(ROOT, ROOT, 2 * BS as u32, b"");
    // pad so that the multi-extent chain crosses into the second block
    for i in 0..46 {
        root.push(file(format!("PAD{i:02}.;1").as_bytes(), 40, 0));
    }
    let big = |flags| record(b"BIG.DAT;1", 0, 0, flags, b"");
    let mut parts = vec![big(FLAG_MULTI_EXTENT), big(FLAG_MULTI_EXTENT), big(0)];
    for (p, (extent, size)) in parts
        .iter_mut()
        .zip([(50u32, 4096u32), (60, 2048), (70, 100)])
    {
        p[2..10].copy_from_slice(&both32(extent));
        p[10..18].copy_from_slice(&both32(size));
    }
    root.extend(parts);
    let mut inter = file(b"INTER.DAT;1", 52, 3 * 2048);
    inter[26] = 1; // file unit: one block
    inter[27] = 2; // gap: two blocks
    root.push(inter);
    root.push(file(b"Z.;1", 41, 1));
    img.dir(ROOT, &root);
    img.descriptor(16, 1, ROOT, 2 * BS as u32, b"");
    for b in 50..80 {
        img.put(b, 0, &[b as u8; BS]);
    }
    let fs = img.mount(0).unwrap();
    let l = listing(&fs, fs.root_ino);
    let big_entry: Vec<_> = l.iter().filter(|e| e.0 == "big.dat").collect();
    assert_eq!(big_entry.len(), 1, "one entry for three records");
    assert_eq!(
        l.last().unwrap().0,
        "z",
        "the listing goes on after the chain"
    );
    let n = find(&fs, "big.dat").unwrap();
    assert_eq!(n.ino, big_entry[0].1);
    assert_eq!(n.size, 4096 + 2048 + 100);
    assert_eq!(n.stat(7, 2048).blocks, (4096 + 2048 + 100) / 512);
    let d = contents(&fs, "big.dat");
    assert_eq!(d.len(), 6244);
    assert!(d[..2048].iter().all(|&b| b == 50) && d[2048..4096].iter().all(|&b| b == 51));
    assert!(d[4096..6144].iter().all(|&b| b == 60) && d[6144..].iter().all(|&b| b == 70));
    let part = data::read(&fs.disk, &fs.geo, &n.extents, 6000, 200).unwrap();
    assert_eq!(part, [vec![60u8; 144], vec![70u8; 56]].concat());
    let i = contents(&fs, "inter.dat");
    let blocks: Vec<u8> = i.chunks(BS).map(|c| c[0]).collect();
    assert_eq!(blocks, [52, 55, 58], "units of one block, gaps of two");
}

#[test]
fn extended_attribute_records_with_extatt() {
    let mut img = plain();
    // README.TXT;1 gets a one-block extended attribute record at 29.
    let mut r = file(b"README.TXT;1", 29, 5);
    r[1] = 1;
    img.put(ROOT, 68, &r);
    let mut x = vec![0u8; BS];
    x[0..2].copy_from_slice(&1000u16.to_le_bytes());
    x[4..6].copy_from_slice(&100u16.to_le_bytes());
    x[8] = 0x50; // others may not read or execute
    x[27..44].copy_from_slice(b"2001020304050600\0");
    x[180] = 1;
    img.put(29, 0, &x);
    let fs = img.mount(0).unwrap();
    let st = find(&fs, "readme.txt").unwrap().stat(7, 2048);
    assert_eq!(
        (st.mode, st.uid),
        (S_IFREG | 0o555, 0),
        "ignored without extatt"
    );
    assert_eq!(
        contents(&fs, "readme.txt"),
        b"hello",
        "data after the record"
    );
    let fs = img.mount(ISOFSMNT_EXTATT).unwrap();
    let st = find(&fs, "readme.txt").unwrap().stat(7, 2048);
    assert_eq!((st.mode, st.uid, st.gid), (S_IFREG | 0o550, 1000, 100));
    assert_eq!(st.mtime.sec, 981_173_106);
}

/// Rock Ridge fields for the root's `.` record: SP and ER.
fn rr_root() -> Vec<u8> {
    let mut er = vec![10, 0, 0, 1];
    er.extend_from_slice(b"RRIP_1991A");
    [field(b"SP", &[0xbe, 0xef, 0]), field(b"ER", &er)].concat()
}

fn px(mode: u32, nlink: u32) -> Vec<u8> {
    field(
        b"PX",
        &[both32(mode), both32(nlink), both32(1000), both32(100)].concat(),
    )
}

fn nm(name: &[u8]) -> Vec<u8> {
    field(b"NM", &[&[0u8][..], name].concat())
}

/// A Rock Ridge volume with a moved directory: `deep` (a placeholder in
/// `sub` with CL) lives in `rr_moved` (with RE), its `..` says PL `sub`.
fn rock_ridge() -> Image {
    let mut img = Image::new(64);
    let mut root = dots(ROOT, ROOT, BS as u32, &[rr_root(), px(0o40755, 4)].concat());
    root.extend([
        record(
            b"LONGNAME.TXT;1",
            30,
            5,
            0,
            &[px(0o100640, 1), nm(b"A Long Name.txt")].concat(),
        ),
        record(
            b"SUB",
            22,
            BS as u32,
            FLAG_DIR,
            &[px(0o40750, 2), nm(b"sub")].concat(),
        ),
        record(
            b"RR_MOVED",
            24,
            BS as u32,
            FLAG_DIR,
            &[px(0o40555, 2), nm(b"rr_moved")].concat(),
        ),
        record(
            b"LINK.;1",
            31,
            0,
            0,
            &[
                px(0o120777, 1),
                nm(b"link"),
                field(b"SL", &[0, 0, 4, b'a', b'.', b'b', b'c']),
            ]
            .concat(),
        ),
        record(b"NOPX.;1", 32, 2, 0, &nm(b"nopx")),
        record(b"PLAIN.;1", 32, 2, 0, &px(0o100644, 1)),
    ]);
    img.dir(ROOT, &root);
    let mut sub = dots(22, ROOT, BS as u32, &px(0o40750, 3));
    sub.push(record(
        b"DEEP.;1",
        0,
        0,
        0,
        &[px(0o40700, 2), nm(b"deep"), field(b"CL", &both32(26))].concat(),
    ));
    img.dir(22, &sub);
    let mut moved = dots(24, ROOT, BS as u32, &px(0o40555, 2));
    moved.push(record(
        b"DEEP",
        26,
        BS as u32,
        FLAG_DIR,
        &[px(0o40700, 2), nm(b"deep"), field(b"RE", &[])].concat(),
    ));
    img.dir(24, &moved);
    let mut deep = vec![
        record(b"\0", 26, BS as u32, FLAG_DIR, &px(0o40700, 2)),
        record(b"\x01", 24, BS as u32, FLAG_DIR, &field(b"PL", &both32(22))),
    ];
    deep.push(record(
        b"BOTTOM.;1",
        33,
        6,
        0,
        &[px(0o100600, 1), nm(b"bottom")].concat(),
    ));
    img.dir(26, &deep);
    img.put(30, 0, b"hello");
    img.put(32, 0, b"np");
    img.put(33, 0, b"bottom");
    img
}

#[test]
fn rock_ridge_names_attributes_links_and_moved_directories() {
    let img = rock_ridge();
    let fs = img.mount(0).unwrap();
    let l = listing(&fs, fs.root_ino);
    let shown: Vec<&str> = l.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        shown,
        [
            ".",
            "..",
            "A Long Name.txt",
            "sub",
            "rr_moved",
            "link",
            "nopx",
            "PLAIN.;1"
        ]
    );
    assert_eq!(l[5].2, DT_LNK);
    let st = find(&fs, "A Long Name.txt").unwrap().stat(7, 2048);
    assert_eq!(
        (st.mode, st.nlink, st.uid, st.gid),
        (S_IFREG | 0o640, 1, 1000, 100)
    );
    assert_eq!(find(&fs, "a long name.txt").err(), Some(Errno::ENOENT));
    assert_eq!(
        find(&fs, "LONGNAME.TXT;1").err(),
        Some(Errno::ENOENT),
        "only Rock Ridge names"
    );
    let link = find(&fs, "link").unwrap();
    assert_eq!((link.vtype, link.size), (VType::Lnk, 4));
    assert_eq!(link.stat(7, 2048).mode, S_IFLNK | 0o777);
    assert_eq!(link.link, Some(Ok(b"a.bc".to_vec())));
    let nopx = find(&fs, "nopx").unwrap().stat(7, 2048);
    assert_eq!(
        (nopx.mode, nopx.uid),
        (S_IFREG | 0o555, 0),
        "plain attributes without PX"
    );
    // the moved directory: listed in sub, hidden in rr_moved
    assert_eq!(names(&fs, 24 * 2048), [".", ".."]);
    let sub = listing(&fs, 22 * 2048);
    assert_eq!(sub[2], ("deep".into(), 26 * 2048, DT_DIR));
    let deep = find(&fs, "sub/deep").unwrap();
    assert_eq!(
        (deep.ino, deep.vtype, deep.perm),
        (26 * 2048, VType::Dir, 0o700)
    );
    assert_eq!(
        find(&fs, "sub/deep/..").unwrap().ino,
        22 * 2048,
        "PL, not rr_moved"
    );
    assert_eq!(listing(&fs, 26 * 2048)[1].1, 22 * 2048);
    assert_eq!(contents(&fs, "sub/deep/bottom"), b"bottom");
    assert_eq!(find(&fs, "rr_moved/deep").err(), Some(Errno::ENOENT));

    let fs = img.mount(ISOFSMNT_RRCASEINS).unwrap();
    assert_eq!(contents(&fs, "a long NAME.TXT"), b"hello");
    let fs = img.mount(ISOFSMNT_NORRIP).unwrap();
    assert_eq!(names(&fs, fs.root_ino)[2..4], ["longname.txt", "sub"]);
}

#[test]
fn joliet_only_without_rock_ridge() {
    let mut img = rock_ridge();
    img.joliet(40);
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_be_bytes).collect() };
    let mut j = dots(40, 40, BS as u32, b"");
    j.push(record(&utf16("Caf\u{e9} \u{1f600}.txt;1"), 30, 5, 0, b""));
    j.push(record(&utf16("Mixed"), 22, BS as u32, FLAG_DIR, b""));
    img.dir(40, &j);
    let fs = img.mount(0).unwrap();
    assert!(fs.rock_ridge().is_some(), "Rock Ridge wins");
    assert_eq!(names(&fs, fs.root_ino)[2], "A Long Name.txt");
    let fs = img.mount(ISOFSMNT_NORRIP).unwrap();
    assert_eq!(fs.root_ino, 40 * 2048);
    assert_eq!(
        names(&fs, fs.root_ino),
        [".", "..", "Caf\u{e9} \u{1f600}.txt", "Mixed"]
    );
    assert_eq!(contents(&fs, "Caf\u{e9} \u{1f600}.txt"), b"hello");
    assert_eq!(
        find(&fs, "mixed").unwrap().ino,
        22 * 2048,
        "recorded upper case folds"
    );
    let fs = img.mount(ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET).unwrap();
    assert_eq!(fs.root_ino, u64::from(ROOT) * 2048);
    assert_eq!(names(&fs, fs.root_ino)[2], "longname.txt");
    let fs = img.mount(ISOFSMNT_NORRIP | ISOFSMNT_NOCASETRANS).unwrap();
    assert_eq!(
        names(&fs, fs.root_ino)[3],
        "Mixed",
        "Joliet names keep their case"
    );
}

#[test]
fn loops_in_the_image_end() {
    let mut img = rock_ridge();
    // A name whose CE chain loops, a placeholder whose CL points at its
    // own parent, and a directory whose `..` is itself.
    let mut root = dots(ROOT, ROOT, BS as u32, &[rr_root(), px(0o40755, 4)].concat());
    root.push(record(
        b"LOOP.;1",
        30,
        5,
        0,
        &[nm(b"loop"), ce(50, 0, 28)].concat(),
    ));
    root.push(record(
        b"SELF.;1",
        0,
        0,
        0,
        &[nm(b"self"), field(b"CL", &both32(ROOT))].concat(),
    ));
    root.push(record(b"SUB", 22, BS as u32, FLAG_DIR, &nm(b"sub")));
    img.dir(ROOT, &root);
    img.put(50, 0, &ce(50, 0, 28));
    img.dir(22, &dots(22, 22, BS as u32, b""));
    let fs = img.mount(0).unwrap();
    assert_eq!(contents(&fs, "loop"), b"hello");
    let path = "self/".repeat(50);
    assert_eq!(find(&fs, &path).unwrap().ino, fs.root_ino);
    assert_eq!(find(&fs, "sub/../../..").unwrap().ino, 22 * 2048);
}

#[test]
fn refused_volumes() {
    let img = plain();
    assert!(img.mount(0).is_ok());
    let mut bad = plain();
    bad.put(16, 1, b"XX001");
    assert_eq!(bad.mount(0).err(), Some(Errno::EINVAL));
    let mut no_root = plain();
    no_root.descriptor(16, 1, 63, BS as u32, b"");
    assert_eq!(
        no_root.mount(0).err(),
        Some(Errno::EIO),
        "no record at the root"
    );
    let mut file_root = plain();
    file_root.put(ROOT, 25, &[0]);
    assert_eq!(
        file_root.mount(0).err(),
        Some(Errno::EINVAL),
        "a root that is no directory"
    );
    let short = Image {
        data: img.data[..17 * BS].to_vec(),
    };
    assert_eq!(short.mount(0).err(), Some(Errno::EINVAL));
    let cut = Image {
        data: img.data[..ROOT as usize * BS].to_vec(),
    };
    assert!(cut.mount(0).is_err());
}

/// Everything reachable from the root, at most `depth` levels down:
/// listings, lookups of every listed name, attributes, contents, links.
fn walk(fs: &Fs, dir: &Node, depth: usize, budget: &mut usize) {
    let Ok(entries) = dir::readdir(fs, dir, 0, 200) else {
        return;
    };
    for e in entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let Ok(ino) = dir::lookup(fs, dir, &e.name) else {
            continue;
        };
        let Ok(n) = Node::load(fs, ino) else {
            continue;
        };
        let _ = n.stat(fs.fsid, 2048);
        match n.vtype {
            VType::Reg => {
                let _ = data::read(&fs.disk, &fs.geo, &n.extents, 0, 1 << 16);
            }
            VType::Dir if depth > 0 && !matches!(e.name.as_slice(), b"." | b"..") => {
                walk(fs, &n, depth - 1, budget)
            }
            _ => {}
        }
    }
}

/// A small xorshift generator, for repeatable corruption.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn corrupted_images_fail_cleanly() {
    let mut rr = rock_ridge();
    rr.joliet(40);
    rr.dir(40, &dots(40, 40, BS as u32, b""));
    let bases = [plain(), rr];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut mounted = 0;
    // CD9660_FUZZ_ROUNDS asks for a longer run.
    let rounds = std::env::var("CD9660_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    for round in 0..rounds {
        let base = &bases[round % 2];
        let mut data = base.data.clone();
        // Bytes of the descriptors and the directories are what matter.
        let hot = [16 * BS..17 * BS + 200, 20 * BS..27 * BS, 40 * BS..41 * BS];
        for _ in 0..1 + rng.below(8) {
            let r = &hot[rng.below(hot.len())];
            let at = r.start + rng.below(r.len());
            data[at] = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                2 => data[at] ^ (1 << rng.below(8)),
                _ => rng.next() as u8,
            };
        }
        if rng.below(10) == 0 {
            data.truncate(rng.below(data.len()));
        }
        let flags = [0, ISOFSMNT_NORRIP, ISOFSMNT_GENS, ISOFSMNT_EXTATT][rng.below(4)];
        let Ok(fs) = open(Box::new(data), flags, 7, b"/mnt") else {
            continue;
        };
        mounted += 1;
        let root = Node::load(&fs, fs.root_ino).unwrap();
        let mut budget = 500;
        walk(&fs, &root, 12, &mut budget);
    }
    assert!(
        mounted > 300,
        "most corruptions leave a mountable volume: {mounted}"
    );
}
