//! rump.fsck_ffs and rump.newfs against a real rump_server with the VFS:
//! images made by makefs (UFS1 and UFS2, several block and fragment
//! sizes) check clean, through the kernel's block device and from the
//! host side alike, with the counts makefs made; corrupted copies are
//! caught with the right message; random damage never crashes the
//! checker; newfs makes file systems fsck finds clean, and -N writes
//! nothing.

use rump_tests::*;
use rumpclient::tools::fsck_ffs::{self, Options, Summary};
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a tool did.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn exec(mut cmd: Command, args: &[&str]) -> Ran {
    cmd.args(args).env("TZ", "UTC");
    let o = run(&mut cmd);
    let r = Ran {
        code: o.status.code(),
        stdout: text(&o.stdout),
        stderr: text(&o.stderr),
    };
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    r
}

/// The most block devices one server attaches (rumpblk units).
const UNITS: usize = 16;

/// A server with the VFS and one block device per image.
struct Disks<'s> {
    scratch: &'s Scratch,
    server: Server,
}

impl<'s> Disks<'s> {
    /// `/dev/d0`, `/dev/d1`, ... on the host files `images` (each "path"
    /// or "path:size" for a file made at that size).
    fn start(scratch: &'s Scratch, images: &[String]) -> Disks<'s> {
        assert!(images.len() <= UNITS);
        let vfs = plugin("rumpvfs");
        let mut args = vec!["-l".to_string(), vfs.to_str().unwrap().to_string()];
        for (i, img) in images.iter().enumerate() {
            let (path, size) = img.split_once(':').unwrap_or((img, "host"));
            args.push("-d".into());
            args.push(format!("key=/dev/d{i},hostpath={path},size={size}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // A socket of its own: servers of one scratch come one after another.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let server = Server::start("rump_server", &args, &scratch.url(&format!("s{n}")));
        Disks { scratch, server }
    }

    fn tool(&self, name: &str, args: &[&str]) -> Ran {
        exec(self.scratch.tool(name, &self.server.url), args)
    }

    fn fsck(&self, args: &[&str]) -> Ran {
        self.tool("fsck_ffs", args)
    }
}

/// Checks every image with `fsck_ffs -f`, as many per server as it has
/// units; the reports in order.
fn check_all(scratch: &Scratch, images: &[String]) -> Vec<Ran> {
    let mut out = Vec::new();
    for batch in images.chunks(UNITS) {
        let disks = Disks::start(scratch, batch);
        for i in 0..batch.len() {
            out.push(disks.fsck(&["-f", &format!("/dev/d{i}")]));
        }
    }
    out
}

/// The numbers of fsck's final line.
fn summary_of(out: &str) -> Summary {
    let line = out
        .lines()
        .find(|l| l.contains(" files, ") && l.contains("fragmentation)"))
        .unwrap_or_else(|| panic!("no summary line in\n{out}"));
    let nums: Vec<i64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    Summary {
        files: nums[0] as u64,
        used: nums[1] as u64,
        free_frags: nums[3],
        free_blocks: nums[4],
    }
}

const PHASES: [&str; 5] = [
    "** Phase 1 - Check Blocks and Sizes",
    "** Phase 2 - Check Pathnames",
    "** Phase 3 - Check Connectivity",
    "** Phase 4 - Check Reference Counts",
    "** Phase 5 - Check Cyl groups",
];

// ---- Building trees and images on the host -------------------------

/// Deterministic bytes that do not compress to zeros.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32 % 31) as u8
        })
        .collect()
}

/// A tree with files of every size class (empty, a fragment, a tail of
/// fragments, indirect and double indirect blocks, all-zero), a hard
/// link, short and long symlinks, a fifo, nested and empty directories.
/// `big` adds the multi-megabyte files. Returns the inode count makefs
/// will use (the root included).
fn build_tree(dir: &Path, big: bool) -> u64 {
    std::fs::create_dir_all(dir.join("sub/deep")).unwrap();
    std::fs::create_dir_all(dir.join("emptydir")).unwrap();
    std::fs::write(dir.join("a.txt"), b"hello\n").unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();
    std::fs::write(dir.join("one"), b"x").unwrap();
    std::fs::write(dir.join("tail"), pattern(5000, 1)).unwrap();
    std::fs::write(dir.join("sub/medium"), pattern(300 << 10, 2)).unwrap();
    std::fs::write(dir.join("sub/deep/file"), b"deep\n").unwrap();
    if big {
        std::fs::write(dir.join("double"), pattern(5 << 20, 3)).unwrap();
        std::fs::write(dir.join("zeros"), vec![0u8; 3 << 20]).unwrap();
    }
    let sparse = std::fs::File::create(dir.join("sparse")).unwrap();
    sparse.set_len(200 << 10).unwrap();
    std::os::unix::fs::FileExt::write_at(&sparse, b"end", (200 << 10) - 3).unwrap();
    std::fs::hard_link(dir.join("a.txt"), dir.join("hard")).unwrap();
    std::os::unix::fs::symlink("a.txt", dir.join("sym")).unwrap();
    std::os::unix::fs::symlink("l".repeat(200), dir.join("longsym")).unwrap();
    let fifo = std::ffi::CString::new(dir.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    count_inodes(dir) + 1
}

/// Distinct inodes under `dir` (not counting it).
fn count_inodes(dir: &Path) -> u64 {
    let mut seen = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            seen.insert(m.ino());
            if m.is_dir() {
                todo.push(e.path());
            }
        }
    }
    seen.len() as u64
}

