//! librumpdev_disk: the partitions of a disk mapped with `-d` appear as
//! block devices next to its key. Images are partitioned with sfdisk
//! (MBR with logical partitions, GPT), file systems are made in the
//! partitions with mkfs.fat --offset, mke2fs -E offset= and makefs, and
//! NetBSD disklabels are written by a helper here; the partition nodes
//! are then read and written through the server and checked with
//! fsck.fat, e2fsck and by comparing bytes with the host file.

use netbsd_abi::fcntl::*;
use netbsd_abi::ioctl::DIOCGMEDIASIZE;
use netbsd_abi::stat::*;
use rump_tests::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const SECTOR: u64 = 512;

fn vfs() -> String {
    plugin("rumpvfs").display().to_string()
}

fn devdisk() -> String {
    plugin("rumpdev_disk").display().to_string()
}

/// `-d` for a block key `key` over the whole of `img`.
fn disk(key: &str, img: &Path) -> String {
    format!("key={key},hostpath={},size=host", img.display())
}

/// Runs a host tool, which must succeed.
fn host(cmd: &mut Command) {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A zero-filled image of `sectors` sectors.
fn image(s: &Scratch, name: &str, sectors: u64) -> PathBuf {
    let p = s.path().join(name);
    std::fs::File::create(&p)
        .unwrap()
        .set_len(sectors * SECTOR)
        .unwrap();
    p
}

/// Partitions `img` with an sfdisk script.
fn sfdisk(img: &Path, script: &str) {
    let mut child = Command::new("sfdisk")
        .args(["-q", "--no-reread", "--no-tell-kernel"])
        .arg(img)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfdisk (Debian package fdisk) is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "sfdisk: {}", text(&out.stderr));
}

/// A FAT file system of `sectors` sectors at sector `start` of `img`.
fn fat_at(img: &Path, start: u64, sectors: u64, label: &str) {
    host(
        Command::new("mkfs.fat")
            .arg("--offset")
            .arg(start.to_string())
            .args(["-n", label])
            .arg(img)
            .arg((sectors / 2).to_string()),
    );
}

/// An ext2 file system of `sectors` sectors at sector `start` of `img`.
fn ext2_at(img: &Path, start: u64, sectors: u64) {
    host(
        Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext2", "-b", "1024"])
            .arg("-E")
            .arg(format!("offset={}", start * SECTOR))
            .arg(img)
            .arg((sectors / 2).to_string()),
    );
}

/// An FFS image of `sectors` sectors made by makefs, holding hello.txt.
fn ffs_image(s: &Scratch, sectors: u64) -> Vec<u8> {
    let dir = s.path().join("ffs-root");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), b"hello from ffs\n").unwrap();
    let img = s.path().join("ffs.img");
    host(
        Command::new("makefs")
            .args(["-t", "ffs", "-s"])
            .arg((sectors * SECTOR).to_string())
            .arg(&img)
            .arg(&dir),
    );
    std::fs::read(img).unwrap()
}

/// Writes `data` into `img` at byte `offset`.
fn splice(img: &Path, offset: u64, data: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.write_all_at(data, offset).unwrap();
}

fn host_bytes(img: &Path, offset: u64, len: u64) -> Vec<u8> {
    let all = std::fs::read(img).unwrap();
    all[offset as usize..(offset + len) as usize].to_vec()
}

/// UFS1's superblock magic, at byte 1372 of the superblock at 8192.
const FS_UFS1_MAGIC: [u8; 4] = 0x0001_1954u32.to_le_bytes();

