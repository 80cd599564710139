//! FFS: the POSIX suite on UFS1 and UFS2 images made by makefs, makefs
//! trees read back exactly, sparse files past the double indirect
//! blocks, a full file system, several writers, remounts, unclean and
//! unsupported images, and a batch of corrupted images.
//!
//! Every test that writes ends with [`check_image`], which unmounts,
//! mounts again and compares a walk of the whole tree with what the
//! test expects.

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::{MNT_FORCE, MNT_RDONLY, MNT_UPDATE};
use netbsd_abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use rump_tests::posix::{Caps, Fs};
use rump_tests::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A server with the VFS and FFS, one image as `/dev/dk`, and a client.
pub struct Setup {
    pub scratch: Scratch,
    pub server: Server,
    pub client: Client,
    pub image: PathBuf,
    pub log: PathBuf,
}

/// Makes an FFS image of `src` with makefs (`version` 1 or 2, `opts`
/// added to `-o`, `extra` arguments before the image name).
fn makefs(dir: &Path, name: &str, version: u32, opts: &str, extra: &[&str], src: &Path) -> PathBuf {
    let img = dir.join(name);
    let mut o = format!("version={version}");
    if !opts.is_empty() {
        o.push(',');
        o.push_str(opts);
    }
    let out = Command::new("makefs")
        .args(["-t", "ffs", "-o", &o])
        .args(extra)
        .arg(&img)
        .arg(src)
        .stdout(Stdio::null())
        .output()
        .expect("makefs (install makefs)");
    assert!(out.status.success(), "makefs: {}", text(&out.stderr));
    img
}

/// An empty 64 MiB image of `version` with room for a few thousand
/// files, in `scratch`.
fn empty_image(scratch: &Scratch, version: u32) -> PathBuf {
    let src = scratch.path().join("empty");
    let _ = std::fs::create_dir(&src);
    makefs(
        scratch.path(),
        "ffs.img",
        version,
        "",
        &["-s", "64m", "-f", "4000"],
        &src,
    )
}

fn start_on(scratch: Scratch, image: PathBuf) -> Setup {
    let log = scratch.path().join("server.log");
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(std::fs::File::create(&log).unwrap());
    let (vfs, ffs) = (plugin("rumpvfs"), plugin("rumpfs_ffs"));
    let d = format!("key=/dev/dk,hostpath={},size=host", image.display());
    let server = Server::start_cmd(
        cmd,
        &[
            "-l",
            vfs.to_str().unwrap(),
            "-l",
            ffs.to_str().unwrap(),
            "-d",
            &d,
        ],
        &scratch.url("sock"),
    );
    let client = server.client();
    Setup {
        scratch,
        server,
        client,
        image,
        log,
    }
}

/// Mounts `/dev/dk` on `/mnt` with `flags`.
fn mount(c: &Client, flags: i32) -> Result<(), Errno> {
    let _ = c.mkdir(b"/mnt", 0o755);
    let spec = b"/dev/dk\0".to_vec();
    let mut data = (spec.as_ptr() as u64).to_le_bytes();
    c.mount_with(b"ffs", b"/mnt", flags, &mut data, &[&spec])
        .map(|_| ())
}

fn setup_with(version: u32) -> Setup {
    let scratch = Scratch::new();
    let img = empty_image(&scratch, version);
    let s = start_on(scratch, img);
    if let Err(e) = mount(&s.client, 0) {
        panic!(
            "mount ffs: {e:?}: {}",
            std::fs::read_to_string(&s.log).unwrap_or_default()
        );
    }
    s
}

/// A set-up whose file system must check clean (rump.fsck_ffs -f) when
/// the test ends.
pub struct Checked(Setup);

impl Drop for Checked {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            fsck_clean(&self.0);
        }
    }
}

/// Unmounts /mnt (if mounted) and checks /dev/dk with rump.fsck_ffs -f.
fn fsck_clean(s: &Setup) {
    // Other clients of the test may still be going away (their open files
    // keep the mount busy for a moment).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match s.client.unmount(b"/mnt", 0) {
            Ok(()) | Err(Errno::EINVAL) => break,
            Err(Errno::EBUSY) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("unmount before fsck: {e}"),
        }
    }
    let out = run(s
        .scratch
        .tool("fsck_ffs", &s.server.url)
        .args(["-f", "/dev/dk"]));
    assert!(
        out.status.success(),
        "rump.fsck_ffs finds the file system damaged:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn posix_setup(version: u32) -> (Checked, Fs) {
    let s = setup_with(version);
    s.client.mkdir(b"/mnt/t", 0o755).unwrap();
    let fs = Fs {
        client: s.server.client(),
        url: s.server.url.clone(),
        dir: b"/mnt/t".to_vec(),
        caps: Caps::POSIX,
    };
    (Checked(s), fs)
}

mod posix_ufs1 {
    fn setup() -> (super::Checked, rump_tests::posix::Fs) {
        super::posix_setup(1)
    }
    rump_tests::posix_tests!(setup);
}

mod posix_ufs2 {
    fn setup() -> (super::Checked, rump_tests::posix::Fs) {
        super::posix_setup(2)
    }
    rump_tests::posix_tests!(setup);
}