/// Runs makefs: UFS `version`, `opts` more options, optional size.
fn makefs(tree: &Path, img: &Path, version: u32, opts: &str, size: Option<&str>) {
    let mut o = format!("version={version}");
    if !opts.is_empty() {
        o = format!("{o},{opts}");
    }
    let mut cmd = Command::new("makefs");
    cmd.args(["-t", "ffs", "-o", &o]);
    if let Some(s) = size {
        cmd.args(["-s", s]);
    }
    cmd.arg(img).arg(tree);
    let out = run(&mut cmd);
    assert!(out.status.success(), "makefs failed: {}", text(&out.stderr));
}

// ---- An independent reader of images on the host --------------------

/// Just enough of the on-disk format, read from raw offsets, to find
/// structures to damage and to compare counts.
struct Image {
    b: Vec<u8>,
    sb: usize,
    ufs2: bool,
}

impl Image {
    fn load(p: &Path) -> Image {
        Image::parse(std::fs::read(p).unwrap(), p)
    }

    /// The first `len` bytes of a big image (its first group's metadata).
    fn load_head(p: &Path, len: u64) -> Image {
        use std::io::Read;
        let mut b = Vec::new();
        let f = std::fs::File::open(p).unwrap();
        f.take(len).read_to_end(&mut b).unwrap();
        Image::parse(b, p)
    }

    fn parse(b: Vec<u8>, p: &Path) -> Image {
        for sb in [65536usize, 8192] {
            let magic = i32::from_le_bytes(b[sb + 1372..sb + 1376].try_into().unwrap());
            if magic == 0x011954 || magic == 0x19540119 {
                return Image {
                    ufs2: magic == 0x19540119,
                    b,
                    sb,
                };
            }
        }
        panic!("no superblock in {}", p.display());
    }

    fn save(&self, p: &Path) {
        std::fs::write(p, &self.b).unwrap();
    }

    fn get(&self, off: usize, len: usize) -> i64 {
        let mut v = [0u8; 8];
        v[..len].copy_from_slice(&self.b[off..off + len]);
        let raw = i64::from_le_bytes(v);
        let shift = 64 - 8 * len as u32;
        (raw << shift) >> shift
    }

    fn put(&mut self, off: usize, len: usize, v: i64) {
        self.b[off..off + len].copy_from_slice(&v.to_le_bytes()[..len]);
    }

    /// A 32-bit superblock field.
    fn sbf(&self, off: usize) -> i64 {
        self.get(self.sb + off, 4)
    }

    fn fsize(&self) -> usize {
        self.sbf(52) as usize
    }
    fn ncg(&self) -> usize {
        self.sbf(44) as usize
    }
    fn ipg(&self) -> usize {
        self.sbf(184) as usize
    }
    fn fpg(&self) -> usize {
        self.sbf(188) as usize
    }
    fn isz(&self) -> usize {
        if self.ufs2 {
            256
        } else {
            128
        }
    }

    /// Superblock totals: (ndir, nbfree, nifree, nffree).
    fn totals(&self) -> [i64; 4] {
        [0, 8, 16, 24].map(|o| self.get(self.sb + 1008 + o, 8))
    }

    /// Byte offset of cylinder group `c`'s block.
    fn cg(&self, c: usize) -> usize {
        (c * self.fpg() + self.sbf(12) as usize) * self.fsize()
    }

    fn inode(&self, ino: usize) -> usize {
        let c = ino / self.ipg();
        (c * self.fpg() + self.sbf(16) as usize) * self.fsize() + (ino % self.ipg()) * self.isz()
    }

    fn mode(&self, ino: usize) -> i64 {
        self.get(self.inode(ino), 2) & 0xffff
    }
    fn nlink_at(&self, ino: usize) -> usize {
        self.inode(ino) + 2
    }
    fn size(&self, ino: usize) -> i64 {
        self.get(self.inode(ino) + if self.ufs2 { 16 } else { 8 }, 8)
    }
    fn size_at(&self, ino: usize) -> usize {
        self.inode(ino) + if self.ufs2 { 16 } else { 8 }
    }
    fn blocks_at(&self, ino: usize) -> (usize, usize) {
        if self.ufs2 {
            (self.inode(ino) + 24, 8)
        } else {
            (self.inode(ino) + 104, 4)
        }
    }
    fn ptr_len(&self) -> usize {
        if self.ufs2 {
            8
        } else {
            4
        }
    }
    /// Where direct pointer `i` (0..12) or indirect pointer `12 + l` is.
    fn ptr_at(&self, ino: usize, i: usize) -> usize {
        self.inode(ino) + if self.ufs2 { 112 } else { 40 } + i * self.ptr_len()
    }
    fn ptr(&self, ino: usize, i: usize) -> i64 {
        self.get(self.ptr_at(ino, i), self.ptr_len())
    }

    /// Entries of a directory (direct blocks only): (byte offset, inode,
    /// record length, type, name).
    fn entries(&self, dir: usize) -> Vec<(usize, u32, u16, u8, String)> {
        let mut out = Vec::new();
        let size = self.size(dir) as usize;
        let bsize = self.sbf(48) as usize;
        for i in 0..size.div_ceil(bsize).min(12) {
            let base = self.ptr(dir, i) as usize * self.fsize();
            let len = (size - i * bsize).min(bsize);
            let mut at = 0;
            while at < len {
                let e = base + at;
                let ino = self.get(e, 4) as u32;
                let reclen = self.get(e + 4, 2) as u16;
                let namlen = self.b[e + 7] as usize;
                let name = String::from_utf8_lossy(&self.b[e + 8..e + 8 + namlen]).into_owned();
                out.push((e, ino, reclen, self.b[e + 6], name));
                if reclen == 0 {
                    break;
                }
                at += reclen as usize;
            }
        }
        out
    }

