//! ext2fs: images made by mke2fs read back exactly; what the kernel
//! writes passes `e2fsck -fn` and reads back in debugfs; the POSIX
//! suite; a full file system; concurrent writers; damaged images;
//! images with features that are not implemented; rump.newfs_ext2fs.

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::{MNT_RDONLY, MNT_UPDATE};
use netbsd_abi::stat::{Timespec, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};
use rump_tests::posix::{Caps, Fs};
use rump_tests::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A server with the VFS and ext2fs and a disk `/dev/wd0` backed by
/// `img`; its log goes to `log` in the scratch directory.
struct Setup {
    scratch: Scratch,
    server: Server,
    client: Client,
    img: PathBuf,
}

impl Setup {
    fn log(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("log")).unwrap_or_default()
    }
}

fn start(scratch: Scratch, img: PathBuf) -> Setup {
    start_with(scratch, img, &[])
}

/// [`start`] with more server arguments.
fn start_with(scratch: Scratch, img: PathBuf, extra: &[&str]) -> Setup {
    let (vfs, ext2) = (plugin("rumpvfs"), plugin("rumpfs_ext2fs"));
    let disk = format!("key=/dev/wd0,hostpath={},size=host", img.display());
    let log = std::fs::File::create(scratch.path().join("log")).unwrap();
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(Stdio::from(log));
    let mut args = vec![
        "-l",
        vfs.to_str().unwrap(),
        "-l",
        ext2.to_str().unwrap(),
        "-d",
        &disk,
    ];
    args.extend_from_slice(extra);
    let server = Server::start_cmd(cmd, &args, &scratch.url("sock"));
    let client = server.client();
    Setup {
        scratch,
        server,
        client,
        img,
    }
}

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

/// Runs mke2fs on `img` (`size` like "16m"), from `src` if given.
fn mke2fs(img: &Path, args: &[&str], size: &str, src: Option<&Path>) {
    let mut c = e2prog("mke2fs");
    c.args(["-q", "-F"]).args(args);
    if let Some(s) = src {
        c.arg("-d").arg(s);
    }
    let o = run(c.arg(img).arg(size));
    assert!(o.status.success(), "mke2fs {args:?}: {}", text(&o.stderr));
}

/// `e2fsck -fn`: (exit status, output).
fn e2fsck(img: &Path) -> (i32, String) {
    let o = run(e2prog("e2fsck").arg("-fn").arg(img));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    (o.status.code().unwrap_or(-1), out)
}

/// e2fsck finds nothing wrong, and the superblock's free counts (which
/// e2fsck does not count as errors) are the sums of the groups'.
fn assert_clean(img: &Path) {
    let (code, out) = e2fsck(img);
    assert_eq!(code, 0, "e2fsck -fn:\n{out}");
    let dump = text(&run(e2prog("dumpe2fs").arg(img)).stdout);
    let total = |name: &str| -> u64 {
        dump.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {dump}"))
    };
    let (mut blocks, mut inodes) = (0, 0);
    for l in dump.lines() {
        let words: Vec<&str> = l.split_whitespace().collect();
        if let [b, "free", "blocks,", i, "free", "inodes,", ..] = words.as_slice() {
            blocks += b.parse::<u64>().unwrap();
            inodes += i.parse::<u64>().unwrap();
        }
    }
    assert_eq!(total("Free blocks:"), blocks, "superblock free blocks");
    assert_eq!(total("Free inodes:"), inodes, "superblock free inodes");
}

/// debugfs's output for a request (`-w` to change the image).
fn debugfs(img: &Path, write: bool, request: &str) -> Vec<u8> {
    let mut c = e2prog("debugfs");
    if write {
        c.arg("-w");
    }
    let o = run(c.arg("-R").arg(request).arg(img));
    assert!(o.status.success(), "debugfs {request}: {}", text(&o.stderr));
    o.stdout
}