/// What a tree holds: per path (relative to the mount point), a node.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir { perm: u32 },
    File { perm: u32, data: Content },
    Link { target: Vec<u8> },
}

/// A file's bytes: all of them, or a size and the non-zero extents of a
/// file too big to read whole.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Content {
    Bytes(Vec<u8>),
    Sparse {
        size: u64,
        extents: Vec<(u64, Vec<u8>)>,
    },
}

type Tree = BTreeMap<String, Node>;

fn join(dir: &str, name: &[u8]) -> String {
    let n = String::from_utf8_lossy(name);
    if dir.is_empty() {
        n.into_owned()
    } else {
        format!("{dir}/{n}")
    }
}

fn abs(rel: &str) -> Vec<u8> {
    if rel.is_empty() {
        b"/mnt".to_vec()
    } else {
        format!("/mnt/{rel}").into_bytes()
    }
}

fn read_all(c: &Client, path: &[u8]) -> Vec<u8> {
    let fd = c.open(path, O_RDONLY, 0).expect("open");
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = c.read(fd, &mut buf).expect("read");
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    c.close(fd).unwrap();
    out
}

/// Walks the mounted tree; a file whose `expect` entry is sparse is
/// checked at its extents (and a few holes) instead of read whole.
fn walk(c: &Client, expect: &Tree) -> Tree {
    let mut out = Tree::new();
    let mut todo = vec![String::new()];
    while let Some(dir) = todo.pop() {
        for e in c.read_dir(&abs(&dir)).expect("read_dir") {
            if e.name == b"." || e.name == b".." {
                continue;
            }
            let rel = join(&dir, &e.name);
            let p = abs(&rel);
            let st = c.lstat(&p).expect("lstat");
            let perm = st.mode & 0o7777;
            let node = match st.mode & S_IFMT {
                S_IFDIR => {
                    todo.push(rel.clone());
                    Node::Dir { perm }
                }
                S_IFLNK => Node::Link {
                    target: c.readlink(&p).unwrap(),
                },
                S_IFREG => {
                    let data = match expect.get(&rel) {
                        Some(Node::File {
                            data: Content::Sparse { extents, .. },
                            ..
                        }) => {
                            let fd = c.open(&p, O_RDONLY, 0).unwrap();
                            let mut got = Vec::new();
                            for (off, want) in extents {
                                let mut b = vec![0u8; want.len()];
                                assert_eq!(c.pread(fd, &mut b, *off as i64).unwrap(), b.len());
                                got.push((*off, b));
                                // The bytes before an extent are a hole.
                                if *off >= 4096 {
                                    let mut z = vec![1u8; 4096];
                                    c.pread(fd, &mut z, *off as i64 - 4096).unwrap();
                                    assert!(
                                        z.iter().all(|&x| x == 0),
                                        "hole before {off} reads zeros"
                                    );
                                }
                            }
                            c.close(fd).unwrap();
                            Content::Sparse {
                                size: st.size as u64,
                                extents: got,
                            }
                        }
                        _ => Content::Bytes(read_all(c, &p)),
                    };
                    assert_eq!(
                        st.size as usize,
                        match &data {
                            Content::Bytes(b) => b.len(),
                            Content::Sparse { size, .. } => *size as usize,
                        }
                    );
                    Node::File { perm, data }
                }
                other => panic!("unexpected file type {other:o} at {rel}"),
            };
            out.insert(rel, node);
        }
    }
    out
}

/// The check every writing test ends with: unmount, mount again, and
/// compare a walk of the whole tree with `expect`.
fn check_image(s: &Setup, expect: &Tree) {
    let c = &s.client;
    c.unmount(b"/mnt", 0).expect("unmount");
    fsck_clean(s);
    mount(c, 0).expect("mount again");
    let got = walk(c, expect);
    for (k, v) in expect {
        assert_eq!(got.get(k), Some(v), "{k} after a remount");
    }
    assert_eq!(
        got.len(),
        expect.len(),
        "no stray entries: {:?}",
        got.keys().collect::<Vec<_>>()
    );
}

/// The tree of a host directory, as makefs copies it.
fn host_tree(root: &Path) -> Tree {
    let mut out = Tree::new();
    let mut todo = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = todo.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_encoded_bytes();
            let r = join(&rel, &name);
            let md = std::fs::symlink_metadata(e.path()).unwrap();
            let perm = md.mode() & 0o7777;
            let node = if md.is_dir() {
                todo.push((e.path(), r.clone()));
                Node::Dir { perm }
            } else if md.file_type().is_symlink() {
                Node::Link {
                    target: std::fs::read_link(e.path())
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                }
            } else {
                Node::File {
                    perm,
                    data: Content::Bytes(std::fs::read(e.path()).unwrap()),
                }
            };
            out.insert(r, node);
        }
    }
    out
}