    /// The inode a path names.
    fn lookup(&self, path: &str) -> usize {
        let mut ino = 2usize;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            ino = self
                .entries(ino)
                .iter()
                .find(|e| e.1 != 0 && e.4 == part)
                .unwrap_or_else(|| panic!("no {part} in {path}"))
                .1 as usize;
        }
        ino
    }

    /// Fragments held by inodes in use, from their block counts.
    fn used_frags(&self) -> u64 {
        let per = self.fsize() as i64 / 512;
        (2..self.ncg() * self.ipg())
            .filter(|&i| self.mode(i) != 0)
            .map(|i| {
                let (at, len) = self.blocks_at(i);
                (self.get(at, len) / per) as u64
            })
            .sum()
    }
}

/// Runs the checker from the host side on an image file.
fn host_check(img: &Path) -> (fsck_ffs::Outcome, String) {
    let f = std::fs::File::open(img).unwrap();
    let mut out = Vec::new();
    let opts = Options {
        force: true,
        ..Options::default()
    };
    let o = fsck_ffs::check(&f, "image", &opts, &mut out);
    (o, text(&out))
}

// ---- Tests -----------------------------------------------------------

#[test]
fn makefs_images_check_clean_through_the_kernel_and_from_the_host() {
    let scratch = Scratch::new();
    let tree = scratch.path().join("tree");
    let files = build_tree(&tree, true);
    let shapes = [
        (1, 8192, 1024),
        (2, 8192, 1024),
        (1, 4096, 512),
        (2, 4096, 512),
        (2, 16384, 2048),
        (1, 32768, 4096),
    ];
    let mut images = Vec::new();
    for (i, (v, b, f)) in shapes.iter().enumerate() {
        let img = scratch.path().join(format!("img{i}"));
        makefs(&tree, &img, *v, &format!("bsize={b},fsize={f}"), None);
        images.push(img);
    }
    let names: Vec<String> = images.iter().map(|p| p.display().to_string()).collect();
    let disks = Disks::start(&scratch, &names);
    for (i, img) in images.iter().enumerate() {
        let what = format!("{:?}", shapes[i]);
        let dev = format!("/dev/d{i}");
        let r = disks.fsck(&[&dev]);
        assert_eq!(r.code, Some(0), "{what}: {r:?}");
        assert_eq!(
            r.stdout,
            format!("** {dev} (NO WRITE)\n** File system is clean; not checking\n"),
            "{what}: a clean file system is skipped without -f"
        );
        let r = disks.fsck(&["-f", &dev]);
        assert_eq!(r.code, Some(0), "{what}: {r:?}");
        let mut expect =
            format!("** {dev} (NO WRITE)\n** File system is already clean\n** Last Mounted on \n");
        for p in PHASES {
            expect += p;
            expect += "\n";
        }
        assert!(r.stdout.starts_with(&expect), "{what}:\n{}", r.stdout);
        let s = summary_of(&r.stdout);
        let host = Image::load(img);
        let [_, nbfree, nifree, nffree] = host.totals();
        assert_eq!(s.files, files, "{what}: files makefs made");
        assert_eq!(
            s.files as i64,
            (host.ncg() * host.ipg()) as i64 - nifree - 2,
            "{what}: inodes in use per the superblock"
        );
        assert_eq!((s.free_frags, s.free_blocks), (nffree, nbfree), "{what}");
        assert_eq!(
            s.used,
            host.used_frags(),
            "{what}: fragments the inodes hold"
        );
        // The same image read from the host gives the same report.
        let (o, text) = host_check(img);
        assert_eq!(o.status, 0, "{what}: {text}");
        assert_eq!(
            text.replace("** image (NO WRITE)", &format!("** {dev} (NO WRITE)")),
            r.stdout,
            "{what}: host-side and in-kernel reads agree"
        );
        let hs = o.summary.unwrap();
        assert_eq!((hs.files, hs.used), (s.files, s.used));
    }
}

/// The base image for damage: UFS `version`, 8k blocks and 1k
/// fragments; and how many inodes it uses.
fn small_image(dir: &Path, version: u32) -> (PathBuf, u64) {
    let tree = dir.join(format!("tree{version}"));
    let files = build_tree(&tree, false);
    let img = dir.join(format!("base{version}"));
    makefs(&tree, &img, version, "bsize=8192,fsize=1024", Some("2m"));
    (img, files)
}

/// The first free inode (inside the inodes fsck reads, even for UFS2).
fn free_inode(m: &Image) -> usize {
    (3..).find(|&i| m.mode(i) == 0).unwrap()
}

/// One way to damage an image, the exit status fsck must give and
/// words its report must contain.
struct Damage {
    name: &'static str,
    apply: fn(&mut Image),
    status: i32,
    expect: &'static [&'static str],
}

/// A data fragment the file `path` holds (its first).
fn first_frag(m: &Image, path: &str) -> i64 {
    m.ptr(m.lookup(path), 0)
}

fn flip_frag_bit(m: &mut Image, frag: i64) {
    let cg = m.cg(0);
    let freeoff = m.get(cg + 96, 4) as usize;
    m.b[cg + freeoff + frag as usize / 8] ^= 1 << (frag % 8);
}

