//! msdosfs: images made by mkfs.fat and filled by mcopy read back exactly;
//! what the server writes passes fsck.fat and reads back through mtools;
//! the POSIX suite where FAT can follow it; running out of space (data
//! and the fixed root directory) and recovering; writers side by side;
//! damaged images; and rump.newfs_msdos checked by fsck.fat.

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::{MsdosfsArgs, MNT_RDONLY};
use rump_tests::posix::{Caps, Fs};
use rump_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const LONGNAME: i32 = 2;
const VERSIONED: i32 = 16;

/// A server with the VFS and msdosfs, with `img` as block device /dk.
pub struct Setup {
    pub scratch: Scratch,
    pub server: Server,
    pub client: Client,
    pub img: PathBuf,
}

fn server_on(scratch: Scratch, img: PathBuf) -> Setup {
    let (vfs, msdos) = (plugin("rumpvfs"), plugin("rumpfs_msdos"));
    let dev = format!("key=/dk,hostpath={},size=host", img.display());
    let args = [
        "-l",
        vfs.to_str().unwrap(),
        "-l",
        msdos.to_str().unwrap(),
        "-d",
        &dev,
    ];
    let server = Server::start("rump_server", &args, &scratch.url("sock"));
    let client = server.client();
    Setup {
        scratch,
        server,
        client,
        img,
    }
}

/// Runs a host command; panics with its output unless it succeeds.
fn sh(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A FAT image of `kib` KiB made by mkfs.fat with `args`.
fn mkfs(dir: &Path, name: &str, kib: u64, args: &[&str]) -> PathBuf {
    let img = dir.join(name);
    let mut c = Command::new("mkfs.fat");
    c.args(args).arg("-C").arg(&img).arg(kib.to_string());
    sh(&mut c);
    img
}

/// Mounts /dk on `at` with the given msdosfs flags.
fn mount(c: &Client, at: &[u8], flags: i32, mnt_flags: i32) -> Result<i64, Errno> {
    let _ = c.mkdir(at, 0o755);
    let spec = b"/dk\0".to_vec();
    let a = MsdosfsArgs {
        fspec: spec.as_ptr() as u64,
        uid: 0,
        gid: 0,
        mask: 0o755,
        flags: flags | VERSIONED,
        version: MsdosfsArgs::VERSION,
        dirmask: 0o755,
        gmtoff: 0,
    };
    let mut data = a.encode();
    c.mount_with(b"msdos", at, mnt_flags, &mut data, &[&spec])
}

fn fsck_clean(img: &Path) {
    let out = run(Command::new("fsck.fat").arg("-n").arg(img));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "fsck.fat -n: {all}");
    let lines: Vec<&str> = all.lines().collect();
    assert!(lines.len() <= 2, "fsck.fat complains: {all}");
}

fn mtools(tool: &str, img: &Path, path: &str) -> String {
    sh(Command::new(tool)
        .arg("-i")
        .arg(img)
        .arg(format!("::{path}")))
}

fn write_file(c: &Client, path: &[u8], data: &[u8]) {
    let fd = c
        .open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        .expect("create");
    let mut off = 0;
    while off < data.len() {
        off += c.write(fd, &data[off..]).expect("write");
    }
    c.close(fd).unwrap();
}

fn read_file(c: &Client, path: &[u8]) -> Vec<u8> {
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

/// Bytes that differ from file to file.
fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) % 251) as u8)
        .collect()
}

/// A host tree: long and short names, nested directories, 300 small
/// files and one of 1.5 MiB.
fn host_tree(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    let many = src.join("many files here");
    std::fs::create_dir_all(many.join("deeper/and deeper")).unwrap();
    for i in 0..300 {
        std::fs::write(
            many.join(format!("File number {i:03}.txt")),
            pattern(i, i * 7),
        )
        .unwrap();
    }
    std::fs::write(src.join("README.TXT"), b"short name\n").unwrap();
    std::fs::write(src.join("mixed Case Name.Data"), b"long name\n").unwrap();
    std::fs::write(
        many.join("deeper/and deeper/big.bin"),
        pattern(99, 1_500_000),
    )
    .unwrap();
    src
}