/// A NetBSD disklabel (disklabel(5)) with `(letter, size, offset,
/// fstype)` partitions in sectors, in 16 slots as amd64 writes them.
fn netbsd_label(pack: &str, sectors: u64, parts: &[(char, u32, u32, u8)]) -> Vec<u8> {
    const NPART: usize = 16;
    let mut l = vec![0u8; 148 + 16 * NPART];
    let put16 = |l: &mut [u8], o: usize, v: u16| l[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |l: &mut [u8], o: usize, v: u32| l[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put32(&mut l, 0, 0x8256_4557); // d_magic
    put16(&mut l, 4, 5); // d_type: DKTYPE_ESDI
    l[8..8 + 4].copy_from_slice(b"rump"); // d_typename
    l[24..24 + pack.len()].copy_from_slice(pack.as_bytes()); // d_packname
    put32(&mut l, 40, 512); // d_secsize
    put32(&mut l, 44, 32); // d_nsectors
    put32(&mut l, 48, 64); // d_ntracks
    put32(&mut l, 52, (sectors / 2048) as u32); // d_ncylinders
    put32(&mut l, 56, 2048); // d_secpercyl
    put32(&mut l, 60, sectors as u32); // d_secperunit
    put16(&mut l, 72, 3600); // d_rpm
    put16(&mut l, 74, 1); // d_interleave
    put32(&mut l, 132, 0x8256_4557); // d_magic2
    put16(&mut l, 138, NPART as u16); // d_npartitions
    put32(&mut l, 140, 8192); // d_bbsize
    put32(&mut l, 144, 8192); // d_sbsize
    for &(letter, size, offset, fstype) in parts {
        let e = 148 + 16 * (letter as usize - 'a' as usize);
        put32(&mut l, e, size);
        put32(&mut l, e + 4, offset);
        l[e + 12] = fstype;
    }
    let sum = l
        .chunks_exact(2)
        .fold(0u16, |s, w| s ^ u16::from_le_bytes([w[0], w[1]]));
    put16(&mut l, 136, sum); // d_checksum
    l
}

const FS_SWAP: u8 = 1;
const FS_BSDFFS: u8 = 7;
const FS_MSDOS: u8 = 8;
const FS_EX2FS: u8 = 17;

/// The whole contents of a node, read through the server.
fn read_node(c: &Client, path: &[u8]) -> Vec<u8> {
    let fd = c.open(path, O_RDONLY, 0).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = c.pread(fd, &mut buf, out.len() as i64).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    c.close(fd).unwrap();
    out
}

fn media_size(c: &Client, path: &[u8]) -> u64 {
    let fd = c.open(path, O_RDONLY, 0).unwrap();
    let mut size = [0u8; 8];
    c.ioctl(fd, DIOCGMEDIASIZE, &mut size).unwrap();
    c.close(fd).unwrap();
    u64::from_le_bytes(size)
}

/// Asserts that `path` is a dk block node of `sectors` sectors.
fn assert_partition(c: &Client, path: &str, sectors: u64) {
    let st = c
        .stat(path.as_bytes())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(st.mode & S_IFMT, S_IFBLK, "{path} is a block device");
    assert_eq!(major(st.rdev), 168, "{path} is a dk unit");
    assert_eq!(st.size as u64, sectors * SECTOR, "{path}: stat size");
    assert_eq!(
        media_size(c, path.as_bytes()),
        sectors * SECTOR,
        "{path}: DIOCGMEDIASIZE"
    );
}

fn assert_absent(c: &Client, path: &str) {
    assert_eq!(
        c.stat(path.as_bytes()).unwrap_err(),
        Errno::ENOENT,
        "{path} should not exist"
    );
}

/// Runs a checker on `data` saved in a scratch file.
fn check_fs(s: &Scratch, checker: &[&str], data: &[u8]) {
    let f = s.path().join("extracted.img");
    std::fs::write(&f, data).unwrap();
    host(Command::new(checker[0]).args(&checker[1..]).arg(&f));
}

/// A 16 MiB image: FAT in a primary partition, a bare primary, and an
/// extended partition with an ext2 logical partition and a bare one.
fn mbr_image(s: &Scratch, name: &str) -> PathBuf {
    let img = image(s, name, 32768);
    sfdisk(
        &img,
        "label: dos\n\
         start=2048, size=4096, type=c\n\
         start=6144, size=2048, type=83\n\
         start=8192, size=20480, type=5\n\
         start=10240, size=4096, type=83\n\
         start=16384, size=2048, type=82\n",
    );
    fat_at(&img, 2048, 4096, "PRIMARY");
    ext2_at(&img, 10240, 4096);
    img
}

#[test]
fn mbr_primary_and_logical_partitions() {
    let s = Scratch::new();
    let img = mbr_image(&s, "mbr.img");
    let srv = Server::start(
        "rump_server",
        &[
            "-l",
            &vfs(),
            "-l",
            &devdisk(),
            "-d",
            &disk("/dev/disk", &img),
        ],
        &s.url("sock"),
    );
    let c = srv.client();
    // Primaries from e in table order, logicals from i in chain order.
    assert_partition(&c, "/dev/diske", 4096);
    assert_partition(&c, "/dev/diskf", 2048);
    assert_partition(&c, "/dev/diski", 4096);
    assert_partition(&c, "/dev/diskj", 2048);
    for gone in ["/dev/diskg", "/dev/diskh", "/dev/diskk", "/dev/diska"] {
        assert_absent(&c, gone);
    }
    let units: std::collections::HashSet<u64> = ["e", "f", "i", "j"]
        .iter()
        .map(|p| c.stat(format!("/dev/disk{p}").as_bytes()).unwrap().rdev)
        .collect();
    assert_eq!(units.len(), 4, "one dk unit each");

    // Reading a partition gives that range of the image, file system
    // and all.
    let fat = read_node(&c, b"/dev/diske");
    assert_eq!(fat, host_bytes(&img, 2048 * SECTOR, 4096 * SECTOR));
    assert_eq!(&fat[54..62], b"FAT12   ");
    check_fs(&s, &["fsck.fat", "-n"], &fat);
    let ext2 = read_node(&c, b"/dev/diski");
    assert_eq!(&ext2[1024 + 56..1024 + 58], &[0x53, 0xef], "ext2 magic");
    check_fs(&s, &["e2fsck", "-fn"], &ext2);

    // A write lands at the partition's place on the disk, and the disk's
    // own node sees it at once: both share one buffer cache.
    let fd = c.open(b"/dev/diskf", O_RDWR, 0).unwrap();
    c.pwrite(fd, b"through the partition", 512).unwrap();
    let whole = c.open(b"/dev/disk", O_RDONLY, 0).unwrap();
    let mut seen = [0u8; 21];
    c.pread(whole, &mut seen, (6144 + 1) * SECTOR as i64)
        .unwrap();
    assert_eq!(&seen, b"through the partition");
    c.fsync(fd).unwrap();
    assert_eq!(
        host_bytes(&img, 6145 * SECTOR, 21),
        b"through the partition"
    );
    // The partition ends where it says.
    let end = (2048 * SECTOR) as i64;
    assert_eq!(c.pwrite(fd, b"12345678", end - 4).unwrap(), 4, "cut short");
    assert_eq!(c.pwrite(fd, b"x", end).unwrap_err(), Errno::ENOSPC);
    let mut b = [0u8; 16];
    assert_eq!(c.pread(fd, &mut b, end).unwrap(), 0);
    c.fsync(fd).unwrap();
    assert_eq!(
        host_bytes(&img, 8192 * SECTOR - 4, 8),
        b"1234\0\0\0\0",
        "nothing spilled into the next partition's EBR"
    );
    c.close(fd).unwrap();

    // A whole file system written through a partition node is intact on
    // the host at that offset, and its neighbours are untouched.
    let fresh = s.path().join("fresh.img");
    std::fs::File::create(&fresh)
        .unwrap()
        .set_len(2048 * SECTOR)
        .unwrap();
    ext2_at(&fresh, 0, 2048);
    let fd = c.open(b"/dev/diskj", O_WRONLY, 0).unwrap();
    let data = std::fs::read(&fresh).unwrap();
    for (i, chunk) in data.chunks(100_000).enumerate() {
        c.pwrite(fd, chunk, (i * 100_000) as i64).unwrap();
    }
    c.fsync(fd).unwrap();
    c.close(fd).unwrap();
    host(Command::new("e2fsck").arg("-fn").arg(format!(
        "{}?offset={}",
        img.display(),
        16384 * SECTOR
    )));
    host(Command::new("e2fsck").arg("-fn").arg(format!(
        "{}?offset={}",
        img.display(),
        10240 * SECTOR
    )));
    check_fs(&s, &["fsck.fat", "-n"], &read_node(&c, b"/dev/diske"));
}

/// An 8 MiB GPT image: an EFI system partition with FAT, a Linux one
/// with ext2 and a NetBSD FFS one made by makefs.
fn gpt_image(s: &Scratch, name: &str) -> PathBuf {
    let img = image(s, name, 16384);
    sfdisk(
        &img,
        "label: gpt\n\
         start=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system\"\n\
         start=4096, size=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"root\"\n\
         start=8192, size=2048, type=49F48D5A-B10E-11DC-B99B-0019D1879648\n",
    );
    fat_at(&img, 2048, 2048, "EFI");
    ext2_at(&img, 4096, 4096);
    splice(&img, 8192 * SECTOR, &ffs_image(s, 2048));
    img
}

#[test]
fn gpt_partitions_are_numbered_from_one() {
    let s = Scratch::new();
    let img = gpt_image(&s, "gpt.img");
    let srv = Server::start(
        "rump_server",
        &[
            "-l",
            &vfs(),
            "-l",
            &devdisk(),
            "-d",
            &disk("/dev/sd0", &img),
        ],
        &s.url("sock"),
    );
    let c = srv.client();
    assert_partition(&c, "/dev/sd0p1", 2048);
    assert_partition(&c, "/dev/sd0p2", 4096);
    assert_partition(&c, "/dev/sd0p3", 2048);
    for gone in ["/dev/sd0p4", "/dev/sd0e", "/dev/sd0p0"] {
        assert_absent(&c, gone);
    }
    let efi = read_node(&c, b"/dev/sd0p1");
    assert_eq!(efi, host_bytes(&img, 2048 * SECTOR, 2048 * SECTOR));
    check_fs(&s, &["fsck.fat", "-n"], &efi);
    check_fs(&s, &["e2fsck", "-fn"], &read_node(&c, b"/dev/sd0p2"));
    let ffs = read_node(&c, b"/dev/sd0p3");
    assert_eq!(&ffs[8192 + 1372..8192 + 1376], &FS_UFS1_MAGIC);

    let fd = c.open(b"/dev/sd0p2", O_RDWR, 0).unwrap();
    c.pwrite(fd, b"GPT", 4096 * SECTOR as i64 - 3).unwrap();
    c.fsync(fd).unwrap();
    c.close(fd).unwrap();
    assert_eq!(host_bytes(&img, 8192 * SECTOR - 3, 3), b"GPT");
}

#[test]
fn a_damaged_primary_gpt_falls_back_to_the_backup() {
    let s = Scratch::new();
    let img = gpt_image(&s, "gpt.img");
    splice(&img, SECTOR + 16, &[0xff; 4]); // the primary header's CRC
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(Stdio::piped());
    let mut srv = Server::start_cmd(
        cmd,
        &[
            "-l",
            &vfs(),
            "-l",
            &devdisk(),
            "-d",
            &disk("/dev/sd0", &img),
        ],
        &s.url("sock"),
    );
    let c = srv.client();
    assert_partition(&c, "/dev/sd0p1", 2048);
    assert_partition(&c, "/dev/sd0p3", 2048);
    let ffs = read_node(&c, b"/dev/sd0p3");
    assert_eq!(&ffs[8192 + 1372..8192 + 1376], &FS_UFS1_MAGIC);
    c.reboot(0).unwrap();
    srv.wait_exit(Duration::from_secs(10)).unwrap();
    let mut err = String::new();
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("/dev/sd0: GPT: primary header at LBA 1 unusable (bad header CRC); using the backup at LBA 16383"),
        "{err}"
    );
}

#[test]
fn netbsd_disklabel_partitions() {
    let s = Scratch::new();
    // A label in sector 1 of a bare disk, as NetBSD/amd64 writes it: a
    // (FFS), b (swap), c and d (the whole disk, unused) and e (ext2).
    let bare = image(&s, "bare.img", 16384);
    splice(
        &bare,
        SECTOR,
        &netbsd_label(
            "",
            16384,
            &[
                ('a', 4096, 64, FS_BSDFFS),
                ('b', 2048, 4160, FS_SWAP),
                ('c', 16384, 0, 0),
                ('d', 16384, 0, 0),
                ('e', 4096, 8192, FS_EX2FS),
            ],
        ),
    );
    splice(&bare, 64 * SECTOR, &ffs_image(&s, 4096));
    ext2_at(&bare, 8192, 4096);

    // A label inside the NetBSD MBR partition, next to a FAT primary
    // partition that the label also names (as sysinst does).
    let mbr = image(&s, "mbr.img", 16384);
    sfdisk(
        &mbr,
        "label: dos\n\
         start=2048, size=2048, type=c\n\
         start=4096, size=12288, type=a9\n",
    );
    fat_at(&mbr, 2048, 2048, "DOS");
    splice(
        &mbr,
        4097 * SECTOR,
        &netbsd_label(
            "netbsd",
            16384,
            &[
                ('a', 4096, 4096, FS_BSDFFS),
                ('c', 12288, 4096, 0),
                ('d', 16384, 0, 0),
                ('e', 2048, 2048, FS_MSDOS),
            ],
        ),
    );
    // The label is in the boot area of partition a, which FFS leaves
    // alone: only the superblock on is written.
    splice(&mbr, 4096 * SECTOR + 8192, &ffs_image(&s, 4096)[8192..]);

    let srv = Server::start(
        "rump_server",
        &[
            "-l",
            &vfs(),
            "-l",
            &devdisk(),
            "-d",
            &disk("/dev/xbd0", &bare),
            "-d",
            &disk("/dev/wd0", &mbr),
        ],
        &s.url("sock"),
    );
    let c = srv.client();
    assert_partition(&c, "/dev/xbd0a", 4096);
    assert_partition(&c, "/dev/xbd0b", 2048);
    assert_partition(&c, "/dev/xbd0e", 4096);
    for gone in ["/dev/xbd0c", "/dev/xbd0d", "/dev/xbd0f"] {
        assert_absent(&c, gone);
    }
    let a = read_node(&c, b"/dev/xbd0a");
    assert_eq!(&a[8192 + 1372..8192 + 1376], &FS_UFS1_MAGIC);
    check_fs(&s, &["e2fsck", "-fn"], &read_node(&c, b"/dev/xbd0e"));

    // The label decides; the MBR's own names (e, f) are not used.
    assert_partition(&c, "/dev/wd0a", 4096);
    assert_partition(&c, "/dev/wd0e", 2048);
    assert_absent(&c, "/dev/wd0f");
    assert_absent(&c, "/dev/wd0c");
    let a = read_node(&c, b"/dev/wd0a");
    assert_eq!(a, host_bytes(&mbr, 4096 * SECTOR, 4096 * SECTOR));
    assert_eq!(&a[8192 + 1372..8192 + 1376], &FS_UFS1_MAGIC);
    check_fs(&s, &["fsck.fat", "-n"], &read_node(&c, b"/dev/wd0e"));
}

#[test]
fn a_scanner_loaded_later_finds_the_disks_already_there() {
    let s = Scratch::new();
    let mbr = mbr_image(&s, "mbr.img");
    let gpt = gpt_image(&s, "gpt.img");
    let srv = Server::start(
        "rump_server",
        &[
            "-l",
            &vfs(),
            "-d",
            &disk("/dev/wd0", &mbr),
            "-d",
            &disk("/dev/sd0", &gpt),
        ],
        &s.url("sock"),
    );
    let c = srv.client();
    assert_absent(&c, "/dev/wd0e");
    assert_absent(&c, "/dev/sd0p1");
    let module = std::fs::read(plugin("rumpdev_disk")).unwrap();
    let fd = c
        .open(b"/tmp/disk.kmod", O_WRONLY | O_CREAT, 0o644)
        .unwrap();
    c.write(fd, &module).unwrap();
    c.close(fd).unwrap();
    c.modload(b"/tmp/disk.kmod", 0).unwrap();
    let m = c.modstat().unwrap();
    let d = m.iter().find(|m| m.name == "disk").expect("disk loaded");
    assert_eq!(d.required.as_str(), "rumpvfs");
    assert_partition(&c, "/dev/wd0e", 4096);
    assert_partition(&c, "/dev/wd0j", 2048);
    assert_partition(&c, "/dev/sd0p2", 4096);
    check_fs(&s, &["e2fsck", "-fn"], &read_node(&c, b"/dev/sd0p2"));
    // Unloading the scanner leaves the partitions found.
    c.modunload(b"disk").unwrap();
    assert_partition(&c, "/dev/wd0e", 4096);
}

#[test]
fn a_key_given_by_name_wins_over_a_partition_name() {
    let s = Scratch::new();
    let mbr = mbr_image(&s, "mbr.img");
    let other = image(&s, "other.img", 100);
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(Stdio::piped());
    let mut srv = Server::start_cmd(
        cmd,
        &[
            "-l",
            &vfs(),
            "-l",
            &devdisk(),
            "-d",
            &disk("/dev/wd0", &mbr),
            "-d",
            &disk("/dev/wd0e", &other),
            "-d",
            &disk("/dev/sd0f", &other),
            "-d",
            &disk("/dev/sd0", &mbr),
        ],
        &s.url("sock"),
    );
    let c = srv.client();
    for key in ["/dev/wd0e", "/dev/sd0f"] {
        let st = c.stat(key.as_bytes()).unwrap();
        assert_eq!(
            (major(st.rdev), st.size),
            (197, 100 * SECTOR as i64),
            "{key} is the host file mapped by name"
        );
    }
    assert_partition(&c, "/dev/wd0f", 2048);
    assert_partition(&c, "/dev/sd0e", 4096);
    c.reboot(0).unwrap();
    srv.wait_exit(Duration::from_secs(10)).unwrap();
    let mut err = String::new();
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("/dev/sd0f: partition of /dev/sd0 not added: name in use"),
        "{err}"
    );
}