/// A deterministic byte stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A source tree with thousands of files, a deep path, big files
/// (through the double indirect blocks at 4 KiB blocks), fast and slow
/// symlinks, hard links, an empty and a sparse file, odd modes.
fn make_source(dir: &Path) {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    std::fs::create_dir_all(dir).unwrap();
    for d in 0..4 {
        let sub = dir.join(format!("many{d}"));
        std::fs::create_dir(&sub).unwrap();
        for i in 0..600 {
            let len = (rng.next() % 3000) as usize;
            std::fs::write(
                sub.join(format!("file-{i:04}-with-a-longer-name")),
                rng.bytes(len),
            )
            .unwrap();
        }
    }
    let mut deep = dir.to_path_buf();
    for i in 0..40 {
        deep = deep.join(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom"), b"at the bottom").unwrap();
    std::fs::write(dir.join("big"), rng.bytes(6 << 20)).unwrap();
    std::fs::write(dir.join("medium"), rng.bytes(200_000)).unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    let sparse = std::fs::File::create(dir.join("sparse")).unwrap();
    sparse.set_len(3 << 20).unwrap();
    drop(sparse);
    std::fs::write(dir.join("target"), b"linked to").unwrap();
    std::os::unix::fs::symlink("target", dir.join("fast")).unwrap();
    let long = "a/very/long/symbolic/link/target/".repeat(4) + "end";
    std::os::unix::fs::symlink(&long, dir.join("slow")).unwrap();
    std::fs::hard_link(dir.join("target"), dir.join("hardlink")).unwrap();
    let odd = dir.join("odd");
    std::fs::write(&odd, b"modes").unwrap();
    std::fs::set_permissions(&odd, std::os::unix::fs::PermissionsExt::from_mode(0o4751)).unwrap();
}

#[test]
fn makefs_images_read_back_exactly() {
    let scratch = Scratch::new();
    let src = scratch.path().join("src");
    make_source(&src);
    let expect = host_tree(&src);
    let host_target = std::fs::metadata(src.join("target")).unwrap();
    for (i, (version, opts)) in [
        (1, "bsize=4096,fsize=512"),
        (1, "bsize=16384,fsize=2048"),
        (2, "bsize=8192,fsize=1024"),
        (2, "bsize=32768,fsize=4096"),
    ]
    .into_iter()
    .enumerate()
    {
        let img = makefs(
            scratch.path(),
            &format!("t{i}.img"),
            version,
            opts,
            &[],
            &src,
        );
        let sub = Scratch::new();
        let s = start_on(sub, img);
        mount(&s.client, MNT_RDONLY).expect("mount");
        let got = walk(&s.client, &expect);
        assert_eq!(got.len(), expect.len(), "UFS{version} {opts}");
        for (k, v) in &expect {
            assert_eq!(got.get(k), Some(v), "UFS{version} {opts}: {k}");
        }
        let c = &s.client;
        let a = c.stat(b"/mnt/target").unwrap();
        let b = c.stat(b"/mnt/hardlink").unwrap();
        assert_eq!((a.ino, a.nlink), (b.ino, 2), "hard links share an inode");
        assert_eq!((a.uid, a.gid), (host_target.uid(), host_target.gid()));
        assert_eq!(a.mtime.sec, host_target.mtime());
        assert_eq!(c.lstat(b"/mnt/slow").unwrap().size, 135);
        let root = c.stat(b"/mnt").unwrap();
        assert_eq!(root.nlink, 2 + 4 + 1, "root counts its subdirectories");
        let st = c.statvfs(b"/mnt").unwrap();
        assert!(st.bfree < st.blocks && st.files > 2400);
        assert_eq!(
            c.open(b"/mnt/new", O_CREAT | O_WRONLY, 0o644).unwrap_err(),
            Errno::EROFS
        );
    }
}

/// The fs_clean byte of an image whose superblock is at 8 KiB or 64 KiB.
fn clean_byte(img: &Path) -> (u64, u8) {
    let d = std::fs::read(img).unwrap();
    for off in [65536usize, 8192] {
        let m = u32::from_le_bytes(d[off + 1372..off + 1376].try_into().unwrap());
        if m == 0x0001_1954 || m == 0x1954_0119 {
            return (off as u64, d[off + 209]);
        }
    }
    panic!("no superblock");
}

fn set_sb_byte(img: &Path, off: u64, v: u8) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.write_all_at(&[v], off).unwrap();
}

fn write_file(c: &Client, path: &[u8], data: &[u8]) {
    let fd = c
        .open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        .expect("create");
    let mut done = 0;
    while done < data.len() {
        let end = (done + (1 << 20)).min(data.len());
        done += c.write(fd, &data[done..end]).expect("write");
    }
    c.close(fd).unwrap();
}

#[test]
fn sparse_file_past_the_double_indirect_blocks() {
    let scratch = Scratch::new();
    let src = scratch.path().join("empty");
    std::fs::create_dir(&src).unwrap();
    let img = makefs(
        scratch.path(),
        "s.img",
        2,
        "bsize=4096,fsize=512",
        &["-s", "16m"],
        &src,
    );
    let s = start_on(scratch, img);
    mount(&s.client, 0).unwrap();
    let c = &s.client;
    let before = c.statvfs(b"/mnt").unwrap();
    // 4 KiB blocks hold 512 pointers: 12 + 512 + 512*512 blocks end the
    // double indirect range at 1,075,888,128 bytes.
    let far = 1_075_888_128u64 + 123_456_789;
    let fd = c.open(b"/mnt/sparse", O_RDWR | O_CREAT, 0o644).unwrap();
    c.pwrite(fd, b"head", 0).unwrap();
    c.pwrite(fd, b"in the double range", 600 << 20).unwrap();
    c.pwrite(fd, b"tail", far as i64).unwrap();
    let st = c.fstat(fd).unwrap();
    assert_eq!(st.size as u64, far + 4);
    assert!(
        st.blocks <= 8 * 12,
        "holes hold no blocks: {} sectors",
        st.blocks
    );
    let mut b = [0u8; 4];
    c.pread(fd, &mut b, far as i64).unwrap();
    assert_eq!(&b, b"tail");
    let mut z = vec![1u8; 65536];
    c.pread(fd, &mut z, (far - 70_000) as i64).unwrap();
    assert!(z.iter().all(|&x| x == 0));
    c.close(fd).unwrap();
    let after = c.statvfs(b"/mnt").unwrap();
    let used = (before.bfree - after.bfree) * after.frsize;
    assert!(used <= 12 * 4096, "{used} bytes used for a sparse file");
    let mut expect = Tree::new();
    expect.insert(
        "sparse".into(),
        Node::File {
            perm: 0o644,
            data: Content::Sparse {
                size: far + 4,
                extents: vec![
                    (0, b"head".to_vec()),
                    (600 << 20, b"in the double range".to_vec()),
                    (far, b"tail".to_vec()),
                ],
            },
        },
    );
    check_image(&s, &expect);
    // Truncating gives every block back.
    c.truncate(b"/mnt/sparse", 0).unwrap();
    assert_eq!(c.statvfs(b"/mnt").unwrap().bfree, before.bfree);
    // A write starting past the end of an empty file, through the
    // direct blocks into the single indirect ones; an unlinked open file
    // keeps its blocks until it is closed.
    let fd = c.open(b"/mnt/sparse", O_RDWR, 0).unwrap();
    let data = vec![7u8; 100_000];
    assert_eq!(c.pwrite(fd, &data, 5000).unwrap(), data.len());
    c.unlink(b"/mnt/sparse").unwrap();
    let mut back = vec![0u8; 105_000];
    assert_eq!(c.pread(fd, &mut back, 0).unwrap(), back.len());
    assert!(back[..5000].iter().all(|&b| b == 0) && back[5000..] == data[..]);
    assert!(c.statvfs(b"/mnt").unwrap().bfree < before.bfree);
    c.close(fd).unwrap();
    assert_eq!(
        c.statvfs(b"/mnt").unwrap().bfree,
        before.bfree,
        "freed at the last close"
    );
    check_image(&s, &Tree::new());
}

#[test]
fn filling_up_gives_enospc_and_deleting_recovers() {
    let scratch = Scratch::new();
    let src = scratch.path().join("empty");
    std::fs::create_dir(&src).unwrap();
    let img = makefs(
        scratch.path(),
        "f.img",
        2,
        "",
        &["-s", "4m", "-f", "200"],
        &src,
    );
    let s = start_on(scratch, img);
    mount(&s.client, 0).unwrap();
    let c = &s.client;
    let empty = c.statvfs(b"/mnt").unwrap();
    let chunk = vec![0x5au8; 64 << 10];
    let mut n = 0;
    let err = 'fill: loop {
        let path = format!("/mnt/f{n}").into_bytes();
        let fd = match c.open(&path, O_WRONLY | O_CREAT, 0o644) {
            Ok(fd) => fd,
            Err(e) => break 'fill e,
        };
        for _ in 0..4 {
            match c.write(fd, &chunk) {
                Ok(k) if k == chunk.len() => {}
                Ok(_) => {}
                Err(e) => {
                    c.close(fd).unwrap();
                    break 'fill e;
                }
            }
        }
        c.close(fd).unwrap();
        n += 1;
        assert!(n < 1000, "never filled up");
    };
    assert_eq!(err, Errno::ENOSPC);
    assert!(n > 5, "only {n} files fit");
    let full = c.statvfs(b"/mnt").unwrap();
    assert!(full.bfree < 64, "{} fragments still free", full.bfree);
    for i in 0..n {
        c.unlink(format!("/mnt/f{i}").as_bytes()).unwrap();
    }
    let _ = c.unlink(format!("/mnt/f{n}").as_bytes());
    let back = c.statvfs(b"/mnt").unwrap();
    assert_eq!(
        (back.bfree, back.ffree),
        (empty.bfree, empty.ffree),
        "everything comes back"
    );
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    write_file(c, b"/mnt/again", &data);
    let mut expect = Tree::new();
    expect.insert(
        "again".into(),
        Node::File {
            perm: 0o644,
            data: Content::Bytes(data),
        },
    );
    check_image(&s, &expect);
}