/// Mounts /dev/wd0 on /mnt with `flags`.
fn mount(c: &Client, flags: i32) -> Result<i64, Errno> {
    let _ = c.mkdir(b"/mnt", 0o755);
    let spec = b"/dev/wd0\0".to_vec();
    let mut data = (spec.as_ptr() as u64).to_le_bytes();
    c.mount_with(b"ext2fs", b"/mnt", flags, &mut data, &[&spec])
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

fn write_file(c: &Client, path: &[u8], data: &[u8]) {
    let fd = c
        .open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        .expect("create");
    let mut done = 0;
    while done < data.len() {
        let n = (data.len() - done).min(1 << 16);
        assert_eq!(c.write(fd, &data[done..done + n]).unwrap(), n);
        done += n;
    }
    c.close(fd).unwrap();
}

fn pattern(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}

/// A host tree with every kind of file mke2fs -d copies.
fn host_tree(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let p = |r: &str| root.join(r);
    std::fs::create_dir_all(p("d/e")).unwrap();
    std::fs::create_dir(p("many")).unwrap();
    std::fs::write(p("a"), b"hello\n").unwrap();
    std::fs::write(p("empty"), b"").unwrap();
    std::fs::write(p("big"), pattern(300_000, 1)).unwrap();
    std::fs::write(p("d/e/deep"), pattern(5000, 2)).unwrap();
    let f = std::fs::File::create(p("sparse")).unwrap();
    f.write_all_at(b"end", 300_000).unwrap();
    let f = std::fs::File::create(p("far")).unwrap();
    f.write_all_at(b"triple", 67_200_000).unwrap();
    std::fs::hard_link(p("a"), p("hard")).unwrap();
    std::os::unix::fs::symlink("a", p("fast")).unwrap();
    std::os::unix::fs::symlink("x".repeat(100), p("slow")).unwrap();
    for i in 0..70 {
        std::fs::write(
            p(&format!("many/file-with-a-long-name-{i:04}")),
            format!("{i}"),
        )
        .unwrap();
    }
    std::fs::write(root.join("n".repeat(255)), b"long name").unwrap();
    let o = run(Command::new("mkfifo").arg(p("fifo")));
    assert!(o.status.success());
    std::fs::set_permissions(p("a"), std::fs::Permissions::from_mode(0o4751)).unwrap();
    std::fs::set_permissions(p("d"), std::fs::Permissions::from_mode(0o750)).unwrap();
    let o = run(Command::new("touch")
        .args(["-h", "-d", "2001-02-03 04:05:06"])
        .arg(p("a"))
        .arg(p("slow"))
        .arg(p("d/e")));
    assert!(o.status.success());
}

/// Compares the kernel's /mnt/<rel> with the host's `root`/<rel>,
/// recursively; `fixups` override owners and times set with debugfs.
fn compare(c: &Client, root: &Path, rel: &str, fixups: &BTreeMap<String, (u32, u32, i64)>) {
    let host = root.join(rel);
    let kpath = format!("/mnt/{rel}");
    let k = c
        .lstat(kpath.as_bytes())
        .unwrap_or_else(|e| panic!("{kpath}: {e}"));
    let h = std::fs::symlink_metadata(&host).unwrap();
    assert_eq!(k.mode, h.mode(), "{rel}: mode");
    // The root also holds lost+found, which changed it.
    if !rel.is_empty() {
        assert_eq!(u64::from(k.nlink), h.nlink(), "{rel}: links");
        let (uid, gid, nsec) = fixups.get(rel).copied().unwrap_or((h.uid(), h.gid(), 0));
        assert_eq!((k.uid, k.gid), (uid, gid), "{rel}: owner");
        assert_eq!(k.mtime.sec, h.mtime(), "{rel}: mtime");
        assert_eq!(k.mtime.nsec, nsec, "{rel}: mtime nsec");
    }
    match k.mode & S_IFMT {
        S_IFREG => {
            assert_eq!(k.size as u64, h.len(), "{rel}: size");
            assert_eq!(
                read_all(c, kpath.as_bytes()),
                std::fs::read(&host).unwrap(),
                "{rel}"
            );
        }
        S_IFLNK => {
            let t = std::fs::read_link(&host).unwrap();
            assert_eq!(
                c.readlink(kpath.as_bytes()).unwrap(),
                t.as_os_str().as_encoded_bytes()
            );
        }
        S_IFDIR => {
            let mut knames: Vec<Vec<u8>> = c
                .read_dir(kpath.as_bytes())
                .unwrap()
                .into_iter()
                .map(|d| d.name)
                .filter(|n| n != b"." && n != b".." && n != b"lost+found")
                .collect();
            knames.sort();
            let mut hnames: Vec<Vec<u8>> = std::fs::read_dir(&host)
                .unwrap()
                .map(|e| e.unwrap().file_name().as_encoded_bytes().to_vec())
                .collect();
            hnames.sort();
            assert_eq!(knames, hnames, "{rel}: entries");
            for n in hnames {
                let name = String::from_utf8(n).unwrap();
                let sub = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                compare(c, root, &sub, fixups);
            }
        }
        S_IFIFO => {}
        t => panic!("{rel}: unexpected type {t:o}"),
    }
}

#[test]
fn mke2fs_images_read_back_exactly() {
    let tree = tempfile::tempdir().unwrap();
    host_tree(tree.path());
    for (args, large) in [
        (&["-t", "ext2", "-b", "1024"][..], true),
        (&["-t", "ext2", "-b", "2048"][..], true),
        (&["-t", "ext2", "-b", "4096"][..], true),
        (&["-t", "ext2", "-b", "1024", "-r", "0"][..], false),
        (&["-t", "ext2", "-b", "4096", "-I", "128"][..], false),
    ] {
        let scratch = Scratch::new();
        let img = scratch.path().join("img");
        mke2fs(&img, args, "16m", Some(tree.path()));
        let mut fixups = BTreeMap::new();
        if large {
            for r in [
                "sif /a uid 70000",
                "sif /a gid 80000",
                "sif /a mtime_extra 493827156",
            ] {
                debugfs(&img, true, r);
            }
            fixups.insert("a".to_string(), (70_000, 80_000, 123_456_789));
            fixups.insert("hard".to_string(), (70_000, 80_000, 123_456_789));
        }
        let s = start(scratch, img.clone());
        let c = &s.client;
        mount(c, MNT_RDONLY).unwrap_or_else(|e| panic!("{args:?}: mount: {e}"));
        compare(c, tree.path(), "", &fixups);
        let st = c.stat(b"/mnt/far").unwrap();
        assert!(st.blocks <= 64, "{args:?}: the hole takes no space");
        let fd = c.open(b"/mnt/far", O_RDONLY, 0).unwrap();
        let mut b = [0u8; 6];
        c.pread(fd, &mut b, 67_200_000).unwrap();
        assert_eq!(&b, b"triple");
        c.close(fd).unwrap();
        let sv = c.statvfs(b"/mnt").unwrap();
        let dump = text(&run(e2prog("dumpe2fs").arg("-h").arg(&s.img)).stdout);
        let field = |name: &str| -> u64 {
            dump.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in {dump}"))
        };
        assert_eq!(sv.bfree, field("Free blocks:"), "{args:?}");
        assert_eq!(sv.ffree, field("Free inodes:"), "{args:?}");
        assert_eq!(sv.files, field("Inode count:"), "{args:?}");
        assert_eq!(sv.bsize, field("Block size:"), "{args:?}");
        assert_eq!(sv.namemax, 255);
        assert_eq!(
            c.open(b"/mnt/new", O_CREAT | O_WRONLY, 0o644).unwrap_err(),
            Errno::EROFS
        );
        c.unmount(b"/mnt", 0).unwrap();
        assert_clean(&s.img);
    }
}

#[test]
fn writes_pass_e2fsck_and_read_back_in_debugfs() {
    for (args, nsec) in [
        (&["-t", "ext2", "-b", "1024"][..], true),
        (&["-t", "ext2", "-b", "2048"][..], true),
        (&["-t", "ext2", "-b", "4096", "-O", "flex_bg"][..], true),
        (&["-t", "ext2", "-b", "1024", "-r", "0"][..], false),
        (&["-t", "ext3", "-b", "1024"][..], true),
    ] {
        let scratch = Scratch::new();
        let img = scratch.path().join("img");
        mke2fs(&img, args, "16m", None);
        let s = start(scratch, img);
        let c = &s.client;
        mount(c, 0).unwrap_or_else(|e| panic!("{args:?}: mount: {e}"));
        c.mkdir(b"/mnt/d", 0o755).unwrap();
        c.mkdir(b"/mnt/d/sub", 0o700).unwrap();
        c.mkdir(b"/mnt/other", 0o755).unwrap();
        let big = pattern(3_000_000, 7);
        write_file(c, b"/mnt/d/big", &big);
        write_file(c, b"/mnt/d/small", b"small file\n");
        write_file(c, b"/mnt/gone", b"to be removed");
        let fd = c.open(b"/mnt/d/sparse", O_RDWR | O_CREAT, 0o600).unwrap();
        c.pwrite(fd, b"far away", 20_000_000).unwrap();
        c.pwrite(fd, b"near", 10).unwrap();
        c.close(fd).unwrap();
        write_file(c, b"/mnt/d/shrink", &pattern(100_000, 3));
        c.truncate(b"/mnt/d/shrink", 1500).unwrap();
        c.truncate(b"/mnt/d/shrink", 6000).unwrap();
        c.symlink(b"small", b"/mnt/d/fast").unwrap();
        let long_target = "t".repeat(300);
        c.symlink(long_target.as_bytes(), b"/mnt/d/slow").unwrap();
        c.link(b"/mnt/d/small", b"/mnt/d/hard").unwrap();
        c.mknod(b"/mnt/d/fifo", S_IFIFO | 0o640, 0).unwrap();
        c.rename(b"/mnt/d/sub", b"/mnt/other/moved").unwrap();
        write_file(c, b"/mnt/other/moved/inside", b"inside");
        c.rename(b"/mnt/d/hard", b"/mnt/other/hard2").unwrap();
        c.unlink(b"/mnt/gone").unwrap();
        c.mkdir(b"/mnt/rmme", 0o755).unwrap();
        c.rmdir(b"/mnt/rmme").unwrap();
        for i in 0..60 {
            write_file(c, format!("/mnt/d/f{i:03}").as_bytes(), b"x");
        }
        for i in (0..60).step_by(2) {
            c.unlink(format!("/mnt/d/f{i:03}").as_bytes()).unwrap();
        }
        c.chmod(b"/mnt/d/small", 0o640).unwrap();
        c.chown(b"/mnt/d/small", 70_000, 80_000).unwrap();
        let t = Timespec {
            sec: 1_234_567_890,
            nsec: 987_654_321,
        };
        c.utimes(b"/mnt/d/small", Some([t, t])).unwrap();
        let st = c.stat(b"/mnt/d/small").unwrap();
        // utimes(2) carries microseconds.
        assert_eq!(
            st.mtime.nsec,
            if nsec { 987_654_000 } else { 0 },
            "{args:?}"
        );
        assert_eq!(st.nlink, 2);
        c.unmount(b"/mnt", 0).unwrap();
        assert_clean(&s.img);
        let img = &s.img;
        let stat = text(&debugfs(img, false, "stat /d/small"));
        assert!(stat.contains("Mode:  0640"), "{args:?}: {stat}");
        assert!(stat.contains("User: 70000   Group: 80000"), "{stat}");
        assert!(stat.contains("Size: 11"), "{stat}");
        assert!(stat.contains("Links: 2"), "{stat}");
        if nsec {
            assert!(stat.contains("mtime: 0x499602d2:eb799dc0"), "{stat}");
        } else {
            assert!(stat.contains("mtime: 0x499602d2 "), "{stat}");
        }
        assert_eq!(debugfs(img, false, "cat /d/big"), big, "{args:?}");
        assert_eq!(debugfs(img, false, "cat /other/hard2"), b"small file\n");
        assert_eq!(debugfs(img, false, "cat /other/moved/inside"), b"inside");
        let shrink = debugfs(img, false, "cat /d/shrink");
        assert_eq!(&shrink[..1500], &pattern(100_000, 3)[..1500]);
        assert!(shrink[1500..].iter().all(|&b| b == 0) && shrink.len() == 6000);
        let sparse = debugfs(img, false, "cat /d/sparse");
        assert_eq!(sparse.len(), 20_000_008);
        assert_eq!(&sparse[10..14], b"near");
        assert_eq!(&sparse[20_000_000..], b"far away");
        let slow = text(&debugfs(img, false, "stat /d/slow"));
        assert!(slow.contains("Size: 300"), "{slow}");
        let fast = text(&debugfs(img, false, "stat /d/fast"));
        assert!(fast.contains("Fast link dest: \"small\""), "{fast}");
        let ls = text(&debugfs(img, false, "ls -l /d"));
        assert!(ls.contains("f001") && !ls.contains("f000"), "{ls}");
        let fifo = text(&debugfs(img, false, "stat /d/fifo"));
        assert!(
            fifo.contains("Type: FIFO") && fifo.contains("Mode:  0640"),
            "{fifo}"
        );
        let moved = text(&debugfs(img, false, "ls /other/moved"));
        assert!(moved.contains("inside"), "{moved}");
        // Mounted again, everything is where it was left.
        mount(c, MNT_RDONLY).unwrap();
        assert_eq!(read_all(c, b"/mnt/d/big"), big);
        assert_eq!(c.stat(b"/mnt/other").unwrap().nlink, 3);
        assert_eq!(c.stat(b"/mnt/d").unwrap().nlink, 2);
        assert_eq!(c.readlink(b"/mnt/d/slow").unwrap(), long_target.as_bytes());
        c.unmount(b"/mnt", 0).unwrap();
    }
}

fn posix_setup() -> (Setup, Fs) {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(
        &img,
        &["-t", "ext2", "-b", "1024", "-I", "256"],
        "48m",
        None,
    );
    let s = start(scratch, img);
    mount(&s.client, 0).unwrap();
    s.client.mkdir(b"/mnt/t", 0o755).unwrap();
    let fs = Fs {
        client: s.server.client(),
        url: s.server.url.clone(),
        dir: b"/mnt/t".to_vec(),
        caps: Caps::POSIX,
    };
    (s, fs)
}

mod posix {
    use super::posix_setup;
    rump_tests::posix_tests!(posix_setup);
}

#[test]
fn revision_0_keeps_whole_seconds() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2", "-r", "0"], "4m", None);
    let s = start(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    write_file(c, b"/mnt/f", b"x");
    let t = Timespec {
        sec: 1_000_000_001,
        nsec: 111_111_000,
    };
    c.utimes(b"/mnt/f", Some([t, t])).unwrap();
    let st = c.stat(b"/mnt/f").unwrap();
    assert_eq!((st.mtime.sec, st.mtime.nsec), (t.sec, 0));
    assert_eq!(st.birthtime, Timespec { sec: 0, nsec: 0 }, "no birth time");
    let dents = c.read_dir(b"/mnt").unwrap();
    assert!(
        dents.iter().all(|d| d.dtype == 0),
        "no file types in revision 0"
    );
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
}

#[test]
fn filling_up_and_recovering() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2", "-b", "1024", "-N", "48"], "2m", None);
    let s = start(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    let chunk = pattern(65536, 9);
    let mut files = 0;
    'fill: loop {
        let name = format!("/mnt/fill{files}");
        let fd = match c.open(name.as_bytes(), O_WRONLY | O_CREAT, 0o644) {
            Ok(fd) => fd,
            Err(e) => {
                assert_eq!(e, Errno::ENOSPC);
                break;
            }
        };
        files += 1;
        for _ in 0..4 {
            match c.write(fd, &chunk) {
                Ok(n) if n == chunk.len() => {}
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e, Errno::ENOSPC);
                    c.close(fd).unwrap();
                    break 'fill;
                }
            }
        }
        c.close(fd).unwrap();
    }
    let sv = c.statvfs(b"/mnt").unwrap();
    assert_eq!(sv.bfree, 0, "the blocks ran out");
    let mut empties = 0;
    while let Ok(fd) = c.open(
        format!("/mnt/e{empties}").as_bytes(),
        O_WRONLY | O_CREAT,
        0o644,
    ) {
        c.close(fd).unwrap();
        empties += 1;
    }
    assert_eq!(c.mkdir(b"/mnt/nodir", 0o755).unwrap_err(), Errno::ENOSPC);
    assert_eq!(c.statvfs(b"/mnt").unwrap().ffree, 0, "the inodes ran out");
    // Full, the file system is still consistent.
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
    mount(c, 0).unwrap();
    for i in 0..files {
        c.unlink(format!("/mnt/fill{i}").as_bytes()).unwrap();
    }
    for i in 0..empties {
        c.unlink(format!("/mnt/e{i}").as_bytes()).unwrap();
    }
    let sv = c.statvfs(b"/mnt").unwrap();
    assert!(sv.bfree > 1500, "space is back: {}", sv.bfree);
    write_file(c, b"/mnt/after", &pattern(500_000, 4));
    assert_eq!(read_all(c, b"/mnt/after"), pattern(500_000, 4));
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
}