/// CRC-32 as GPT uses it.
fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |mut c, &b| {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        c
    })
}

/// Changes the GPT header at `lba` of `img` with `f` (on its 92 bytes)
/// and seals it with a fresh CRC, so that only deeper checks can refuse
/// it.
fn reseal_header(img: &mut [u8], lba: usize, f: impl Fn(&mut [u8])) {
    let h = &mut img[512 * lba..512 * lba + 92];
    f(h);
    h[16..20].fill(0);
    let c = crc32(h);
    h[16..20].copy_from_slice(&c.to_le_bytes());
}

/// Changes entry `i` of the primary GPT entry array of `img` with `f`
/// and seals array and header with fresh CRCs.
fn reseal_entry(img: &mut [u8], i: usize, f: impl FnOnce(&mut [u8])) {
    f(&mut img[1024 + 128 * i..1024 + 128 * (i + 1)]);
    let c = crc32(&img[1024..1024 + 128 * 128]);
    reseal_header(img, 1, |h| h[88..92].copy_from_slice(&c.to_le_bytes()));
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Hostile tables made by hand: each passes the checks that come before
/// the one it attacks.
fn hostile_images(mbr: &[u8], gpt: &[u8], label: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let ebr = |im: &mut Vec<u8>, f: &dyn Fn(&mut [u8])| {
        // The first EBR sits at the extended partition's start.
        f(&mut im[512 * 512..513 * 512]);
    };
    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut im = mbr.to_vec();
    ebr(&mut im, &|s| put_u32(s, 446 + 16 + 8, 0)); // link to itself
    v.push(("EBR linking to itself", im));
    let mut im = mbr.to_vec();
    ebr(&mut im, &|s| put_u32(s, 446 + 16 + 8, 0xffff_fff0)); // far away
    v.push(("EBR linking off the disk", im));
    let mut im = mbr.to_vec();
    ebr(&mut im, &|s| put_u32(s, 446 + 12, 0xffff_ffff)); // huge logical
    v.push(("huge logical partition", im));
    let mut im = mbr.to_vec();
    put_u32(&mut im, 446 + 8, 0xffff_ff00); // primary starting off the disk
    put_u32(&mut im, 446 + 16 + 12, 0xffff_ffff); // primary running off it
    v.push(("primaries off the disk", im));
    let mut im = mbr.to_vec();
    for i in 0..4 {
        put_u32(&mut im, 446 + 16 * i + 8, 1); // all four overlapping
        put_u32(&mut im, 446 + 16 * i + 12, 100);
        im[446 + 16 * i + 4] = 0x83;
    }
    v.push(("overlapping primaries", im));
    // Both headers damaged alike, else the backup would serve.
    let both = |f: &dyn Fn(&mut [u8])| {
        let mut im = gpt.to_vec();
        let last = im.len() / 512 - 1;
        reseal_header(&mut im, 1, f);
        reseal_header(&mut im, last, f);
        im
    };
    v.push(("GPT with 2^32 entries", both(&|h| put_u32(h, 80, u32::MAX))));
    v.push(("GPT entries of size 0", both(&|h| put_u32(h, 84, 0))));
    v.push((
        "GPT array off the disk",
        both(&|h| put_u64(h, 72, u64::MAX / 2)),
    ));
    v.push((
        "GPT header larger than a sector",
        both(&|h| put_u32(h, 12, 0xffff)),
    ));
    let mut im = gpt.to_vec();
    reseal_header(&mut im, 1, |h| put_u64(h, 48, u64::MAX));
    reseal_entry(&mut im, 0, |e| put_u64(e, 40, u64::MAX - 1));
    v.push(("GPT partition to the end of time", im));
    let mut im = gpt.to_vec();
    reseal_entry(&mut im, 1, |e| {
        put_u64(e, 32, 300);
        put_u64(e, 40, 200);
    });
    reseal_entry(&mut im, 2, |e| put_u64(e, 32, 40));
    v.push(("GPT partitions backwards and overlapping", im));
    let mut im = gpt.to_vec();
    reseal_entry(&mut im, 0, |e| {
        for i in 0..36 {
            e[56 + 2 * i..58 + 2 * i].copy_from_slice(&0xd800u16.to_le_bytes());
        }
    });
    v.push(("GPT name of lone surrogates", im));
    let mut im = label.to_vec();
    let fix = |im: &mut Vec<u8>| {
        let l = &mut im[512..512 + 148 + 16 * 16];
        l[136..138].fill(0);
        let sum = l
            .chunks_exact(2)
            .fold(0u16, |s, w| s ^ u16::from_le_bytes([w[0], w[1]]));
        l[136..138].copy_from_slice(&sum.to_le_bytes());
    };
    put_u32(&mut im, 512 + 148, u32::MAX); // a: huge
    put_u32(&mut im, 512 + 148 + 16, 100); // b: far off
    put_u32(&mut im, 512 + 148 + 16 + 4, u32::MAX);
    im[512 + 148 + 16 + 12] = FS_SWAP;
    fix(&mut im);
    v.push(("disklabel partitions off the disk", im));
    let mut im = label.to_vec();
    im[512 + 138] = 200; // d_npartitions
    fix(&mut im);
    v.push(("disklabel with 200 partitions", im));
    v
}

/// Random damage to the sectors that hold tables.
fn damaged(base: &[u8], hot: &[u64], rng: &mut u64) -> Vec<u8> {
    let mut next = || {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    };
    let mut im = base.to_vec();
    for _ in 0..1 + next() % 12 {
        let sector = hot[(next() % hot.len() as u64) as usize];
        let at = (sector * 512 + next() % 512) as usize;
        im[at] = next() as u8;
    }
    im
}

/// Every partition node a disk under `key` may have, with its size.
fn partitions_of(c: &Client, key: &str) -> Vec<(String, u64)> {
    let suffixes = ('a'..='v')
        .map(String::from)
        .chain((1..=4).map(|i| format!("p{i}")));
    suffixes
        .filter_map(|sfx| {
            let p = format!("{key}{sfx}");
            c.stat(p.as_bytes()).ok().map(|st| (p, st.size as u64))
        })
        .collect()
}

/// Small images for the hostile cases (no file systems needed): an MBR
/// with two primaries and two logicals (EBRs at 512 and 1023), a GPT
/// with three partitions, and a disklabel with a and e.
fn small_images(s: &Scratch) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mbr = image(s, "small-mbr.img", SMALL);
    sfdisk(
        &mbr,
        "label: dos\n\
         start=64, size=256, type=c\n\
         start=320, size=128, type=83\n\
         start=512, size=2048, type=5\n\
         start=576, size=256, type=83\n\
         start=1024, size=128, type=82\n",
    );
    let gpt = image(s, "small-gpt.img", SMALL);
    sfdisk(
        &gpt,
        "label: gpt\n\
         start=40, size=256, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n\
         start=296, size=512, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n\
         start=808, size=256, type=49F48D5A-B10E-11DC-B99B-0019D1879648\n",
    );
    let mut label = vec![0u8; SMALL as usize * 512];
    let l = netbsd_label(
        "",
        SMALL,
        &[('a', 512, 64, FS_BSDFFS), ('e', 256, 600, FS_EX2FS)],
    );
    label[512..512 + l.len()].copy_from_slice(&l);
    let read = |p: PathBuf| std::fs::read(p).unwrap();
    (read(mbr), read(gpt), label)
}