#[test]
fn interleaved_writers_from_several_clients() {
    let s = setup_with(1);
    s.client.mkdir(b"/mnt/shared", 0o755).unwrap();
    let url = s.server.url.clone();
    let workers: Vec<_> = (0..4u8)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let c = Client::connect(&url, "writer").unwrap();
                let path = format!("/mnt/shared/big{w}").into_bytes();
                let fd = c.open(&path, O_RDWR | O_CREAT, 0o644).unwrap();
                let mut expect = Tree::new();
                for round in 0..40u32 {
                    let block = vec![w.wrapping_mul(31).wrapping_add(round as u8); 7000];
                    c.pwrite(fd, &block, i64::from(round) * 7000).unwrap();
                    let small = format!("shared/w{w}-{round}");
                    let body = format!("{w}:{round}").into_bytes();
                    write_file(&c, &abs(&small), &body);
                    expect.insert(
                        small,
                        Node::File {
                            perm: 0o644,
                            data: Content::Bytes(body),
                        },
                    );
                    if round % 3 == 0 {
                        let d = format!("/mnt/shared/dir{w}-{round}");
                        c.mkdir(d.as_bytes(), 0o700).unwrap();
                        expect.insert(d[5..].to_string(), Node::Dir { perm: 0o700 });
                    }
                }
                c.close(fd).unwrap();
                let data: Vec<u8> = (0..40u32)
                    .flat_map(|r| vec![w.wrapping_mul(31).wrapping_add(r as u8); 7000])
                    .collect();
                expect.insert(
                    format!("shared/big{w}"),
                    Node::File {
                        perm: 0o644,
                        data: Content::Bytes(data),
                    },
                );
                expect
            })
        })
        .collect();
    let mut expect = Tree::new();
    expect.insert("shared".into(), Node::Dir { perm: 0o755 });
    for w in workers {
        expect.extend(w.join().unwrap());
    }
    check_image(&s, &expect);
}