#[test]
fn interleaved_writers() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2", "-b", "1024"], "32m", None);
    let s = start(scratch, img);
    mount(&s.client, 0).unwrap();
    s.client.mkdir(b"/mnt/shared", 0o755).unwrap();
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let c = s.server.client();
            std::thread::spawn(move || {
                let name = format!("/mnt/file{w}");
                let fd = c.open(name.as_bytes(), O_RDWR | O_CREAT, 0o644).unwrap();
                let data = pattern(600_000, w);
                for (i, piece) in data.chunks(3000).enumerate() {
                    c.pwrite(fd, piece, (i * 3000) as i64).unwrap();
                    if i % 10 == 0 {
                        let tmp = format!("/mnt/shared/w{w}-{i}");
                        let f = c.open(tmp.as_bytes(), O_WRONLY | O_CREAT, 0o644).unwrap();
                        c.write(f, piece).unwrap();
                        c.close(f).unwrap();
                        if i % 20 == 0 {
                            c.unlink(tmp.as_bytes()).unwrap();
                        }
                    }
                }
                c.close(fd).unwrap();
                data
            })
        })
        .collect();
    let datas: Vec<Vec<u8>> = writers.into_iter().map(|t| t.join().unwrap()).collect();
    for (w, d) in datas.iter().enumerate() {
        assert_eq!(&read_all(&s.client, format!("/mnt/file{w}").as_bytes()), d);
    }
    let names = s.client.read_dir(b"/mnt/shared").unwrap();
    assert_eq!(names.len(), 2 + 4 * 10);
    s.client.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
}