/// Sectors in each hostile image.
const SMALL: u64 = 4096;

#[test]
fn hostile_tables_never_crash_the_server() {
    let s = Scratch::new();
    let (mbr, gpt, label) = small_images(&s);
    let mut cases = hostile_images(&mbr, &gpt, &label);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let gpt_hot: Vec<u64> = (0..34).chain(SMALL - 33..SMALL).collect();
    for i in 0..30 {
        let (base, hot): (&[u8], &[u64]) = match i % 3 {
            0 => (&mbr, &[0, 512, 1023]),
            1 => (&gpt, &gpt_hot),
            _ => (&label, &[0, 1, 2]),
        };
        cases.push(("random damage", damaged(base, hot, &mut rng)));
    }
    // One server per 15 images (rumpblk has 16 units).
    for (round, batch) in cases.chunks(15).enumerate() {
        let mut args = vec!["-l".to_string(), vfs(), "-l".to_string(), devdisk()];
        for (i, (_, im)) in batch.iter().enumerate() {
            let p = s.path().join(format!("h{round}-{i}.img"));
            std::fs::write(&p, im).unwrap();
            args.push("-d".into());
            args.push(disk(&format!("/dev/h{i}"), &p));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = server_cmd("rump_server");
        cmd.stderr(Stdio::null());
        let srv = Server::start_cmd(cmd, &args, &s.url(&format!("sock{round}")));
        let c = srv.client();
        for (i, (what, im)) in batch.iter().enumerate() {
            let key = format!("/dev/h{i}");
            let size = c.stat(key.as_bytes()).unwrap().size as u64;
            assert_eq!(size, im.len() as u64);
            let mut end = [0u8; 1];
            for (p, psize) in partitions_of(&c, &key) {
                assert!(psize > 0 && psize <= size, "{what}: {p} has {psize} bytes");
                let fd = c.open(p.as_bytes(), O_RDONLY, 0).unwrap();
                assert_eq!(c.pread(fd, &mut end, psize as i64 - 1).unwrap(), 1);
                c.close(fd).unwrap();
            }
        }
        // The hand-made cases each lose what they attack.
        if round == 0 {
            let parts = |i: usize| partitions_of(&c, &format!("/dev/h{i}"));
            let names = |i: usize| -> Vec<String> {
                parts(i)
                    .into_iter()
                    .map(|(p, _)| p.trim_start_matches(&format!("/dev/h{i}")).to_string())
                    .collect()
            };
            assert_eq!(names(0), ["e", "f", "i"], "{}", batch[0].0);
            assert_eq!(names(1), ["e", "f", "i"], "{}", batch[1].0);
            assert_eq!(
                names(2),
                ["e", "f", "j"],
                "{}: the next logical keeps its letter",
                batch[2].0
            );
            assert_eq!(names(3), ["f"], "{}: clipped", batch[3].0);
            assert_eq!(
                parts(3)[0].1,
                (SMALL - 320) * SECTOR,
                "clipped at the disk's end"
            );
            assert_eq!(names(4), ["e"], "{}", batch[4].0);
            for (i, (what, _)) in batch.iter().enumerate().take(9).skip(5) {
                assert!(names(i).is_empty(), "{what}: {:?}", names(i));
            }
            assert_eq!(names(9), ["p1"], "{}: the others overlap it", batch[9].0);
            assert_eq!(
                parts(9)[0].1,
                (SMALL - 40) * SECTOR,
                "clipped at the disk's end"
            );
            assert_eq!(names(10), ["p1"], "{}", batch[10].0);
            assert_eq!(names(11), ["p1", "p2", "p3"], "{}", batch[11].0);
            assert_eq!(names(12), ["a", "e"], "{}", batch[12].0);
            assert_eq!(
                parts(12)[0].1,
                (SMALL - 64) * SECTOR,
                "a clipped at the disk's end"
            );
            assert!(names(13).is_empty(), "{}", batch[13].0);
        }
    }
}