#[test]
fn written_data_survives_unmount_and_halt_and_the_clean_flag_follows() {
    let s = setup_with(2);
    let c = &s.client;
    let (sbloc, clean) = clean_byte(&s.image);
    assert_eq!(
        clean, 2,
        "mounted read-write: not clean on disk (FS_WASCLEAN)"
    );
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    write_file(c, b"/mnt/data", &data);
    c.mkdir(b"/mnt/dir", 0o750).unwrap();
    c.symlink(b"../data", b"/mnt/dir/ln").unwrap();
    let mut expect = Tree::new();
    expect.insert(
        "data".into(),
        Node::File {
            perm: 0o644,
            data: Content::Bytes(data.clone()),
        },
    );
    expect.insert("dir".into(), Node::Dir { perm: 0o750 });
    expect.insert(
        "dir/ln".into(),
        Node::Link {
            target: b"../data".to_vec(),
        },
    );
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(clean_byte(&s.image).1, 1, "unmounted: clean");
    mount(c, 0).unwrap();
    assert_eq!(read_all(c, b"/mnt/data"), data);
    write_file(c, b"/mnt/after", b"written before halt");
    expect.insert(
        "after".into(),
        Node::File {
            perm: 0o644,
            data: Content::Bytes(b"written before halt".to_vec()),
        },
    );
    let halt = run(&mut s.scratch.tool("halt", &s.server.url));
    assert!(halt.status.success(), "{}", text(&halt.stderr));
    let Setup {
        scratch,
        mut server,
        image,
        ..
    } = s;
    assert!(server
        .wait_exit(std::time::Duration::from_secs(10))
        .is_some());
    assert_eq!(clean_byte(&image).1, 1, "halt unmounts cleanly");
    let _ = sbloc;
    let s = start_on(scratch, image);
    mount(&s.client, 0).unwrap();
    check_image(&s, &expect);
}

#[test]
fn an_unclean_image_mounts_read_only_unless_forced() {
    let scratch = Scratch::new();
    let src = scratch.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"old").unwrap();
    let img = makefs(scratch.path(), "u.img", 1, "", &["-s", "8m"], &src);
    let (sbloc, _) = clean_byte(&img);
    set_sb_byte(&img, sbloc + 209, 0);
    let s = start_on(scratch, img);
    let c = &s.client;
    mount(c, 0).expect("an unclean file system still mounts");
    let rdonly = |c: &Client| c.statvfs(b"/mnt").unwrap().flag & MNT_RDONLY as u64 != 0;
    assert!(rdonly(c), "statvfs shows the mount read-only");
    assert_eq!(read_all(c, b"/mnt/f"), b"old");
    assert_eq!(
        c.open(b"/mnt/g", O_CREAT | O_WRONLY, 0o644).unwrap_err(),
        Errno::EROFS
    );
    assert_eq!(c.unlink(b"/mnt/f").unwrap_err(), Errno::EROFS);
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(
        clean_byte(&s.image).1,
        0,
        "a read-only mount leaves the flag alone"
    );
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("not clean"), "the log says why: {log}");
    mount(c, MNT_FORCE).expect("forced");
    assert!(!rdonly(c), "a forced mount is read-write");
    write_file(c, b"/mnt/g", b"forced");
    // Still unclean after a forced read-write mount: fsck's business.
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(clean_byte(&s.image).1, 0);
    let again = std::fs::read_to_string(&s.log).unwrap();
    assert!(again.matches("not clean").count() >= 2);
}