#[test]
fn works_within_a_small_memory_limit() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2", "-b", "1024"], "16m", None);
    let s = start_with(scratch, img, &["-r", "1m"]);
    let c = &s.client;
    mount(c, 0).unwrap();
    for d in 0..4 {
        c.mkdir(format!("/mnt/d{d}").as_bytes(), 0o755).unwrap();
        for f in 0..40 {
            let name = format!("/mnt/d{d}/file-{f}");
            write_file(c, name.as_bytes(), &pattern(3000 + f * 100, d as u32));
        }
    }
    write_file(c, b"/mnt/big", &pattern(2_000_000, 3));
    assert_eq!(read_all(c, b"/mnt/big"), pattern(2_000_000, 3));
    assert_eq!(read_all(c, b"/mnt/d3/file-39"), pattern(3000 + 3900, 3));
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
}

/// A small xorshift generator, so that damage is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Walks the tree under `dir` (a bounded number of entries), reading
/// what can be read; errors are expected.
fn walk(c: &Client, dir: &[u8], budget: &mut u32) {
    let Ok(entries) = c.read_dir(dir) else {
        return;
    };
    for e in entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        if e.name == b"." || e.name == b".." {
            continue;
        }
        let mut p = dir.to_vec();
        p.push(b'/');
        p.extend_from_slice(&e.name);
        let Ok(st) = c.lstat(&p) else {
            continue;
        };
        match st.mode & S_IFMT {
            S_IFDIR => walk(c, &p, budget),
            S_IFLNK => {
                let _ = c.readlink(&p);
            }
            S_IFREG => {
                if let Ok(fd) = c.open(&p, O_RDONLY, 0) {
                    let mut b = vec![0u8; 8192];
                    let _ = c.pread(fd, &mut b, (st.size / 2).max(0));
                    let _ = c.close(fd);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn damaged_images_never_take_the_server_down() {
    let tree = tempfile::tempdir().unwrap();
    let t = tree.path();
    std::fs::create_dir_all(t.join("d/e")).unwrap();
    std::fs::write(t.join("a"), pattern(20_000, 1)).unwrap();
    std::fs::write(t.join("d/b"), b"bee").unwrap();
    std::fs::write(t.join("d/e/c"), pattern(3000, 2)).unwrap();
    std::os::unix::fs::symlink("x".repeat(80), t.join("slow")).unwrap();
    std::os::unix::fs::symlink("a", t.join("fast")).unwrap();
    for i in 0..12 {
        let name = format!("d/a-name-long-enough-to-need-a-second-directory-block-{i:02}");
        std::fs::write(t.join(name), b"n").unwrap();
    }
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(
        &img,
        &["-t", "ext2", "-b", "1024", "-N", "64"],
        "256k",
        Some(t),
    );
    let pristine = std::fs::read(&img).unwrap();
    let s = start(scratch, img.clone());
    let c = &s.client;
    let file = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let began = std::time::Instant::now();
    let (mut mounted, rounds) = (0, 250);
    for round in 0..rounds {
        let mut bytes = pristine.clone();
        // Damage the metadata (the first 64 KiB: superblock, descriptors,
        // bitmaps, inode table, directories), sometimes anywhere.
        let hits = 1 + rng.below(12);
        for _ in 0..hits {
            let span = if rng.below(4) == 0 {
                bytes.len()
            } else {
                64 << 10
            };
            let at = rng.below(span as u64) as usize;
            bytes[at] = match rng.below(3) {
                0 => rng.next() as u8,
                1 => 0xff,
                _ => 0,
            };
        }
        file.write_all_at(&bytes, 0).unwrap();
        let flags = if round % 3 == 0 { MNT_RDONLY } else { 0 };
        if mount(c, flags).is_err() {
            continue;
        }
        mounted += 1;
        let mut budget = 16;
        walk(c, b"/mnt", &mut budget);
        if flags == 0 {
            if let Ok(fd) = c.open(b"/mnt/d/new", O_RDWR | O_CREAT, 0o644) {
                let _ = c.write(fd, &pattern(5000, 3));
                let _ = c.close(fd);
            }
            let _ = c.mkdir(b"/mnt/d/e/newdir", 0o755);
            let _ = c.rename(b"/mnt/a", b"/mnt/d/e/a");
            let _ = c.unlink(b"/mnt/d/b");
            let _ = c.rmdir(b"/mnt/d/e");
            let _ = c.truncate(b"/mnt/d/e/c", 10);
        }
        if c.unmount(b"/mnt", 0).is_err() {
            let _ = c.unmount(b"/mnt", netbsd_abi::mount::MNT_FORCE);
        }
    }
    assert!(
        mounted > rounds / 4,
        "most damaged images still mount ({mounted})"
    );
    let log = s.log();
    assert!(
        !log.contains("panicked"),
        "damage is handled, not caught: {log}"
    );
    // The server is alive and serves another client.
    let other = s.server.client();
    assert!(other.getpid().is_ok());
    file.write_all_at(&pristine, 0).unwrap();
    mount(&other, MNT_RDONLY).unwrap();
    assert_eq!(read_all(&other, b"/mnt/d/b"), b"bee");
    other.unmount(b"/mnt", 0).unwrap();
    assert!(
        began.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        began.elapsed()
    );
}

#[test]
fn unimplemented_features_are_refused_or_read_only() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("f"), b"readable").unwrap();
    // (mke2fs arguments, debugfs changes, feature named, read-only allowed)
    let cases: &[(&[&str], &[&str], &str, bool)] = &[
        (&["-t", "ext4"], &[], "extent", false),
        (&["-t", "ext2", "-O", "extent"], &[], "extent", false),
        (
            &["-t", "ext2", "-O", "meta_bg,^resize_inode"],
            &[],
            "meta_bg",
            false,
        ),
        (
            &["-t", "ext3"],
            &["feature needs_recovery"],
            "needs_recovery",
            false,
        ),
        (&["-t", "ext2", "-O", "huge_file"], &[], "huge_file", true),
        (
            &["-t", "ext2", "-O", "metadata_csum"],
            &[],
            "metadata_csum",
            true,
        ),
        (&["-t", "ext2", "-O", "uninit_bg"], &[], "uninit_bg", true),
    ];
    for (args, changes, feature, ro) in cases {
        let scratch = Scratch::new();
        let img = scratch.path().join("img");
        mke2fs(&img, args, "8m", Some(tree.path()));
        for ch in *changes {
            debugfs(&img, true, ch);
        }
        let before = std::fs::read(&img).unwrap();
        let s = start(scratch, img.clone());
        let c = &s.client;
        if *ro {
            assert_eq!(mount(c, 0).unwrap_err(), Errno::EROFS, "{args:?}");
            mount(c, MNT_RDONLY).unwrap_or_else(|e| panic!("{args:?}: read-only: {e}"));
            assert_eq!(read_all(c, b"/mnt/f"), b"readable");
            c.unmount(b"/mnt", 0).unwrap();
        } else {
            assert_eq!(mount(c, 0).unwrap_err(), Errno::EINVAL, "{args:?}");
            assert_eq!(mount(c, MNT_RDONLY).unwrap_err(), Errno::EINVAL, "{args:?}");
        }
        let log = s.log();
        assert!(
            log.contains(feature),
            "{args:?}: the log names {feature}: {log}"
        );
        assert_eq!(std::fs::read(&img).unwrap(), before, "{args:?}: left alone");
    }
}

#[test]
fn a_journal_that_needs_no_recovery_is_left_alone() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("f"), b"ext3").unwrap();
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(
        &img,
        &["-t", "ext3", "-O", "dir_index"],
        "16m",
        Some(tree.path()),
    );
    let s = start(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    assert_eq!(read_all(c, b"/mnt/f"), b"ext3");
    write_file(c, b"/mnt/g", &pattern(50_000, 5));
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
    assert_eq!(debugfs(&s.img, false, "cat /g"), pattern(50_000, 5));
}

#[test]
fn hash_indexed_directories_and_attribute_blocks() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir(tree.path().join("big")).unwrap();
    for i in 0..400 {
        std::fs::write(
            tree.path().join(format!("big/file-number-{i}")),
            format!("{i}"),
        )
        .unwrap();
    }
    std::fs::write(tree.path().join("withea"), b"data").unwrap();
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(
        &img,
        &["-t", "ext2", "-I", "128", "-b", "1024"],
        "8m",
        Some(tree.path()),
    );
    // Index the directories, and give a file an attribute block.
    let o = run(e2prog("e2fsck").arg("-fyD").arg(&img));
    assert!(o.status.code().unwrap_or(8) <= 1, "{}", text(&o.stdout));
    debugfs(&img, true, "ea_set /withea user.test somevalue");
    assert!(text(&debugfs(&img, false, "stat /big")).contains("Flags: 0x1000"));
    assert!(!text(&debugfs(&img, false, "stat /withea")).contains("File ACL: 0"));
    let s = start(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    for i in (0..400).step_by(5) {
        assert_eq!(
            read_all(c, format!("/mnt/big/file-number-{i}").as_bytes()),
            format!("{i}").as_bytes()
        );
    }
    for i in 400..450 {
        write_file(c, format!("/mnt/big/file-number-{i}").as_bytes(), b"new");
    }
    for i in (0..100).step_by(2) {
        c.unlink(format!("/mnt/big/file-number-{i}").as_bytes())
            .unwrap();
    }
    assert_eq!(c.read_dir(b"/mnt/big").unwrap().len(), 2 + 400);
    let before = c.statvfs(b"/mnt").unwrap().bfree;
    c.unlink(b"/mnt/withea").unwrap();
    assert_eq!(
        c.statvfs(b"/mnt").unwrap().bfree,
        before + 2,
        "data and attribute blocks freed"
    );
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
    let st = text(&debugfs(&s.img, false, "stat /big"));
    assert!(
        st.contains("Flags: 0x0"),
        "the stale index is dropped: {st}"
    );
}

#[test]
fn large_files() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2", "-O", "^large_file"], "8m", None);
    let s = start(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    let fd = c.open(b"/mnt/huge", O_RDWR | O_CREAT, 0o644).unwrap();
    c.pwrite(fd, b"past 4 GiB", 5 << 30).unwrap();
    assert_eq!(c.fstat(fd).unwrap().size, (5 << 30) + 10);
    let mut b = [0u8; 10];
    c.pread(fd, &mut b, 5 << 30).unwrap();
    assert_eq!(&b, b"past 4 GiB");
    c.close(fd).unwrap();
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
    let d = text(&run(e2prog("dumpe2fs").arg("-h").arg(&s.img)).stdout);
    assert!(d.contains("large_file"), "the feature is turned on: {d}");
    assert!(text(&debugfs(&s.img, false, "stat /huge")).contains("Size: 5368709130"));
    // Revision 0 stops at 2 GiB.
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2", "-r", "0"], "4m", None);
    let s = start(scratch, img);
    let c = &s.client;
    mount(c, 0).unwrap();
    let fd = c.open(b"/mnt/f", O_RDWR | O_CREAT, 0o644).unwrap();
    assert_eq!(c.pwrite(fd, b"x", 1 << 31).unwrap_err(), Errno::EFBIG);
    assert_eq!(c.pwrite(fd, b"0123456789", (1 << 31) - 5).unwrap(), 4);
    c.close(fd).unwrap();
    c.unmount(b"/mnt", 0).unwrap();
    assert_clean(&s.img);
}

#[test]
fn state_flag_follows_netbsd() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2"], "4m", None);
    let state = |img: &Path| {
        let b = std::fs::read(img).unwrap();
        u16::from_le_bytes([b[1024 + 58], b[1024 + 59]])
    };
    assert_eq!(state(&img), 1);
    let s = start(scratch, img.clone());
    let c = &s.client;
    mount(c, 0).unwrap();
    assert_eq!(state(&img), 0, "not clean while mounted read-write");
    // One device, one mount.
    c.mkdir(b"/mnt2", 0o755).unwrap();
    let spec = b"/dev/wd0\0".to_vec();
    let mut data = (spec.as_ptr() as u64).to_le_bytes();
    assert_eq!(
        c.mount_with(b"ext2fs", b"/mnt2", MNT_RDONLY, &mut data, &[&spec])
            .unwrap_err(),
        Errno::EBUSY
    );
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(state(&img), 1, "clean after unmount");
    mount(c, MNT_RDONLY).unwrap();
    assert_eq!(state(&img), 1, "a read-only mount writes nothing");
    // Read-only to read-write and back (MNT_UPDATE).
    let spec = b"/dev/wd0\0".to_vec();
    let mut data = (spec.as_ptr() as u64).to_le_bytes();
    c.mount_with(b"ext2fs", b"/mnt", MNT_UPDATE, &mut data, &[&spec])
        .unwrap();
    assert_eq!(state(&img), 0);
    write_file(c, b"/mnt/f", b"written after the update");
    c.mount_with(
        b"ext2fs",
        b"/mnt",
        MNT_UPDATE | MNT_RDONLY,
        &mut data,
        &[&spec],
    )
    .unwrap();
    assert_eq!(state(&img), 1);
    assert_clean(&img);
    assert_eq!(
        c.open(b"/mnt/g", O_CREAT | O_WRONLY, 0o644).unwrap_err(),
        Errno::EROFS
    );
    c.unmount(b"/mnt", 0).unwrap();
    // Mounted while not clean: marked as having errors, and left so.
    debugfs(&img, true, "ssv state 0");
    mount(c, 0).unwrap();
    assert_eq!(state(&img), 2);
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(state(&img), 2);
    assert!(s.log().contains("not clean"), "{}", s.log());
}