const DAMAGES: &[Damage] = &[
    Damage {
        name: "used fragment marked free",
        apply: |m| {
            let f = first_frag(m, "tail");
            flip_frag_bit(m, f);
        },
        status: 2,
        expect: &[
            "ALLOCATED FRAG",
            "MARKED FREE",
            "BLK(S) MISSING IN BIT MAPS",
        ],
    },
    Damage {
        name: "free fragment marked used",
        apply: |m| {
            let last = m.fpg().min(m.sbf(1080) as usize) as i64 - 1;
            flip_frag_bit(m, last);
        },
        status: 2,
        expect: &["FREE FRAG", "MARKED IN USE", "BLK(S) MISSING IN BIT MAPS"],
    },
    Damage {
        name: "inode map bit",
        apply: |m| {
            let ino = m.lookup("one");
            let cg = m.cg(0);
            let iused = m.get(cg + 92, 4) as usize;
            m.b[cg + iused + ino / 8] ^= 1 << (ino % 8);
        },
        status: 2,
        expect: &[
            "ALLOCATED INODE",
            "MARKED FREE",
            "BLK(S) MISSING IN BIT MAPS",
        ],
    },
    Damage {
        name: "group's free block count",
        apply: |m| {
            let at = m.cg(0) + 28;
            let v = m.get(at, 4);
            m.put(at, 4, v + 1);
        },
        status: 2,
        expect: &["FREE BLOCKS", "SUMMARY INFORMATION BAD"],
    },
    Damage {
        name: "summary area count",
        apply: |m| {
            let at = m.get(m.sb + 1096, 8) as usize * m.fsize();
            let v = m.get(at + 8, 4);
            m.put(at + 8, 4, v - 1);
        },
        status: 2,
        expect: &[
            "SUMMARY AREA: FREE INODES",
            "FREE BLK COUNT(S) WRONG IN SUPERBLK",
        ],
    },
    Damage {
        name: "superblock total",
        apply: |m| {
            let at = m.sb + 1008 + 24;
            let v = m.get(at, 8);
            m.put(at, 8, v + 5);
        },
        status: 2,
        expect: &[
            "SUPERBLOCK TOTAL: FREE FRAGS",
            "FREE BLK COUNT(S) WRONG IN SUPERBLK",
        ],
    },
    Damage {
        name: "link count too high",
        apply: |m| {
            let at = m.nlink_at(m.lookup("one"));
            m.put(at, 2, 3);
        },
        status: 2,
        expect: &["LINK COUNT FILE", "COUNT 3 SHOULD BE 1", "ADJUST? no"],
    },
    Damage {
        name: "link count of a hard link",
        apply: |m| {
            let at = m.nlink_at(m.lookup("hard"));
            m.put(at, 2, 1);
        },
        status: 2,
        expect: &["LINK COUNT FILE", "COUNT 1 SHOULD BE 2"],
    },
    Damage {
        name: "directory link count",
        apply: |m| {
            let at = m.nlink_at(m.lookup("sub"));
            m.put(at, 2, 2);
        },
        status: 2,
        expect: &["LINK COUNT DIR", "COUNT 2 SHOULD BE 3"],
    },
    Damage {
        name: "duplicate block",
        apply: |m| {
            let f = first_frag(m, "sub/medium");
            let at = m.ptr_at(m.lookup("tail"), 0);
            let len = m.ptr_len();
            m.put(at, len, f);
        },
        status: 2,
        expect: &["DUP I=", "Phase 1b - Rescan For More DUPS", "DUP/BAD"],
    },
    Damage {
        name: "block out of range",
        apply: |m| {
            let at = m.ptr_at(m.lookup("sub/medium"), 3);
            let len = m.ptr_len();
            m.put(at, len, 10_000_000);
        },
        status: 2,
        expect: &["10000000 BAD I="],
    },
    Damage {
        name: "block in the metadata",
        apply: |m| {
            let at = m.ptr_at(m.lookup("sub/medium"), 2);
            let len = m.ptr_len();
            let cblkno = m.sbf(12);
            m.put(at, len, cblkno);
        },
        status: 2,
        expect: &[" BAD I="],
    },
    Damage {
        name: "block in the boot area",
        apply: |m| {
            let at = m.ptr_at(m.lookup("sub/medium"), 2);
            let len = m.ptr_len();
            m.put(at, len, 8);
        },
        status: 2,
        expect: &["8 DUP I=", "Phase 1b"],
    },
    Damage {
        name: "block count",
        apply: |m| {
            let (at, len) = m.blocks_at(m.lookup("tail"));
            let v = m.get(at, len);
            m.put(at, len, v + 2);
        },
        status: 2,
        expect: &["INCORRECT BLOCK COUNT I=", "CORRECT? no"],
    },
    Damage {
        name: "block past the size",
        apply: |m| {
            let ino = m.lookup("one");
            let f = m.ptr(ino, 0);
            let at = m.ptr_at(ino, 7);
            let len = m.ptr_len();
            m.put(at, len, f);
        },
        status: 2,
        expect: &["UNKNOWN FILE TYPE I="],
    },
    Damage {
        name: "size past the blocks of a directory",
        apply: |m| {
            let at = m.size_at(m.lookup("sub/deep"));
            m.put(at, 8, 8192 + 512);
        },
        status: 2,
        expect: &["CONTAINS EMPTY BLOCKS"],
    },
    Damage {
        name: "directory record length",
        apply: |m| {
            let e = m.entries(2);
            let at = e[1].0 + 4;
            m.put(at, 2, 7);
        },
        status: 2,
        expect: &["DIRECTORY CORRUPTED", "DIR=/", "SALVAGE? no"],
    },
    Damage {
        name: "record length past the chunk",
        apply: |m| {
            let sub = m.lookup("sub");
            let e = m.entries(sub);
            let last = e.last().unwrap().0;
            m.put(last + 4, 2, 1024);
        },
        status: 2,
        expect: &["DIRECTORY CORRUPTED", "DIR=/sub"],
    },
    Damage {
        name: "name with a slash",
        apply: |m| {
            let e = m.entries(2);
            let a = e.iter().find(|x| x.4 == "a.txt").unwrap().0;
            m.b[a + 9] = b'/';
        },
        status: 2,
        expect: &["DIRECTORY CORRUPTED"],
    },
    Damage {
        name: "entry naming a free inode",
        apply: |m| {
            let e = m.entries(2);
            let a = e.iter().find(|x| x.4 == "one").unwrap().0;
            let free = free_inode(m) as i64;
            m.put(a, 4, free);
        },
        status: 2,
        expect: &["UNALLOCATED", "NAME=/one", "REMOVE? no", "UNREF FILE"],
    },
    Damage {
        name: "entry type",
        apply: |m| {
            let e = m.entries(2);
            let a = e.iter().find(|x| x.4 == "tail").unwrap().0;
            m.b[a + 6] = 4;
        },
        status: 2,
        expect: &["BAD TYPE VALUE", "FILE=/tail"],
    },
    Damage {
        name: "dot-dot",
        apply: |m| {
            let deep = m.lookup("sub/deep");
            let e = m.entries(deep);
            m.put(e[1].0, 4, 2);
        },
        status: 2,
        expect: &["BAD INODE NUMBER FOR '..'", "DIR=/sub/deep"],
    },
    Damage {
        name: "dot",
        apply: |m| {
            let sub = m.lookup("sub");
            let e = m.entries(sub);
            m.put(e[0].0, 4, 2);
        },
        status: 2,
        expect: &["BAD INODE NUMBER FOR '.'"],
    },
    Damage {
        name: "unreachable directory",
        apply: |m| {
            let e = m.entries(2);
            let a = e.iter().find(|x| x.4 == "emptydir").unwrap().0;
            m.put(a, 4, 0);
        },
        status: 2,
        expect: &["UNREF DIR", "RECONNECT? no", "CLEAR? no"],
    },
    Damage {
        name: "directory loop",
        apply: |m| {
            // Detach sub from the root, and name it from sub/deep.
            let root = m.entries(2);
            let a = root.iter().find(|x| x.4 == "sub").unwrap().0;
            let sub = m.get(a, 4);
            m.put(a, 4, 0);
            let deep = m.lookup_from(sub as usize, "deep");
            let e = m.entries(deep);
            let last = e.last().unwrap().clone();
            let used = 8 + (last.4.len() + 4) / 4 * 4;
            let at = last.0 + used;
            m.put(last.0 + 4, 2, used as i64);
            m.put(at, 4, sub);
            m.put(at + 4, 2, (last.2 as usize - used) as i64);
            m.b[at + 6] = 4;
            m.b[at + 7] = 4;
            m.b[at + 8..at + 13].copy_from_slice(b"loop\0");
        },
        status: 2,
        expect: &["ORPHANED DIRECTORY LOOP DETECTED I="],
    },
    Damage {
        name: "extraneous hard link to a directory",
        apply: |m| {
            let e = m.entries(2);
            let a = e.iter().find(|x| x.4 == "one").unwrap().0;
            let sub = m.lookup("sub") as i64;
            m.put(a, 4, sub);
            m.b[a + 6] = 4;
        },
        status: 2,
        expect: &["IS AN EXTRANEOUS HARD LINK TO DIRECTORY"],
    },
    Damage {
        name: "impossible minfree",
        apply: |m| {
            let at = m.sb + 60;
            m.put(at, 4, 200);
        },
        status: 2,
        expect: &["IMPOSSIBLE MINFREE=200 IN SUPERBLOCK", "SET TO DEFAULT? no"],
    },
    Damage {
        name: "backup superblock disagrees",
        apply: |m| {
            // The last group's backup: its cylinder group count.
            let c = m.ncg() - 1;
            let at = (c * m.fpg() + m.sbf(8) as usize) * m.fsize() + 44;
            m.put(at, 4, 99);
        },
        status: 2,
        expect: &[
            "VALUES IN SUPER BLOCK DISAGREE WITH THOSE IN FIRST ALTERNATE",
            "ALTERNATE SUPERBLK(S) ARE INCORRECT",
        ],
    },
    Damage {
        name: "impossible geometry",
        apply: |m| {
            let at = m.sb + 184;
            let v = m.get(at, 4);
            m.put(at, 4, v + 3);
        },
        status: 8,
        expect: &["BAD SUPER BLOCK: INODES PER GROUP"],
    },
    Damage {
        name: "superblock gone",
        apply: |m| {
            let at = m.sb + 1372;
            m.put(at, 4, 0);
        },
        status: 8,
        expect: &["BAD SUPER BLOCK: CAN'T FIND SUPERBLOCK", "-b"],
    },
    Damage {
        name: "group magic",
        apply: |m| {
            let at = m.cg(0) + 4;
            m.put(at, 4, 0x1234);
        },
        status: 2,
        expect: &["CG 0: PASS5: BAD MAGIC NUMBER", "SUMMARY INFORMATION BAD"],
    },
    Damage {
        name: "root not a directory",
        apply: |m| {
            let at = m.inode(2);
            m.put(at, 2, 0o100644);
        },
        status: 8,
        expect: &["ROOT INODE NOT DIRECTORY"],
    },
    Damage {
        name: "partly allocated inode",
        apply: |m| {
            let free = free_inode(m);
            let at = m.ptr_at(free, 0);
            let len = m.ptr_len();
            m.put(at, len, 100);
        },
        status: 2,
        expect: &["PARTIALLY ALLOCATED INODE I="],
    },
];