/// Checks that the kernel's `at` holds exactly the host tree `src`.
fn same_tree(c: &Client, at: &[u8], src: &Path) {
    let mut host: Vec<String> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    host.sort();
    let mut ours: Vec<String> = c
        .read_dir(at)
        .unwrap()
        .into_iter()
        .map(|d| String::from_utf8(d.name).unwrap())
        .filter(|n| n != "." && n != "..")
        .collect();
    ours.sort();
    assert_eq!(ours, host, "names in {}", String::from_utf8_lossy(at));
    for name in host {
        let hp = src.join(&name);
        let mut kp = at.to_vec();
        kp.push(b'/');
        kp.extend_from_slice(name.as_bytes());
        if hp.is_dir() {
            same_tree(c, &kp, &hp);
        } else {
            let st = c.stat(&kp).unwrap();
            let want = std::fs::read(&hp).unwrap();
            assert_eq!(st.size as usize, want.len());
            assert!(read_file(c, &kp) == want, "contents of {name}");
        }
    }
}

fn mtools_image(fat: &str, kib: u64) -> (Scratch, PathBuf, PathBuf) {
    let scratch = Scratch::new();
    let mut args = vec!["-F", fat];
    if fat == "32" {
        args.extend_from_slice(&["-s", "1"]);
    }
    let img = mkfs(scratch.path(), "fat.img", kib, &args);
    let src = host_tree(scratch.path());
    let mut c = Command::new("mcopy");
    c.arg("-s").arg("-i").arg(&img);
    for e in std::fs::read_dir(&src).unwrap() {
        c.arg(e.unwrap().path());
    }
    c.arg("::");
    sh(&mut c);
    (scratch, img, src)
}

fn reads_back(fat: &str, kib: u64) {
    let (scratch, img, src) = mtools_image(fat, kib);
    let s = server_on(scratch, img);
    // mcopy put a short-only name first in the root: without
    // `longnames` NetBSD (and this file system) would use short names.
    mount(&s.client, b"/mnt", LONGNAME, MNT_RDONLY).expect("mount");
    same_tree(&s.client, b"/mnt", &src);
    let st = s.client.statvfs(b"/mnt").unwrap();
    assert_eq!(st.namemax, 255, "long names were found");
    assert_eq!(
        s.client
            .open(b"/mnt/new", O_WRONLY | O_CREAT, 0o644)
            .unwrap_err(),
        Errno::EROFS
    );
    s.client.unmount(b"/mnt", 0).unwrap();
}

#[test]
fn mtools_fat12_reads_back() {
    reads_back("12", 8 << 10);
}

#[test]
fn mtools_fat16_reads_back() {
    reads_back("16", 24 << 10);
}

#[test]
fn mtools_fat32_reads_back() {
    reads_back("32", 40 << 10);
}