/// rump.newfs_ext2fs with `args` on /dev/wd0: (status, stdout, stderr).
fn newfs(s: &Setup, args: &[&str]) -> (bool, String, String) {
    let o = run(s
        .scratch
        .tool("newfs_ext2fs", &s.server.url)
        .args(args)
        .arg("/dev/wd0"));
    (o.status.success(), text(&o.stdout), text(&o.stderr))
}

#[test]
fn newfs_ext2fs_makes_file_systems_e2fsck_accepts() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    std::fs::write(&img, vec![0u8; 24 << 20]).unwrap();
    let s = start(scratch, img.clone());
    let c = &s.client;
    let dump = |img: &Path| text(&run(e2prog("dumpe2fs").arg("-h").arg(img)).stdout);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[],
            &[
                "Block size:               1024",
                "filetype sparse_super large_file",
                "Inodes per group:         2048",
            ],
        ),
        (
            &["-b", "4096", "-m", "0", "-v", "myvolume"],
            &[
                "Block size:               4096",
                "Reserved block count:     0",
                "Filesystem volume name:   myvolume",
            ],
        ),
        (
            &["-O", "0", "-b", "2048"],
            &[
                "Filesystem revision #:    0 (original)",
                "Block size:               2048",
            ],
        ),
        (
            &["-n", "1000", "-D", "256"],
            &[
                "Inode size:\t          256",
                "Inode count:              1008",
            ],
        ),
        (
            &["-i", "65536", "-s", "16m"],
            &[
                "Block count:              16384",
                "Inode count:              256",
            ],
        ),
        (
            &["-b", "1024", "-s", "20000"],
            &["Block count:              10000"],
        ),
    ];
    for (args, expect) in cases {
        std::fs::write(&img, vec![0u8; 24 << 20]).unwrap();
        let (ok, out, err) = newfs(&s, args);
        assert!(ok, "{args:?}: {err}");
        assert!(out.contains("/dev/wd0: "), "{args:?}: {out}");
        assert_clean(&img);
        let d = dump(&img);
        for e in *expect {
            assert!(d.contains(e), "{args:?}: {e:?} in\n{d}");
        }
        mount(c, 0).unwrap();
        assert!(c.stat(b"/mnt/lost+found").is_ok());
        write_file(c, b"/mnt/hello", &pattern(100_000, 8));
        c.mkdir(b"/mnt/dir", 0o755).unwrap();
        c.unmount(b"/mnt", 0).unwrap();
        assert_clean(&img);
        assert_eq!(debugfs(&img, false, "cat /hello"), pattern(100_000, 8));
    }
    // -N: parameters only.
    std::fs::write(&img, vec![0u8; 24 << 20]).unwrap();
    let (ok, out, _) = newfs(&s, &["-N"]);
    assert!(ok);
    assert!(
        out.contains("using 3 block groups of 8.0MB, 8192 blks"),
        "{out}"
    );
    assert!(
        out.contains("super-block backups (for fsck_ext2fs -b #) at:\n8193,\n"),
        "{out}"
    );
    assert!(
        std::fs::read(&img).unwrap().iter().all(|&b| b == 0),
        "-N writes nothing"
    );
    let (ok, out, _) = newfs(&s, &["-V", "0"]);
    assert!(ok && out.is_empty(), "{out}");
    // Refusals.
    let (ok, _, err) = newfs(&s, &["-b", "3000"]);
    assert!(!ok && err.contains("power of 2"), "{err}");
    let (ok, _, err) = newfs(&s, &["-s", "100m"]);
    assert!(
        !ok && err.contains("exceeds maximum file system size"),
        "{err}"
    );
    let (ok, _, err) = newfs(&s, &["-O", "0", "-D", "256"]);
    assert!(!ok && err.contains("256 byte inode"), "{err}");
    mount(c, 0).unwrap();
    let (ok, _, err) = newfs(&s, &[]);
    assert!(!ok && err.contains("/dev/wd0 is mounted on /mnt"), "{err}");
    c.unmount(b"/mnt", 0).unwrap();
    let o = run(s
        .scratch
        .tool("newfs_ext2fs", &s.server.url)
        .arg("/nonexistent"));
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("/nonexistent: open for write: No such file or directory"));
}

/// The module can be unloaded right after an unmount: no thread of it
/// (the syncer) outlives the mount.
#[test]
fn the_module_unloads_right_after_an_unmount() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    mke2fs(&img, &["-t", "ext2"], "4m", None);
    let mut cmd = server_cmd("rump_server");
    cmd.env("RUMP_PLUGIN_DIR", artifacts());
    let d = format!("key=/dev/wd0,hostpath={},size=host", img.display());
    let vfs = plugin("rumpvfs");
    let srv = Server::start_cmd(
        cmd,
        &["-l", vfs.to_str().unwrap(), "-d", &d],
        &scratch.url("sock"),
    );
    let c = srv.client();
    for round in 0..3 {
        c.modload(b"ext2fs", 0).unwrap();
        c.mkdir(b"/mnt", 0o755).ok();
        mount(&c, 0).unwrap();
        let fd = c.open(b"/mnt/f", O_WRONLY | O_CREAT, 0o644).unwrap();
        c.write(fd, b"x").unwrap();
        c.close(fd).unwrap();
        c.unmount(b"/mnt", 0).unwrap();
        c.modunload(b"ext2fs").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(c.getpid().is_ok(), "round {round}: the server lives on");
    }
}