impl Image {
    fn lookup_from(&self, dir: usize, name: &str) -> usize {
        self.entries(dir)
            .iter()
            .find(|e| e.1 != 0 && e.4 == name)
            .unwrap()
            .1 as usize
    }
}

#[test]
fn damage_is_found_and_named() {
    let scratch = Scratch::new();
    let mut images = Vec::new();
    let mut cases = Vec::new();
    for version in [1, 2] {
        let (base, _) = small_image(scratch.path(), version);
        for d in DAMAGES {
            let mut m = Image::load(&base);
            (d.apply)(&mut m);
            let p = scratch.path().join(format!("v{version}-{}", images.len()));
            m.save(&p);
            images.push(p.display().to_string());
            cases.push((version, d));
        }
        images.push(base.display().to_string());
        cases.push((version, &CLEAN));
    }
    let reports = check_all(&scratch, &images);
    for ((version, d), r) in cases.iter().zip(reports) {
        let what = format!("UFS{version}, {}", d.name);
        assert_eq!(r.code, Some(d.status), "{what}:\n{}", r.stdout);
        for e in d.expect {
            assert!(r.stdout.contains(e), "{what}: no {e:?} in\n{}", r.stdout);
        }
        if d.status == 2 {
            assert!(
                r.stdout
                    .ends_with("\n***** UNRESOLVED INCONSISTENCIES REMAIN *****\n"),
                "{what}:\n{}",
                r.stdout
            );
        }
    }
}