/// Creates, renames, deletes and truncates, then checks the image with
/// fsck.fat and mtools.
fn writes_check_out(fat: &str, kib: u64) {
    let (scratch, img, _src) = mtools_image(fat, kib);
    let s = server_on(scratch, img);
    let c = &s.client;
    mount(c, b"/mnt", LONGNAME, 0).expect("mount");
    c.mkdir(b"/mnt/New Directory", 0o755).unwrap();
    c.mkdir(b"/mnt/New Directory/sub", 0o755).unwrap();
    write_file(
        c,
        b"/mnt/New Directory/sub/A long file name.text",
        b"first\n",
    );
    write_file(c, b"/mnt/SHORT.TXT", b"upper\n");
    write_file(c, b"/mnt/lower.txt", b"lower\n");
    for i in 0..40 {
        write_file(
            c,
            format!("/mnt/New Directory/entry {i}.dat").as_bytes(),
            &pattern(i, 100 * i),
        );
    }
    write_file(c, b"/mnt/big.bin", &pattern(5, 1_200_000));
    // Case-insensitive lookup, case-preserving names.
    assert_eq!(read_file(c, b"/mnt/LOWER.TXT"), b"lower\n");
    assert_eq!(
        c.stat(b"/mnt/new directory/SUB").unwrap().mode & 0o170000,
        0o040000
    );
    let id = c.stat(b"/mnt/lower.txt").unwrap().ino;
    c.rename(b"/mnt/lower.txt", b"/mnt/New Directory/Moved Here.txt")
        .unwrap();
    assert_eq!(
        c.stat(b"/mnt/New Directory/Moved Here.txt").unwrap().ino,
        id,
        "file number kept"
    );
    let did = c.stat(b"/mnt/New Directory/sub").unwrap().ino;
    c.rename(b"/mnt/New Directory/sub", b"/mnt/Top Level Sub")
        .unwrap();
    assert_eq!(c.stat(b"/mnt/Top Level Sub").unwrap().ino, did);
    assert_eq!(
        c.stat(b"/mnt/Top Level Sub/..").unwrap().ino,
        c.stat(b"/mnt").unwrap().ino
    );
    // Another case of the same name is the same file: nothing to do.
    c.rename(b"/mnt/SHORT.TXT", b"/mnt/short.txt").unwrap();
    let names: Vec<Vec<u8>> = c
        .read_dir(b"/mnt")
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(names.contains(&b"SHORT.TXT".to_vec()));
    c.rename(b"/mnt/short.txt", b"/mnt/Shorter Name.txt")
        .unwrap();
    for i in (0..40).step_by(2) {
        c.unlink(format!("/mnt/New Directory/entry {i}.dat").as_bytes())
            .unwrap();
    }
    c.unlink(b"/mnt/README.TXT").unwrap();
    c.truncate(b"/mnt/big.bin", 70_000).unwrap();
    c.truncate(b"/mnt/mixed Case Name.Data", 9000).unwrap();
    c.rmdir(b"/mnt/many files here/deeper/and deeper")
        .expect_err("not empty");
    c.unmount(b"/mnt", 0).unwrap();
    fsck_clean(&s.img);
    let root = mtools("mdir", &s.img, "/");
    for n in [
        "New Directory",
        "Top Level Sub",
        "Shorter Name.txt",
        "big.bin",
        "mixed Case Name.Data",
    ] {
        assert!(root.contains(n), "{n} in {root}");
    }
    assert!(!root.contains("README"), "{root}");
    let nd = mtools("mdir", &s.img, "/New Directory");
    assert!(
        nd.contains("Moved Here.txt")
            && nd.contains("entry 39.dat")
            && !nd.contains("entry 38.dat"),
        "{nd}"
    );
    assert_eq!(
        mtools("mtype", &s.img, "/New Directory/Moved Here.txt"),
        "lower\n"
    );
    assert_eq!(
        mtools("mtype", &s.img, "/Top Level Sub/A long file name.text"),
        "first\n"
    );
    assert_eq!(mtools("mtype", &s.img, "/Shorter Name.txt"), "upper\n");
    let out = run(Command::new("mcopy")
        .arg("-i")
        .arg(&s.img)
        .arg("::/big.bin")
        .arg("-"));
    assert!(
        out.stdout == pattern(5, 1_200_000)[..70_000],
        "big.bin cut to 70000 bytes"
    );
    let out = run(Command::new("mcopy")
        .arg("-i")
        .arg(&s.img)
        .arg("::/mixed Case Name.Data")
        .arg("-"));
    assert_eq!(&out.stdout[..10], b"long name\n");
    assert!(
        out.stdout[10..].iter().all(|&b| b == 0) && out.stdout.len() == 9000,
        "zeros after the old end"
    );
    let e = run(Command::new("mcopy")
        .arg("-i")
        .arg(&s.img)
        .arg("::/New Directory/entry 39.dat")
        .arg("-"));
    assert_eq!(e.stdout, pattern(39, 3900));
}

#[test]
fn fat12_writes_pass_fsck() {
    writes_check_out("12", 8 << 10);
}

#[test]
fn fat16_writes_pass_fsck() {
    writes_check_out("16", 24 << 10);
}