#[test]
fn an_update_turns_a_read_only_mount_read_write_and_back() {
    let scratch = Scratch::new();
    let src = scratch.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"old").unwrap();
    let img = makefs(scratch.path(), "rw.img", 2, "", &["-s", "8m"], &src);
    let s = start_on(scratch, img);
    let c = &s.client;
    let rdonly = |c: &Client| c.statvfs(b"/mnt").unwrap().flag & MNT_RDONLY as u64 != 0;
    mount(c, MNT_RDONLY).unwrap();
    assert!(rdonly(c));
    assert_eq!(c.mkdir(b"/mnt/d", 0o755).unwrap_err(), Errno::EROFS);
    mount(c, MNT_UPDATE).expect("read-only to read-write");
    assert!(!rdonly(c));
    assert_eq!(clean_byte(&s.image).1, 2, "in use on disk: FS_WASCLEAN");
    c.mkdir(b"/mnt/d", 0o755).unwrap();
    write_file(c, b"/mnt/d/new", b"written after the update");
    mount(c, MNT_UPDATE | MNT_RDONLY).expect("back to read-only");
    assert!(rdonly(c));
    assert_eq!(clean_byte(&s.image).1, 1, "clean again: FS_ISCLEAN");
    assert_eq!(c.unlink(b"/mnt/f").unwrap_err(), Errno::EROFS);
    assert_eq!(read_all(c, b"/mnt/d/new"), b"written after the update");
    fsck_clean(&s);
    // An unclean file system stays read-only unless forced, as NetBSD.
    let scratch = Scratch::new();
    let img = makefs(scratch.path(), "u.img", 2, "", &["-s", "8m"], &src);
    let (sbloc, _) = clean_byte(&img);
    set_sb_byte(&img, sbloc + 209, 0);
    let s = start_on(scratch, img);
    let c = &s.client;
    mount(c, MNT_RDONLY).unwrap();
    assert_eq!(mount(c, MNT_UPDATE).unwrap_err(), Errno::EPERM);
    assert!(rdonly(c));
    mount(c, MNT_UPDATE | MNT_FORCE).expect("forced");
    write_file(c, b"/mnt/g", b"forced");
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(clean_byte(&s.image).1, 0, "still unclean: fsck's business");
    assert!(std::fs::read_to_string(&s.log)
        .unwrap()
        .contains("please fsck"));
}

#[test]
fn unsupported_features_mount_read_only_with_a_reason() {
    let scratch = Scratch::new();
    let src = scratch.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"data").unwrap();
    let img = makefs(scratch.path(), "w.img", 2, "", &["-s", "8m"], &src);
    let (sbloc, _) = clean_byte(&img);
    // fs_flags |= FS_DOWAPBL (0x100): a journal we do not replay.
    set_sb_byte(&img, sbloc + 1312 + 1, 0x01);
    let s = start_on(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    assert_eq!(read_all(c, b"/mnt/f"), b"data");
    assert_eq!(c.mkdir(b"/mnt/d", 0o755).unwrap_err(), Errno::EROFS);
    let listed = c.getvfsstat().unwrap();
    let m = listed.iter().find(|m| m.mntonname == "/mnt").unwrap();
    assert_ne!(
        m.flag & MNT_RDONLY as u64,
        0,
        "the mount list says read-only"
    );
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("WAPBL"), "{log}");
    c.unmount(b"/mnt", 0).unwrap();
    // Unknown flags refuse the mount, as NetBSD does.
    set_sb_byte(&s.image, sbloc + 1312 + 2, 0x10);
    assert_eq!(mount(c, 0).unwrap_err(), Errno::EINVAL);
}

/// Reads superblock numbers of an image for aiming corruption.
struct Layout {
    sb: u64,
    fsize: u64,
    cg_blocks: Vec<u64>,
    inodes: Vec<u64>,
    data: u64,
}

fn layout(img: &[u8]) -> Layout {
    let sb = [65536usize, 8192]
        .into_iter()
        .find(|&o| {
            let m = u32::from_le_bytes(img[o + 1372..o + 1376].try_into().unwrap());
            m == 0x0001_1954 || m == 0x1954_0119
        })
        .unwrap();
    let g = |o: usize| {
        u64::from(u32::from_le_bytes(
            img[sb + o..sb + o + 4].try_into().unwrap(),
        ))
    };
    let (fsize, fpg, ncg) = (g(52), g(188), g(44));
    let (cblkno, iblkno, dblkno) = (g(12), g(16), g(20));
    Layout {
        sb: sb as u64,
        fsize,
        cg_blocks: (0..ncg).map(|c| (c * fpg + cblkno) * fsize).collect(),
        inodes: (0..ncg).map(|c| (c * fpg + iblkno) * fsize).collect(),
        data: dblkno * fsize,
    }
}