/// The undamaged image, checked along with the damaged ones.
const CLEAN: Damage = Damage {
    name: "undamaged",
    apply: |_| {},
    status: 0,
    expect: &["files, "],
};

#[test]
fn a_backup_superblock_can_be_used() {
    let scratch = Scratch::new();
    let (base, files) = small_image(scratch.path(), 2);
    let mut m = Image::load(&base);
    let last = m.ncg() - 1;
    let backup = (last * m.fpg() + m.sbf(8) as usize) * m.fsize() / 512;
    let sb = m.sb;
    m.put(sb + 1372, 4, 0);
    let broken = scratch.path().join("broken");
    m.save(&broken);
    let disks = Disks::start(&scratch, &[broken.display().to_string()]);
    let r = disks.fsck(&["-f", "/dev/d0"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    let b = backup.to_string();
    assert!(
        r.stdout.contains(&format!(
            "(a backup superblock is at sector {b}: use -b {b})"
        )),
        "{r:?}"
    );
    let r = disks.fsck(&["-f", "-b", &b, "/dev/d0"]);
    assert!(
        r.stdout
            .starts_with(&format!("Alternate super block location: {b}\n")),
        "{r:?}"
    );
    assert!(r.stdout.contains(PHASES[4]), "{r:?}");
    assert_eq!(summary_of(&r.stdout).files, files, "{r:?}");
}

/// A xorshift generator for reproducible damage.
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

/// An image in memory, as a disk.
struct Mem(Vec<u8>);

impl rumpclient::tools::ufs::disk::Disk for Mem {
    fn read_at(
        &self,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), rumpclient::tools::ufs::disk::DiskError> {
        let end = offset as usize + buf.len();
        match self.0.get(offset as usize..end) {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(rumpclient::tools::ufs::disk::DiskError {
                offset,
                len: buf.len(),
                errno: None,
            }),
        }
    }
    fn write_at(
        &self,
        offset: u64,
        buf: &[u8],
    ) -> Result<(), rumpclient::tools::ufs::disk::DiskError> {
        Err(rumpclient::tools::ufs::disk::DiskError {
            offset,
            len: buf.len(),
            errno: Some(Errno::EROFS),
        })
    }
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

/// Byte ranges worth damaging: superblock, group blocks, inode tables
/// and directory blocks.
fn metadata_ranges(m: &Image) -> Vec<std::ops::Range<usize>> {
    let mut r = Vec::new();
    r.push(m.sb..m.sb + 1376);
    let bsize = m.sbf(48) as usize;
    for c in 0..m.ncg() {
        r.push(m.cg(c)..m.cg(c) + bsize);
        let first = m.inode(c * m.ipg());
        r.push(first..first + m.ipg().min(64) * m.isz());
    }
    for dir in [2, m.lookup("sub"), m.lookup("sub/deep")] {
        let b = m.ptr(dir, 0) as usize * m.fsize();
        r.push(b..b + 512);
    }
    r
}

/// Applies `n` random byte changes within `ranges`.
fn scramble(m: &mut Image, ranges: &[std::ops::Range<usize>], rng: &mut Rng, n: usize) {
    for _ in 0..n {
        let r = &ranges[rng.below(ranges.len())];
        let at = r.start + rng.below(r.len());
        m.b[at] = match rng.below(4) {
            0 => 0,
            1 => 0xff,
            2 => m.b[at] ^ (1 << rng.below(8)),
            _ => rng.next() as u8,
        };
    }
}

#[test]
fn random_damage_never_crashes_the_checker() {
    let scratch = Scratch::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Hundreds of damaged images checked in-process, from the host side.
    for version in [1, 2] {
        let base = Image::load(&small_image(scratch.path(), version).0);
        let ranges = metadata_ranges(&base);
        for _ in 0..200 {
            let mut m = Image {
                b: base.b.clone(),
                sb: base.sb,
                ufs2: base.ufs2,
            };
            let n = 1 + rng.below(12);
            scramble(&mut m, &ranges, &mut rng, n);
            let disk = Mem(m.b);
            let mut out = Vec::new();
            let opts = Options {
                force: true,
                ..Options::default()
            };
            let o = fsck_ffs::check(&disk, "mem", &opts, &mut out);
            assert!(
                [0, 2, 8].contains(&o.status),
                "status {} for\n{}",
                o.status,
                text(&out)
            );
        }
    }
    // And some through the tool and the kernel's device.
    let mut images = Vec::new();
    let base = Image::load(&scratch.path().join("base2"));
    let ranges = metadata_ranges(&base);
    for i in 0..24 {
        let mut m = Image {
            b: base.b.clone(),
            sb: base.sb,
            ufs2: true,
        };
        scramble(&mut m, &ranges, &mut rng, 1 + i % 8);
        let p = scratch.path().join(format!("rand{i}"));
        m.save(&p);
        images.push(p.display().to_string());
    }
    for r in check_all(&scratch, &images) {
        assert!(matches!(r.code, Some(0 | 2 | 8)), "{r:?}");
    }
}

#[test]
fn a_triple_indirect_tree_is_walked() {
    // A file of zeros whose double indirect tree is moved to the triple
    // slot, with the size grown to reach it: the same blocks, now a
    // sparse file with a three-level tree whose leaves are empty.
    let scratch = Scratch::new();
    let tree = scratch.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("zeros"), vec![0u8; 3 << 20]).unwrap();
    let img = scratch.path().join("img");
    makefs(&tree, &img, 2, "bsize=4096,fsize=512", None);
    let mut m = Image::load(&img);
    let ino = m.lookup("zeros");
    let dbl = m.ptr(ino, 13);
    assert_ne!(dbl, 0, "makefs gave the file a double indirect block");
    let (a13, a14) = (m.ptr_at(ino, 13), m.ptr_at(ino, 14));
    m.put(a13, 8, 0);
    m.put(a14, 8, dbl);
    let nindir: i64 = 4096 / 8;
    // Far enough for every pointer of the moved tree to lie inside.
    let reach = (12 + nindir + 2 * nindir * nindir) * 4096;
    let at = m.size_at(ino);
    m.put(at, 8, reach);
    let moved = scratch.path().join("moved");
    m.save(&moved);
    // A bad pointer at the bottom of the tree.
    let mid = m.get(dbl as usize * 512, 8) as usize * 512;
    m.put(mid + 8, 8, 1 << 40);
    let bad = scratch.path().join("bad");
    m.save(&bad);
    let disks = Disks::start(
        &scratch,
        &[moved.display().to_string(), bad.display().to_string()],
    );
    let r = disks.fsck(&["-f", "/dev/d0"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = disks.fsck(&["-f", "/dev/d1"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stdout.contains(&format!("{} BAD I={ino}", 1u64 << 40)),
        "{r:?}"
    );
}

/// A fresh device image of `size` for newfs.
fn blank(dir: &Path, name: &str, size: &str) -> String {
    format!("{}:{size}", dir.join(name).display())
}

#[test]
fn newfs_makes_file_systems_fsck_finds_clean() {
    let scratch = Scratch::new();
    let cases: &[(&str, &[&str], &str)] = &[
        ("8m", &["-O", "1"], "/dev/d0: 8.0MB (16384 sectors) block size 4096, fragment size 512\n\tusing 4 cylinder groups of 2.00MB, 512 blks, 960 inodes.\n"),
        ("8m", &["-O", "2"], "/dev/d1: 8.0MB (16384 sectors) block size 4096, fragment size 512\n\tusing 4 cylinder groups of 2.00MB, 512 blks, 912 inodes.\n"),
        ("64m", &["-O", "1"], "/dev/d2: 64.0MB (131072 sectors) block size 8192, fragment size 1024\n\tusing 4 cylinder groups of 16.00MB, 2048 blks, 3968 inodes.\nsuper-block backups (for fsck_ffs -b #) at:\n32, 32800, 65568, 98336,\n"),
        ("64m", &["-O", "2"], "/dev/d3: 64.0MB (131072 sectors) block size 8192, fragment size 1024\n\tusing 4 cylinder groups of 16.00MB, 2048 blks, 3872 inodes.\nsuper-block backups (for fsck_ffs -b #) at:\n144, 32912, 65680, 98448,\n"),
        ("100m", &["-O", "2", "-b", "16384", "-f", "2048", "-m", "10", "-o", "space", "-i", "8192"], "/dev/d4: 100.0MB (204800 sectors) block size 16384, fragment size 2048\n"),
        ("40m", &["-O", "1", "-n", "500", "-s", "30m"], "/dev/d5: 30.0MB (61440 sectors) block size 8192, fragment size 1024\n"),
        ("300m", &["-O", "2", "-V", "4"], "/dev/d6: 300.0MB (614400 sectors) block size 8192, fragment size 1024\n"),
        ("3m", &["-O", "2", "-b", "65536", "-f", "65536"], "/dev/d7: 3.0MB (6144 sectors) block size 65536, fragment size 65536\n"),
    ];
    let images: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (size, _, _))| blank(scratch.path(), &format!("n{i}"), size))
        .collect();
    let host: Vec<PathBuf> = (0..cases.len())
        .map(|i| scratch.path().join(format!("n{i}")))
        .collect();
    let disks = Disks::start(&scratch, &images);
    for (i, (_, args, head)) in cases.iter().enumerate() {
        let dev = format!("/dev/d{i}");
        let mut a = args.to_vec();
        a.push(&dev);
        let r = disks.tool("newfs", &a);
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (Some(0), ""),
            "{args:?}: {r:?}"
        );
        assert!(r.stdout.starts_with(head), "{args:?}:\n{}", r.stdout);
        let r = disks.fsck(&["-f", &dev]);
        assert_eq!(r.code, Some(0), "{args:?}: {r:?}");
        let s = summary_of(&r.stdout);
        assert_eq!((s.files, s.used), (1, 1), "{args:?}: the root alone");
        // From the host: the superblock where the format puts it, the
        // root directory with . and .. only, and the same report.
        let m = Image::load_head(&host[i], 4 << 20);
        let v2 = args.contains(&"2");
        assert_eq!(
            (m.ufs2, m.sb),
            (v2, if v2 { 65536 } else { 8192 }),
            "{args:?}"
        );
        assert_eq!(m.mode(2), 0o40755);
        assert_eq!(m.get(m.nlink_at(2), 2), 2);
        let names: Vec<String> = m.entries(2).into_iter().map(|e| e.4).collect();
        assert_eq!(names, [".", ".."], "{args:?}: no lost+found, as NetBSD");
        let [ndir, _, nifree, _] = m.totals();
        assert_eq!(ndir, 1);
        assert_eq!(nifree, (m.ncg() * m.ipg()) as i64 - 3);
        let (o, text) = host_check(&host[i]);
        assert_eq!(o.status, 0, "{text}");
        let fs = o.summary.unwrap();
        assert_eq!(
            (fs.free_frags, fs.free_blocks),
            (s.free_frags, s.free_blocks)
        );
    }
    let m = Image::load_head(&host[4], 1 << 20);
    assert_eq!(
        (m.sbf(48), m.sbf(52), m.sbf(60), m.sbf(128)),
        (16384, 2048, 10, 1),
        "-b -f -m -o reach the superblock"
    );
    let m = Image::load_head(&host[5], 1 << 20);
    assert_eq!(m.get(m.sb + 1080, 8) * 1024, 30 << 20, "-s sets the size");
    assert!((m.ncg() * m.ipg()) < 1000, "-n 500 makes few inodes");
    let m = Image::load_head(&host[6], 1 << 20);
    let r = disks.tool("newfs", &["-N", "-O", "2", "-V", "4", "/dev/d6"]);
    let list = r.stdout.split("at:\n").nth(1).unwrap();
    assert_eq!(
        list.matches(',').count(),
        m.ncg(),
        "-V 4 lists every backup:\n{list}"
    );
}

#[test]
fn newfs_dry_run_writes_nothing() {
    let scratch = Scratch::new();
    let img = scratch.path().join("img");
    std::fs::write(&img, pattern(4 << 20, 9)).unwrap();
    let before = std::fs::read(&img).unwrap();
    let disks = Disks::start(&scratch, &[img.display().to_string()]);
    for v in ["1", "2"] {
        let r = disks.tool("newfs", &["-N", "-O", v, "/dev/d0"]);
        assert_eq!(r.code, Some(0), "{r:?}");
        assert!(
            r.stdout.starts_with("/dev/d0: 4.0MB (8192 sectors)"),
            "{r:?}"
        );
        assert!(
            r.stdout
                .contains("super-block backups (for fsck_ffs -b #) at:\n"),
            "{r:?}"
        );
    }
    assert!(
        std::fs::read(&img).unwrap() == before,
        "the device is untouched"
    );
    let r = disks.fsck(&["-f", "/dev/d0"]);
    assert_eq!(r.code, Some(8), "no file system there: {r:?}");
}

#[test]
fn newfs_on_an_image_file_and_refusals() {
    let scratch = Scratch::new();
    let reg = scratch.path().join("reg.img");
    std::fs::write(&reg, b"").unwrap();
    let dev = blank(scratch.path(), "dev", "16m");
    let raw = scratch.path().join("raw");
    let vfs = plugin("rumpvfs");
    let args = [
        "-l".to_string(),
        vfs.to_str().unwrap().to_string(),
        "-d".into(),
        format!("key=/img,hostpath={},type=reg", reg.display()),
        "-d".into(),
        format!(
            "key=/dev/d0,hostpath={},size={}",
            dev.split(':').next().unwrap(),
            "16m"
        ),
        "-d".into(),
        format!("key=/dev/r0,hostpath={},size=8m,type=chr", raw.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start("rump_server", &args, &scratch.url("sock"));
    let tool = |name: &str, a: &[&str]| exec(scratch.tool(name, &server.url), a);
    let r = tool("newfs", &["/img"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("not a disk device (use -F"), "{r:?}");
    let r = tool("newfs", &["-F", "-O", "2", "-s", "4m", "/img"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(std::fs::metadata(&reg).unwrap().len(), 4 << 20);
    let r = tool("fsck_ffs", &["-f", "-F", "/img"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let (o, out) = host_check(&reg);
    assert_eq!(o.status, 0, "{out}");
    // A raw (character) device takes whole sectors only.
    let r = tool("newfs", &["-O", "1", "/dev/r0"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = tool("fsck_ffs", &["-f", "/dev/r0"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(summary_of(&r.stdout).files, 1);
    let (o, out) = host_check(&raw);
    assert_eq!(o.status, 0, "{out}");
    for (a, code, msg) in [
        (
            &["-O", "0", "/dev/d0"][..],
            1,
            "-O 0 (4.3BSD format) is not supported",
        ),
        (&["-q", "user", "/dev/d0"], 1, "quotas are not supported"),
        (&["-B", "be", "/dev/d0"], 1, "big-endian"),
        (
            &["-b", "3000", "/dev/d0"],
            1,
            "block size `3000' (3000) is less than the minimum (4096).",
        ),
        (&["-f", "256", "/dev/d0"], 18, ""),
        (&["-b", "5000", "/dev/d0"], 16, ""),
        (
            &["-m", "100", "/dev/d0"],
            1,
            "free space % `100' (100) is greater than the maximum (99).",
        ),
        (
            &["-o", "fast", "/dev/d0"],
            1,
            "unknown optimization preference",
        ),
        (
            &["-s", "20m", "/dev/d0"],
            1,
            "exceeds maximum file system size",
        ),
        (&["/dev/nothing"], 1, "/dev/nothing: open for read"),
        (&[], 1, "usage:"),
    ] {
        let r = tool("newfs", a);
        assert_eq!(r.code, Some(code), "{a:?}: {r:?}");
        assert!(r.stderr.contains(msg), "{a:?}: {r:?}");
    }
    let r = tool("newfs", &["-f", "256", "/dev/d0"]);
    assert_eq!(
        r.stdout.trim(),
        "fragment size 256 is too small, minimum is 512"
    );
    let r = tool("newfs", &["-b", "5000", "/dev/d0"]);
    assert!(
        r.stdout
            .contains("block size must be a power of 2, not 5000"),
        "{r:?}"
    );
    for (a, code, msg) in [
        (&["-y", "/dev/d0"][..], 1, "-y is not supported"),
        (&["-p", "/dev/d0"], 1, "-p is not supported"),
        (&[], 1, "usage:"),
        (&["-z", "/dev/d0"], 1, "unknown option -- z"),
    ] {
        let r = tool("fsck_ffs", a);
        assert_eq!(r.code, Some(code), "{a:?}: {r:?}");
        assert!(r.stderr.contains(msg), "{a:?}: {r:?}");
    }
    let r = tool("fsck_ffs", &["-n", "/dev/none"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(r.stdout.contains("Can't open /dev/none"), "{r:?}");
}