#[test]
fn fat32_writes_pass_fsck() {
    writes_check_out("32", 40 << 10);
}

#[test]
fn short_name_mount_makes_tails() {
    let scratch = Scratch::new();
    let img = mkfs(scratch.path(), "fat.img", 2048, &["-F", "12"]);
    let s = server_on(scratch, img);
    let c = &s.client;
    mount(c, b"/mnt", 0, 0).expect("mount");
    assert_eq!(
        c.statvfs(b"/mnt").unwrap().namemax,
        12,
        "an empty FAT12 root has no long names"
    );
    write_file(c, b"/mnt/longer name.text", b"x");
    write_file(c, b"/mnt/longer name.other", b"y");
    let mut names: Vec<Vec<u8>> = c
        .read_dir(b"/mnt")
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            b".".to_vec(),
            b"..".to_vec(),
            b"longer~1.oth".to_vec(),
            b"longer~1.tex".to_vec()
        ]
    );
    c.unmount(b"/mnt", 0).unwrap();
    fsck_clean(&s.img);
    let d = mtools("mdir", &s.img, "/");
    assert!(
        d.contains("LONGER~1 TEX") && d.contains("LONGER~1 OTH"),
        "{d}"
    );
}

#[test]
fn filling_up_and_recovering() {
    let scratch = Scratch::new();
    // A 1.44 MB floppy: 224 root entries, 2847 clusters of 512 bytes.
    let img = mkfs(scratch.path(), "fd.img", 1440, &["-F", "12", "-r", "224"]);
    let s = server_on(scratch, img);
    let c = &s.client;
    mount(c, b"/mnt", LONGNAME, 0).expect("mount");
    // Upper-case 8.3 names take one slot each: the root holds 224.
    for i in 0..224 {
        write_file(c, format!("/mnt/F{i}").as_bytes(), b"");
    }
    assert_eq!(
        c.open(b"/mnt/F224", O_WRONLY | O_CREAT, 0o644).unwrap_err(),
        Errno::ENOSPC,
        "the fixed root directory is full"
    );
    assert_eq!(c.mkdir(b"/mnt/D", 0o755).unwrap_err(), Errno::ENOSPC);
    c.unlink(b"/mnt/F7").unwrap();
    c.mkdir(b"/mnt/D", 0o755).unwrap();
    let before = c.statvfs(b"/mnt").unwrap();
    let fd = c.open(b"/mnt/D/fill", O_WRONLY | O_CREAT, 0o644).unwrap();
    let chunk = vec![0x5au8; 65536];
    let mut total = 0u64;
    let err = loop {
        match c.write(fd, &chunk) {
            Ok(n) => total += n as u64,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::ENOSPC);
    assert_eq!(c.statvfs(b"/mnt").unwrap().bfree, 0);
    assert_eq!(
        total,
        before.bfree * before.bsize,
        "every free cluster was used"
    );
    c.close(fd).unwrap();
    assert_eq!(c.mkdir(b"/mnt/D/E", 0o755).unwrap_err(), Errno::ENOSPC);
    c.unlink(b"/mnt/D/fill").unwrap();
    assert_eq!(
        c.statvfs(b"/mnt").unwrap().bfree,
        before.bfree,
        "all of it came back"
    );
    c.mkdir(b"/mnt/D/E", 0o755).unwrap();
    write_file(c, b"/mnt/D/E/after", b"works again");
    c.unmount(b"/mnt", 0).unwrap();
    fsck_clean(&s.img);
    assert_eq!(mtools("mtype", &s.img, "/D/E/after"), "works again");
}

#[test]
fn interleaved_writers() {
    let scratch = Scratch::new();
    let img = mkfs(scratch.path(), "fat.img", 24 << 10, &["-F", "16"]);
    let s = server_on(scratch, img);
    mount(&s.client, b"/mnt", LONGNAME, 0).expect("mount");
    s.client.mkdir(b"/mnt/w", 0o755).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = Client::connect(&s.server.url, "writer").unwrap();
            std::thread::spawn(move || {
                let path = format!("/mnt/w/writer number {t}");
                let fd = c.open(path.as_bytes(), O_RDWR | O_CREAT, 0o644).unwrap();
                for k in 0..64 {
                    c.write(fd, &pattern(t * 1000 + k, 4096 + t)).unwrap();
                    write_file(
                        &c,
                        format!("/mnt/w/small {t} {k}").as_bytes(),
                        &[t as u8; 10],
                    );
                }
                c.close(fd).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for t in 0..4 {
        let got = read_file(&s.client, format!("/mnt/w/writer number {t}").as_bytes());
        let want: Vec<u8> = (0..64)
            .flat_map(|k| pattern(t * 1000 + k, 4096 + t))
            .collect();
        assert!(got == want, "writer {t}");
    }
    assert_eq!(s.client.read_dir(b"/mnt/w").unwrap().len(), 2 + 4 + 4 * 64);
    s.client.unmount(b"/mnt", 0).unwrap();
    fsck_clean(&s.img);
}

/// A small xorshift generator for the damage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Walks what can be walked under `dir`, and writes a little.
fn walk(c: &Client, dir: &[u8], depth: u32) {
    let Ok(list) = c.read_dir(dir) else { return };
    for d in list.into_iter().take(40) {
        if d.name == b"." || d.name == b".." {
            continue;
        }
        let mut p = dir.to_vec();
        p.push(b'/');
        p.extend_from_slice(&d.name);
        let _ = c.stat(&p);
        if depth < 3 {
            walk(c, &p, depth + 1);
        }
        if let Ok(fd) = c.open(&p, O_RDONLY, 0) {
            let mut b = vec![0u8; 8192];
            let _ = c.read(fd, &mut b);
            let _ = c.close(fd);
        }
    }
    let mut n = dir.to_vec();
    n.extend_from_slice(b"/new file");
    if let Ok(fd) = c.open(&n, O_RDWR | O_CREAT, 0o644) {
        let _ = c.write(fd, &[1u8; 5000]);
        let _ = c.close(fd);
    }
    let _ = c.unlink(&n);
}

#[test]
fn damaged_images_do_not_hurt_the_server() {
    let scratch = Scratch::new();
    let base = mkfs(scratch.path(), "base.img", 512, &["-F", "12", "-s", "1"]);
    let tree = scratch.path().join("t");
    std::fs::create_dir_all(tree.join("a dir/b")).unwrap();
    for i in 0..20 {
        std::fs::write(tree.join(format!("a dir/file {i}")), pattern(i, 700 * i)).unwrap();
    }
    std::fs::write(tree.join("a dir/b/x"), b"x").unwrap();
    sh(Command::new("mcopy")
        .arg("-s")
        .arg("-i")
        .arg(&base)
        .arg(tree.join("a dir"))
        .arg("::"));
    let good = std::fs::read(&base).unwrap();
    let img = scratch.path().join("victim.img");
    std::fs::write(&img, &good).unwrap();
    let s = server_on(scratch, img.clone());
    let c = &s.client;
    let _ = c.mkdir(b"/mnt", 0o755);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut mounted = 0;
    for _ in 0..300 {
        let mut bad = good.clone();
        // The metadata is in the first 16 KiB: boot sector, FATs, root.
        for _ in 0..(1 + rng.next() % 12) {
            let at = (rng.next() % 16384) as usize;
            bad[at] = rng.next() as u8;
        }
        std::fs::write(&img, &bad).unwrap();
        if mount(c, b"/mnt", LONGNAME, 0).is_ok() {
            mounted += 1;
            walk(c, b"/mnt", 0);
            let _ = c.statvfs(b"/mnt");
            c.unmount(b"/mnt", 0).expect("unmount");
        }
    }
    assert!(mounted > 100, "most damaged images still mount ({mounted})");
    let other = Client::connect(&s.server.url, "other").unwrap();
    assert!(other.getpid().is_ok());
    std::fs::write(&img, &good).unwrap();
    mount(&other, b"/mnt", LONGNAME, 0).expect("the good image mounts");
    assert_eq!(read_file(&other, b"/mnt/a dir/file 3"), pattern(3, 2100));
}

fn newfs_then_fsck(size_mib: u64, args: &[&str], want: &str) {
    let scratch = Scratch::new();
    let img = scratch.path().join("new.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(size_mib << 20)
        .unwrap();
    let s = server_on(scratch, img);
    let mut cmd = s.scratch.tool("newfs_msdos", &s.server.url);
    cmd.args(args).arg("/dk");
    let out = sh(&mut cmd);
    assert!(out.contains(want), "{out}");
    fsck_clean(&s.img);
    assert!(mtools("mdir", &s.img, "/").contains("No files"));
    // And the file system takes files.
    mount(&s.client, b"/mnt", LONGNAME, 0).expect("mount");
    write_file(&s.client, b"/mnt/Hello World.txt", b"hello");
    s.client.unmount(b"/mnt", 0).unwrap();
    fsck_clean(&s.img);
    assert_eq!(mtools("mtype", &s.img, "/Hello World.txt"), "hello");
}

#[test]
fn newfs_msdos_fat12() {
    newfs_then_fsck(8, &[], "FAT12");
}

#[test]
fn newfs_msdos_fat16() {
    newfs_then_fsck(24, &["-F", "16", "-L", "MYVOLUME"], "FAT16");
}

#[test]
fn newfs_msdos_fat32() {
    newfs_then_fsck(
        40,
        &["-F", "32", "-c", "1", "-I", "0x1234abcd", "-O", "RUMP"],
        "FAT32",
    );
}

#[test]
fn newfs_msdos_dry_run_writes_nothing() {
    let scratch = Scratch::new();
    let img = scratch.path().join("new.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let s = server_on(scratch, img);
    let mut cmd = s.scratch.tool("newfs_msdos", &s.server.url);
    cmd.args(["-N", "/dk"]);
    assert!(sh(&mut cmd).contains("2042 FAT12 clusters"));
    assert!(std::fs::read(&s.img).unwrap().iter().all(|&b| b == 0));
}

fn posix_setup() -> (Setup, Fs) {
    let scratch = Scratch::new();
    let img = mkfs(
        scratch.path(),
        "fat.img",
        40 << 10,
        &["-F", "32", "-s", "1"],
    );
    let s = server_on(scratch, img);
    mount(&s.client, b"/mnt", LONGNAME, 0).expect("mount");
    s.client.mkdir(b"/mnt/t", 0o755).unwrap();
    let fs = Fs {
        client: s.server.client(),
        url: s.server.url.clone(),
        dir: b"/mnt/t".to_vec(),
        caps: Caps {
            hard_links: false,
            symlinks: false,
            fifos: false,
            dir_nlink: false,
            time_res_ns: 2_000_000_000,
            permissions: false,
            name_max: 255,
            sparse_files: false,
        },
    };
    (s, fs)
}

mod posix {
    use super::posix_setup;
    rump_tests::posix_tests!(posix_setup);
}

#[test]
fn zz_debug_batches() {
    let (_s, fs) = posix_setup();
    let c = &fs.client;
    c.mkdir(b"/mnt/t/d", 0o755).unwrap();
    for i in 0..200 {
        write_file(c, format!("/mnt/t/d/keep{i:03}").as_bytes(), b"");
    }
    let fd = c.open(b"/mnt/t/d", O_RDONLY | O_DIRECTORY, 0).unwrap();
    let t = std::time::Instant::now();
    for round in 0..12 {
        let b = c.getdents(fd, 600).unwrap();
        eprintln!(
            "{:?} batch {:?}",
            t.elapsed(),
            b.iter()
                .map(|d| String::from_utf8_lossy(&d.name).into_owned())
                .collect::<Vec<_>>()
        );
        write_file(c, format!("/mnt/t/d/new{round:03}").as_bytes(), b"");
        eprintln!(
            "unlink {:?}",
            c.unlink(format!("/mnt/t/d/new{round:03}").as_bytes())
        );
        write_file(c, format!("/mnt/t/d/added{round:03}").as_bytes(), b"");
    }
}