#[test]
fn corrupted_images_fail_cleanly_and_the_server_lives_on() {
    let scratch = Scratch::new();
    let src = scratch.path().join("src");
    std::fs::create_dir_all(src.join("dir/sub")).unwrap();
    let mut rng = Rng(0xfeed_beef_cafe_f00d);
    for i in 0..12 {
        std::fs::write(src.join(format!("dir/f{i}")), rng.bytes(i * 700)).unwrap();
    }
    std::fs::write(src.join("dir/sub/indirect"), rng.bytes(120_000)).unwrap();
    std::os::unix::fs::symlink("dir/f1", src.join("fast")).unwrap();
    std::os::unix::fs::symlink("x/".repeat(70), src.join("slow")).unwrap();
    let bases: Vec<Vec<u8>> = [1, 2]
        .into_iter()
        .map(|v| {
            let img = makefs(
                scratch.path(),
                &format!("b{v}.img"),
                v,
                "bsize=4096,fsize=512",
                &["-s", "1m"],
                &src,
            );
            std::fs::read(img).unwrap()
        })
        .collect();
    let bases = std::sync::Arc::new(bases);
    let total = 240;
    let per_server = 15;
    // Two batches of servers run side by side.
    let halves: Vec<_> = (0..2u64)
        .map(|h| {
            let bases = bases.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (h + 1));
                let mut mounted = 0;
                for batch in 0..total / per_server / 2 {
                    mounted += corrupted_batch(&bases, &mut rng, per_server, batch);
                }
                mounted
            })
        })
        .collect();
    let mounted: usize = halves.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(
        mounted > total / 4,
        "only {mounted} of {total} mounted at all"
    );
    assert!(mounted < total, "some corruption must be refused");
}

/// Corrupts `n` copies of the base images, serves them from one server,
/// mounts and walks each; returns how many mounted.
fn corrupted_batch(bases: &[Vec<u8>], rng: &mut Rng, n: usize, batch: usize) -> usize {
    let dir = Scratch::new();
    let mut args: Vec<String> = vec![
        "-l".into(),
        plugin("rumpvfs").display().to_string(),
        "-l".into(),
        plugin("rumpfs_ffs").display().to_string(),
    ];
    for k in 0..n {
        let mut img = bases[(batch + k) % 2].clone();
        let l = layout(&img);
        let (start, len) = match rng.next() % 5 {
            0 => (l.sb, 1376),
            1 => (l.cg_blocks[(rng.next() as usize) % l.cg_blocks.len()], 512),
            2 => (l.inodes[0], 16 * 256),
            3 => (l.data, 16 * l.fsize),
            _ => (l.data, img.len() as u64 / 2),
        };
        for _ in 0..1 + rng.next() % 6 {
            let at = (start + rng.next() % len) as usize;
            if at < img.len() {
                img[at] = match rng.next() % 4 {
                    0 => 0,
                    1 => 0xff,
                    _ => rng.next() as u8,
                };
            }
        }
        if rng.next() % 10 == 0 {
            let keep = (rng.next() as usize) % img.len();
            img.truncate((keep / 512 * 512).max(512));
        }
        let p = dir.path().join(format!("c{k}.img"));
        std::fs::write(&p, &img).unwrap();
        args.push("-d".into());
        args.push(format!("key=/dev/c{k},hostpath={},size=host", p.display()));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = dir.path().join("server.log");
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(std::fs::File::create(&log).unwrap());
    let server = Server::start_cmd(cmd, &refs, &dir.url("sock"));
    let c = server.client();
    c.mkdir(b"/m", 0o755).unwrap();
    let mut mounted = 0;
    for k in 0..n {
        let spec = format!("/dev/c{k}\0").into_bytes();
        let mut data = (spec.as_ptr() as u64).to_le_bytes();
        // A third are mounted read-write and changed too.
        let write = k % 3 == 0;
        let flags = if write { 0 } else { MNT_RDONLY };
        if c.mount_with(b"ffs", b"/m", flags, &mut data, &[&spec])
            .is_ok()
        {
            mounted += 1;
            walk_hostile(&c, write);
            let _ = c.unmount(b"/m", 0);
            let _ = c.unmount(b"/m", MNT_FORCE);
        }
    }
    let other = server.client();
    assert!(
        other.stat(b"/m").is_ok(),
        "the server answers another client"
    );
    assert!(alive(server.child.id() as i32));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.contains("panicked"), "no panic was caught: {log}");
    mounted
}

/// Reads everything reachable on a possibly corrupt mount at /m,
/// ignoring errors, within a bounded number of steps; `write`: then
/// changes it too.
fn walk_hostile(c: &Client, write: bool) {
    let mut todo = vec![b"/m".to_vec()];
    let mut steps = 0;
    while let Some(dir) = todo.pop() {
        let Ok(ents) = c.read_dir(&dir) else { continue };
        for e in ents {
            steps += 1;
            if steps > 200 || e.name == b"." || e.name == b".." {
                continue;
            }
            let mut p = dir.clone();
            p.push(b'/');
            p.extend_from_slice(&e.name);
            let Ok(st) = c.lstat(&p) else { continue };
            match st.mode & S_IFMT {
                S_IFDIR => todo.push(p),
                S_IFLNK => {
                    let _ = c.readlink(&p);
                }
                S_IFREG => {
                    if let Ok(fd) = c.open(&p, O_RDONLY, 0) {
                        let mut b = vec![0u8; 1 << 17];
                        let _ = c.pread(fd, &mut b, 0);
                        let _ = c.close(fd);
                    }
                    // Writing to a corrupt file must fail or work, never hang.
                    if !write {
                        continue;
                    }
                    if let Ok(fd) = c.open(&p, O_WRONLY | O_APPEND, 0) {
                        let _ = c.write(fd, b"more");
                        let _ = c.close(fd);
                    }
                }
                _ => {}
            }
        }
    }
    if write {
        let _ = c.mkdir(b"/m/newdir", 0o755);
        let _ = c.rename(b"/m/dir", b"/m/newdir/moved");
        let _ = c.unlink(b"/m/fast");
    }
}

/// A server killed with SIGKILL right after fsync leaves an image that
/// mounts again (forced: it was not unmounted cleanly), that
/// rump.fsck_ffs finds consistent, and that holds the fsynced data.
#[test]
fn fsynced_data_survives_sigkill() {
    for version in [1, 2] {
        let s = setup_with(version);
        let c = &s.client;
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
        c.mkdir(b"/mnt/d", 0o755).unwrap();
        let fd = c
            .open(b"/mnt/d/kept", O_WRONLY | O_CREAT | O_TRUNC, 0o640)
            .unwrap();
        assert_eq!(c.write(fd, &data).unwrap(), data.len());
        c.fsync(fd).unwrap();
        for i in 0..50 {
            // Small files too, each fsynced.
            let name = format!("/mnt/d/small{i}");
            let f = c.open(name.as_bytes(), O_WRONLY | O_CREAT, 0o644).unwrap();
            c.write(f, name.as_bytes()).unwrap();
            c.fsync(f).unwrap();
            c.close(f).unwrap();
        }
        let Setup {
            scratch,
            mut server,
            image,
            ..
        } = s;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        drop(server);
        let s = start_on(scratch, image);
        let c = &s.client;
        let out = run(s
            .scratch
            .tool("fsck_ffs", &s.server.url)
            .args(["-f", "/dev/dk"]));
        assert!(
            out.status.success(),
            "UFS{version}: fsck after SIGKILL:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        mount(c, MNT_FORCE).expect("mounts again, forced");
        assert!(
            read_all(c, b"/mnt/d/kept") == data,
            "UFS{version}: fsynced data"
        );
        for i in 0..50 {
            let name = format!("/mnt/d/small{i}");
            assert_eq!(read_all(c, name.as_bytes()), name.as_bytes());
        }
        assert_eq!(c.stat(b"/mnt/d/kept").unwrap().mode & 0o7777, 0o640);
    }
}

#[test]
fn a_big_directory_stays_right_through_its_index() {
    // Big enough to be indexed (more than 8 chunks of 512 bytes), then
    // changed every way: removals leave gaps that new names fill, renames
    // move names within it, and every lookup must agree with a listing.
    let s = Checked(setup_with(2));
    let c = &s.0.client;
    c.mkdir(b"/mnt/d", 0o755).unwrap();
    let name = |i: usize| format!("file-{i}-{}", "x".repeat(i % 23));
    let mut expect = std::collections::BTreeSet::new();
    for i in 0..600 {
        let p = format!("/mnt/d/{}", name(i));
        c.close(c.open(p.as_bytes(), O_CREAT | O_WRONLY, 0o644).unwrap())
            .unwrap();
        expect.insert(name(i));
    }
    for i in (0..600).step_by(3) {
        c.unlink(format!("/mnt/d/{}", name(i)).as_bytes()).unwrap();
        expect.remove(&name(i));
    }
    for i in (1..600).step_by(15) {
        let (from, to) = (name(i), format!("renamed-{i}"));
        c.rename(
            format!("/mnt/d/{from}").as_bytes(),
            format!("/mnt/d/{to}").as_bytes(),
        )
        .unwrap();
        expect.remove(&from);
        expect.insert(to);
    }
    for i in 0..150 {
        let n = format!("new-{i}");
        c.mkdir(format!("/mnt/d/{n}").as_bytes(), 0o755).unwrap();
        expect.insert(n);
    }
    let check = |what: &str| {
        let listed: std::collections::BTreeSet<String> = c
            .read_dir(b"/mnt/d")
            .unwrap()
            .into_iter()
            .map(|e| String::from_utf8(e.name).unwrap())
            .filter(|n| n != "." && n != "..")
            .collect();
        assert_eq!(listed, expect, "{what}: listing");
        for n in &expect {
            assert!(
                c.stat(format!("/mnt/d/{n}").as_bytes()).is_ok(),
                "{what}: {n}"
            );
        }
        for i in (0..600).step_by(3) {
            assert_eq!(
                c.stat(format!("/mnt/d/{}", name(i)).as_bytes())
                    .unwrap_err(),
                Errno::ENOENT,
                "{what}: removed {}",
                name(i)
            );
        }
    };
    check("mounted");
    c.unmount(b"/mnt", 0).unwrap();
    mount(c, 0).unwrap();
    check("remounted");
    let log = std::fs::read_to_string(&s.0.log).unwrap();
    assert!(!log.contains("out of step"), "the index kept up: {log}");
}
