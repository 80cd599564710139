//! A POSIX file-system semantics suite, written once and run against any
//! file system the kernel mounts: each case gets a fresh directory on the
//! file system under test and checks one area (the areas NetBSD's
//! tests/fs/vfs cover for every file system). [`posix_tests!`] turns the
//! cases into one `#[test]` each for a given set-up.

use netbsd_abi::dirent::{DT_DIR, DT_LNK, DT_REG};
use netbsd_abi::fcntl::*;
use netbsd_abi::stat::{Timespec, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};
use rumpclient::{Client, Errno};
use std::collections::BTreeSet;

/// What a file system can do, where POSIX lets it differ.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub hard_links: bool,
    pub symlinks: bool,
    pub fifos: bool,
    /// Directories count their subdirectories in st_nlink.
    pub dir_nlink: bool,
    /// Timestamp resolution in nanoseconds.
    pub time_res_ns: i64,
    /// Modes and owners are stored.
    pub permissions: bool,
    /// Longest name.
    pub name_max: usize,
    /// Holes take no space (FAT allocates and zeroes them).
    pub sparse_files: bool,
}

impl Caps {
    /// Everything POSIX asks for.
    pub const POSIX: Caps = Caps {
        hard_links: true,
        symlinks: true,
        fifos: true,
        dir_nlink: true,
        time_res_ns: 1,
        permissions: true,
        name_max: 255,
        sparse_files: true,
    };
}

/// The file system under test: a client, a fresh directory on it, and
/// what it can do.
pub struct Fs {
    pub client: Client,
    pub url: String,
    pub dir: Vec<u8>,
    pub caps: Caps,
}

impl Fs {
    /// The path of `rel` inside the test directory.
    pub fn p(&self, rel: &str) -> Vec<u8> {
        let mut v = self.dir.clone();
        v.push(b'/');
        v.extend_from_slice(rel.as_bytes());
        v
    }

    /// Another process (client connection) in the same kernel.
    pub fn other(&self) -> Client {
        Client::connect(&self.url, "posix-other").expect("second client")
    }

    fn c(&self) -> &Client {
        &self.client
    }

    fn write_file(&self, rel: &str, data: &[u8]) {
        let fd = self
            .c()
            .open(&self.p(rel), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            .expect("create");
        assert_eq!(self.c().write(fd, data).expect("write"), data.len());
        self.c().close(fd).unwrap();
    }

    fn read_file(&self, rel: &str) -> Vec<u8> {
        let fd = self.c().open(&self.p(rel), O_RDONLY, 0).expect("open");
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let n = self.c().read(fd, &mut buf).expect("read");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        self.c().close(fd).unwrap();
        out
    }

    fn names(&self, rel: &str) -> BTreeSet<Vec<u8>> {
        self.c()
            .read_dir(&self.p(rel))
            .expect("read_dir")
            .into_iter()
            .map(|d| d.name)
            .filter(|n| n != b"." && n != b"..")
            .collect()
    }
}

/// A case of the suite.
pub type Case = fn(&Fs);

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("lookup", lookup),
    ("create_and_modes", create_and_modes),
    ("long_names", long_names),
    ("existing_targets", existing_targets),
    ("rename_files", rename_files),
    ("rename_directories", rename_directories),
    ("rename_refusals", rename_refusals),
    ("link_counts", link_counts),
    ("remove_directories", remove_directories),
    ("readdir_while_changing", readdir_while_changing),
    ("attributes", attributes),
    ("timestamps", timestamps),
    ("symlinks", symlinks),
    ("open_flags", open_flags),
    ("holes", holes),
    ("truncation", truncation),
    ("record_locks", record_locks),
    ("flock_locks", flock_locks),
    ("cwd_and_relative_paths", cwd_and_relative_paths),
    ("unlinked_open_files", unlinked_open_files),
    ("large_file", large_file),
    ("fifos", fifos),
];

/// Runs case `name` on the file system `setup` prepares.
pub fn run(name: &str, setup: impl FnOnce() -> Fs) {
    let case = CASES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .1;
    let fs = setup();
    case(&fs);
}

/// One `#[test]` per case of the suite, each on a fresh file system made
/// by `$setup` (a function returning [`Fs`] and keeping its server alive
/// through `$guard`).
#[macro_export]
macro_rules! posix_tests {
    ($setup:expr) => {
        $crate::posix_tests!(@cases $setup; lookup create_and_modes long_names existing_targets rename_files
            rename_directories rename_refusals link_counts remove_directories readdir_while_changing attributes
            timestamps symlinks open_flags holes truncation record_locks flock_locks cwd_and_relative_paths
            unlinked_open_files large_file fifos);
    };
    (@cases $setup:expr; $($case:ident)*) => {
        $(
            #[test]
            fn $case() {
                let (_guard, fs) = $setup();
                ($crate::posix::CASES.iter().find(|(n, _)| *n == stringify!($case)).unwrap().1)(&fs);
            }
        )*
    };
}

fn lookup(fs: &Fs) {
    let c = fs.c();
    c.mkdir(&fs.p("a"), 0o755).unwrap();
    c.mkdir(&fs.p("a/b"), 0o755).unwrap();
    fs.write_file("a/b/f", b"x");
    let st = c.stat(&fs.p("a/b/f")).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFREG);
    assert_eq!(
        c.stat(&fs.p("a/./b/../b/f")).unwrap().ino,
        st.ino,
        "dot and dot-dot"
    );
    assert_eq!(
        c.stat(&fs.p("a//b///f")).unwrap().ino,
        st.ino,
        "repeated slashes"
    );
    assert_eq!(c.stat(&fs.p("a/b/missing")).unwrap_err(), Errno::ENOENT);
    assert_eq!(
        c.stat(&fs.p("a/b/f/x")).unwrap_err(),
        Errno::ENOTDIR,
        "through a file"
    );
    assert_eq!(
        c.stat(&fs.p("a/b/f/")).unwrap_err(),
        Errno::ENOTDIR,
        "trailing slash on a file"
    );
    assert_eq!(c.stat(&fs.p("nope/f")).unwrap_err(), Errno::ENOENT);
    assert_eq!(c.stat(b"").unwrap_err(), Errno::ENOENT);
    assert_eq!(c.stat(&fs.p("a/b/")).unwrap().mode & S_IFMT, S_IFDIR);
    let up = c.stat(&fs.p("a/b/..")).unwrap();
    assert_eq!(up.ino, c.stat(&fs.p("a")).unwrap().ino);
}

fn create_and_modes(fs: &Fs) {
    let c = fs.c();
    let old = c.umask(0o022).unwrap();
    let fd = c.open(&fs.p("f"), O_RDWR | O_CREAT, 0o777).unwrap();
    c.close(fd).unwrap();
    c.mkdir(&fs.p("d"), 0o777).unwrap();
    if fs.caps.permissions {
        assert_eq!(
            c.stat(&fs.p("f")).unwrap().mode,
            S_IFREG | 0o755,
            "umask applies"
        );
        assert_eq!(c.stat(&fs.p("d")).unwrap().mode, S_IFDIR | 0o755);
        c.umask(0o077).unwrap();
        c.mkdir(&fs.p("d2"), 0o777).unwrap();
        assert_eq!(c.stat(&fs.p("d2")).unwrap().mode, S_IFDIR | 0o700);
    }
    c.umask(old).unwrap();
    if fs.caps.fifos {
        c.mknod(&fs.p("fifo"), S_IFIFO | 0o600, 0).unwrap();
        assert_eq!(c.lstat(&fs.p("fifo")).unwrap().mode & S_IFMT, S_IFIFO);
    }
    let st = c.stat(&fs.p("f")).unwrap();
    assert_eq!((st.size, st.nlink), (0, 1));
}

fn long_names(fs: &Fs) {
    let c = fs.c();
    let max = fs.caps.name_max;
    let ok = "n".repeat(max);
    let fd = c.open(&fs.p(&ok), O_WRONLY | O_CREAT, 0o644).unwrap();
    c.close(fd).unwrap();
    assert!(c.stat(&fs.p(&ok)).is_ok());
    let long = "n".repeat(max + 1);
    assert_eq!(
        c.open(&fs.p(&long), O_WRONLY | O_CREAT, 0o644).unwrap_err(),
        Errno::ENAMETOOLONG
    );
    assert_eq!(
        c.stat(&fs.p(&long)).unwrap_err(),
        Errno::ENAMETOOLONG,
        "lookups too"
    );
    assert_eq!(
        c.mkdir(&fs.p(&long), 0o755).unwrap_err(),
        Errno::ENAMETOOLONG
    );
    let path: Vec<u8> = std::iter::repeat_n(b'/', 1024).collect();
    assert_eq!(
        c.stat(&path).unwrap_err(),
        Errno::ENAMETOOLONG,
        "a 1024-byte path"
    );
    let mut deep = fs.dir.clone();
    while deep.len() < 1000 {
        deep.extend_from_slice(b"/.");
    }
    deep.truncate(1023);
    if deep.ends_with(b"/") {
        deep.push(b'.');
        deep.remove(deep.len() - 2);
    }
    assert!(c.stat(&deep).is_ok(), "a path of 1023 bytes");
}

fn existing_targets(fs: &Fs) {
    let c = fs.c();
    fs.write_file("f", b"data");
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    assert_eq!(c.mkdir(&fs.p("d"), 0o755).unwrap_err(), Errno::EEXIST);
    assert_eq!(c.mkdir(&fs.p("f"), 0o755).unwrap_err(), Errno::EEXIST);
    assert_eq!(
        c.open(&fs.p("f"), O_RDWR | O_CREAT | O_EXCL, 0o644)
            .unwrap_err(),
        Errno::EEXIST
    );
    assert_eq!(
        c.mknod(&fs.p("f"), S_IFIFO | 0o644, 0).unwrap_err(),
        Errno::EEXIST
    );
    if fs.caps.symlinks {
        assert_eq!(c.symlink(b"x", &fs.p("f")).unwrap_err(), Errno::EEXIST);
    }
    if fs.caps.hard_links {
        assert_eq!(c.link(&fs.p("f"), &fs.p("d")).unwrap_err(), Errno::EEXIST);
    }
    assert_eq!(fs.read_file("f"), b"data", "nothing was overwritten");
}

fn rename_files(fs: &Fs) {
    let c = fs.c();
    fs.write_file("a", b"one");
    fs.write_file("b", b"two");
    c.rename(&fs.p("a"), &fs.p("b")).unwrap();
    assert_eq!(fs.read_file("b"), b"one", "the target is replaced");
    assert_eq!(c.stat(&fs.p("a")).unwrap_err(), Errno::ENOENT);
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    c.rename(&fs.p("b"), &fs.p("d/c")).unwrap();
    assert_eq!(fs.read_file("d/c"), b"one");
    if fs.caps.hard_links {
        c.link(&fs.p("d/c"), &fs.p("d/c2")).unwrap();
        c.rename(&fs.p("d/c"), &fs.p("d/c2")).unwrap();
        assert!(
            c.stat(&fs.p("d/c")).is_ok(),
            "renaming onto another link of the same file does nothing"
        );
        assert_eq!(c.stat(&fs.p("d/c")).unwrap().nlink, 2);
    }
    assert_eq!(
        c.rename(&fs.p("missing"), &fs.p("x")).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(
        c.rename(&fs.p("d/c"), &fs.p("nodir/x")).unwrap_err(),
        Errno::ENOENT
    );
}

fn rename_directories(fs: &Fs) {
    let c = fs.c();
    c.mkdir(&fs.p("p1"), 0o755).unwrap();
    c.mkdir(&fs.p("p2"), 0o755).unwrap();
    c.mkdir(&fs.p("p1/d"), 0o755).unwrap();
    fs.write_file("p1/d/f", b"inside");
    c.rename(&fs.p("p1/d"), &fs.p("p2/d")).unwrap();
    assert_eq!(fs.read_file("p2/d/f"), b"inside");
    let up = c.stat(&fs.p("p2/d/..")).unwrap();
    assert_eq!(
        up.ino,
        c.stat(&fs.p("p2")).unwrap().ino,
        "dot-dot follows the move"
    );
    if fs.caps.dir_nlink {
        assert_eq!(c.stat(&fs.p("p1")).unwrap().nlink, 2);
        assert_eq!(c.stat(&fs.p("p2")).unwrap().nlink, 3);
    }
    c.mkdir(&fs.p("empty"), 0o755).unwrap();
    c.rename(&fs.p("p2/d"), &fs.p("empty")).unwrap();
    assert_eq!(
        fs.read_file("empty/f"),
        b"inside",
        "a directory replaces an empty one"
    );
    c.mkdir(&fs.p("full"), 0o755).unwrap();
    fs.write_file("full/x", b"");
    c.mkdir(&fs.p("other"), 0o755).unwrap();
    assert!(matches!(
        c.rename(&fs.p("other"), &fs.p("full")).unwrap_err(),
        Errno::ENOTEMPTY | Errno::EEXIST
    ));
}

fn rename_refusals(fs: &Fs) {
    let c = fs.c();
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    c.mkdir(&fs.p("d/sub"), 0o755).unwrap();
    fs.write_file("f", b"");
    assert_eq!(
        c.rename(&fs.p("d"), &fs.p("d/sub/x")).unwrap_err(),
        Errno::EINVAL,
        "into its own subtree"
    );
    assert_eq!(
        c.rename(&fs.p("d"), &fs.p("d/x")).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        c.rename(&fs.p("d"), &fs.p("f")).unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(c.rename(&fs.p("f"), &fs.p("d")).unwrap_err(), Errno::EISDIR);
    assert_eq!(
        c.rename(&fs.p("d/."), &fs.p("x")).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        c.rename(&fs.p("d/.."), &fs.p("x")).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        c.rename(&fs.p("f"), &fs.p("d/..")).unwrap_err(),
        Errno::EINVAL
    );
    assert!(
        c.stat(&fs.p("d/sub")).is_ok() && c.stat(&fs.p("f")).is_ok(),
        "nothing moved"
    );
}

fn link_counts(fs: &Fs) {
    let c = fs.c();
    fs.write_file("f", b"x");
    assert_eq!(c.stat(&fs.p("f")).unwrap().nlink, 1);
    if fs.caps.hard_links {
        c.link(&fs.p("f"), &fs.p("g")).unwrap();
        assert_eq!(c.stat(&fs.p("f")).unwrap().nlink, 2);
        assert_eq!(
            c.stat(&fs.p("g")).unwrap().ino,
            c.stat(&fs.p("f")).unwrap().ino
        );
        c.unlink(&fs.p("f")).unwrap();
        assert_eq!(c.stat(&fs.p("g")).unwrap().nlink, 1);
        assert_eq!(fs.read_file("g"), b"x");
        c.mkdir(&fs.p("d"), 0o755).unwrap();
        assert_eq!(
            c.link(&fs.p("d"), &fs.p("d2")).unwrap_err(),
            Errno::EPERM,
            "no links to directories"
        );
    } else {
        assert!(c.link(&fs.p("f"), &fs.p("g")).is_err());
        c.mkdir(&fs.p("d"), 0o755).unwrap();
    }
    if fs.caps.dir_nlink {
        assert_eq!(c.stat(&fs.p("d")).unwrap().nlink, 2);
        c.mkdir(&fs.p("d/a"), 0o755).unwrap();
        c.mkdir(&fs.p("d/b"), 0o755).unwrap();
        assert_eq!(c.stat(&fs.p("d")).unwrap().nlink, 4);
        c.rmdir(&fs.p("d/a")).unwrap();
        assert_eq!(c.stat(&fs.p("d")).unwrap().nlink, 3);
    }
}

fn remove_directories(fs: &Fs) {
    let c = fs.c();
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    fs.write_file("d/f", b"");
    assert!(matches!(
        c.rmdir(&fs.p("d")).unwrap_err(),
        Errno::ENOTEMPTY | Errno::EEXIST
    ));
    assert_eq!(c.rmdir(&fs.p("d/f")).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(c.rmdir(&fs.p("d/.")).unwrap_err(), Errno::EINVAL);
    assert!(c.unlink(&fs.p("d")).is_err(), "unlink of a directory");
    c.unlink(&fs.p("d/f")).unwrap();
    c.rmdir(&fs.p("d")).unwrap();
    assert_eq!(c.stat(&fs.p("d")).unwrap_err(), Errno::ENOENT);
    assert_eq!(c.rmdir(&fs.p("d")).unwrap_err(), Errno::ENOENT);
}

fn readdir_while_changing(fs: &Fs) {
    let c = fs.c();
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    for i in 0..200 {
        fs.write_file(&format!("d/keep{i:03}"), b"");
    }
    let fd = c.open(&fs.p("d"), O_RDONLY | O_DIRECTORY, 0).unwrap();
    let mut seen = Vec::new();
    let mut round = 0;
    loop {
        let batch = c.getdents(fd, 600).unwrap();
        if batch.is_empty() {
            break;
        }
        seen.extend(batch.into_iter().map(|d| d.name));
        // Entries come and go while the directory is being read.
        fs.write_file(&format!("d/new{round:03}"), b"");
        let _ = c.unlink(&fs.p(&format!("d/new{round:03}")));
        fs.write_file(&format!("d/added{round:03}"), b"");
        round += 1;
    }
    c.close(fd).unwrap();
    for i in 0..200 {
        let name = format!("keep{i:03}").into_bytes();
        assert_eq!(
            seen.iter().filter(|n| **n == name).count(),
            1,
            "keep{i:03} exactly once"
        );
    }
    let all = fs.names("d");
    assert_eq!(all.len(), 200 + round, "everything is there afterwards");
}

fn attributes(fs: &Fs) {
    let c = fs.c();
    fs.write_file("f", &[7u8; 5000]);
    let st = c.stat(&fs.p("f")).unwrap();
    assert_eq!(st.size, 5000);
    assert!(st.blocks * 512 >= 5000 || st.blocks > 0);
    if fs.caps.permissions {
        c.chmod(&fs.p("f"), 0o4640).unwrap();
        assert_eq!(c.stat(&fs.p("f")).unwrap().mode, S_IFREG | 0o4640);
        c.chown(&fs.p("f"), 1234, 5678).unwrap();
        let st = c.stat(&fs.p("f")).unwrap();
        assert_eq!((st.uid, st.gid), (1234, 5678));
        c.chown(&fs.p("f"), u32::MAX, 99).unwrap();
        let st = c.stat(&fs.p("f")).unwrap();
        assert_eq!((st.uid, st.gid), (1234, 99), "-1 keeps the owner");
        let fd = c.open(&fs.p("f"), O_RDONLY, 0).unwrap();
        c.fchmod(fd, 0o600).unwrap();
        assert_eq!(c.fstat(fd).unwrap().mode, S_IFREG | 0o600);
        c.close(fd).unwrap();
    }
    let dir = c.stat(&fs.dir).unwrap();
    assert_eq!(dir.mode & S_IFMT, S_IFDIR);
    assert_eq!(st.dev, dir.dev, "same file system, same st_dev");
}

fn timestamps(fs: &Fs) {
    let c = fs.c();
    let res = fs.caps.time_res_ns;
    let t = |sec, nsec| Timespec { sec, nsec };
    fs.write_file("f", b"x");
    c.utimes(
        &fs.p("f"),
        Some([t(1_000_000_001, 111_111_000), t(1_500_000_002, 222_222_000)]),
    )
    .unwrap();
    let st = c.stat(&fs.p("f")).unwrap();
    let (want_a, want_m) = (t(1_000_000_001, 111_111_000), t(1_500_000_002, 222_222_000));
    if res <= 1000 {
        assert_eq!((st.atime, st.mtime), (want_a, want_m));
        assert!(
            st.birthtime <= st.mtime,
            "birth time moves back to an older mtime"
        );
    } else {
        let slack = res / 1_000_000_000 + 1;
        assert!(
            (st.mtime.sec - want_m.sec).abs() <= slack,
            "mtime {:?}",
            st.mtime
        );
    }
    let before = c.stat(&fs.p("f")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(if res >= 1_000_000_000 {
        2100
    } else {
        20
    }));
    let fd = c.open(&fs.p("f"), O_WRONLY | O_APPEND, 0).unwrap();
    c.write(fd, b"more").unwrap();
    c.close(fd).unwrap();
    let after = c.stat(&fs.p("f")).unwrap();
    assert!(after.mtime > before.mtime, "a write moves mtime");
    assert!(after.ctime >= before.ctime);
    let d0 = c.stat(&fs.dir).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(if res >= 1_000_000_000 {
        2100
    } else {
        20
    }));
    fs.write_file("g", b"");
    assert!(
        c.stat(&fs.dir).unwrap().mtime > d0.mtime,
        "creating an entry moves the directory's mtime"
    );
    c.utimes(&fs.p("g"), None).unwrap();
    let now = c.stat(&fs.p("g")).unwrap();
    assert!(now.mtime.sec > 1_600_000_000, "NULL times mean now");
}

fn symlinks(fs: &Fs) {
    if !fs.caps.symlinks {
        return;
    }
    let c = fs.c();
    fs.write_file("target", b"via link");
    c.symlink(b"target", &fs.p("ln")).unwrap();
    assert_eq!(c.readlink(&fs.p("ln")).unwrap(), b"target");
    assert_eq!(c.lstat(&fs.p("ln")).unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(fs.read_file("ln"), b"via link");
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    c.symlink(b"../target", &fs.p("d/up")).unwrap();
    assert_eq!(
        fs.read_file("d/up"),
        b"via link",
        "relative to the link's directory"
    );
    c.symlink(b"d", &fs.p("dl")).unwrap();
    assert!(
        c.stat(&fs.p("dl/up")).is_ok(),
        "links in the middle of a path"
    );
    c.symlink(b"loop2", &fs.p("loop1")).unwrap();
    c.symlink(b"loop1", &fs.p("loop2")).unwrap();
    assert_eq!(c.stat(&fs.p("loop1")).unwrap_err(), Errno::ELOOP);
    c.symlink(b"nowhere", &fs.p("dangling")).unwrap();
    assert_eq!(c.stat(&fs.p("dangling")).unwrap_err(), Errno::ENOENT);
    let fd = c
        .open(&fs.p("dangling"), O_WRONLY | O_CREAT, 0o644)
        .unwrap();
    c.close(fd).unwrap();
    assert!(
        c.stat(&fs.p("nowhere")).is_ok(),
        "O_CREAT through a dangling link creates its target"
    );
    assert_eq!(
        c.open(&fs.p("ln"), O_RDONLY | O_NOFOLLOW, 0).unwrap_err(),
        Errno::EFTYPE
    );
    assert_eq!(c.readlink(&fs.p("target")).unwrap_err(), Errno::EINVAL);
    c.unlink(&fs.p("ln")).unwrap();
    assert!(
        c.stat(&fs.p("target")).is_ok(),
        "unlink removes the link, not the target"
    );
}

fn open_flags(fs: &Fs) {
    let c = fs.c();
    fs.write_file("f", b"0123456789");
    let fd = c.open(&fs.p("f"), O_WRONLY | O_APPEND, 0).unwrap();
    c.lseek(fd, 0, SEEK_SET).unwrap();
    c.write(fd, b"A").unwrap();
    c.close(fd).unwrap();
    assert_eq!(
        fs.read_file("f"),
        b"0123456789A",
        "O_APPEND writes at the end"
    );
    let fd = c.open(&fs.p("f"), O_RDWR | O_TRUNC, 0).unwrap();
    assert_eq!(c.fstat(fd).unwrap().size, 0);
    c.close(fd).unwrap();
    assert_eq!(
        c.open(&fs.p("f"), O_RDONLY | O_DIRECTORY, 0).unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(c.open(&fs.dir, O_WRONLY, 0).unwrap_err(), Errno::EISDIR);
    assert_eq!(
        c.open(&fs.p("missing"), O_RDONLY, 0).unwrap_err(),
        Errno::ENOENT
    );
    let fd = c.open(&fs.p("f"), O_RDONLY, 0).unwrap();
    assert_eq!(c.write(fd, b"x").unwrap_err(), Errno::EBADF);
    assert_eq!(
        c.fcntl(fd, F_GETFL, 0).unwrap() & O_ACCMODE as i64,
        O_RDONLY as i64
    );
    c.close(fd).unwrap();
    let fd = c.open(&fs.p("f"), O_WRONLY, 0).unwrap();
    let mut b = [0u8; 4];
    assert_eq!(c.read(fd, &mut b).unwrap_err(), Errno::EBADF);
    assert_eq!(c.lseek(fd, -1, SEEK_SET).unwrap_err(), Errno::EINVAL);
    assert_eq!(c.lseek(fd, 0, 99).unwrap_err(), Errno::EINVAL);
    assert_eq!(
        c.lseek(fd, 1 << 40, SEEK_SET).unwrap(),
        1 << 40,
        "offsets beyond 4 GiB"
    );
    c.close(fd).unwrap();
    let fd = c.open(&fs.dir, O_RDONLY, 0).unwrap();
    assert_eq!(c.read(fd, &mut b).unwrap_err(), Errno::EISDIR);
    c.close(fd).unwrap();
}

fn holes(fs: &Fs) {
    let c = fs.c();
    let fd = c.open(&fs.p("sparse"), O_RDWR | O_CREAT, 0o644).unwrap();
    c.pwrite(fd, b"end", 1 << 20).unwrap();
    c.pwrite(fd, b"start", 0).unwrap();
    let st = c.fstat(fd).unwrap();
    assert_eq!(st.size, (1 << 20) + 3);
    let mut buf = vec![0xffu8; 8192];
    assert_eq!(c.pread(fd, &mut buf, 4096 * 10).unwrap(), 8192);
    assert!(buf.iter().all(|&b| b == 0), "holes read as zeros");
    let mut b = [0u8; 5];
    c.pread(fd, &mut b, 0).unwrap();
    assert_eq!(&b, b"start");
    c.pread(fd, &mut b[..3], 1 << 20).unwrap();
    assert_eq!(&b[..3], b"end");
    if fs.caps.sparse_files {
        assert!(
            st.blocks * 512 < 512 * 1024,
            "the hole takes no space ({} blocks)",
            st.blocks
        );
    } else {
        assert!(
            st.blocks * 512 >= st.size,
            "the hole is allocated ({} blocks)",
            st.blocks
        );
    }
    assert_eq!(c.pread(fd, &mut b, 2 << 20).unwrap(), 0, "past the end");
    c.close(fd).unwrap();
}

fn truncation(fs: &Fs) {
    let c = fs.c();
    fs.write_file("f", &[b'x'; 10000]);
    c.truncate(&fs.p("f"), 100).unwrap();
    assert_eq!(fs.read_file("f"), vec![b'x'; 100]);
    c.truncate(&fs.p("f"), 5000).unwrap();
    let data = fs.read_file("f");
    assert_eq!(data.len(), 5000);
    assert!(
        data[100..].iter().all(|&b| b == 0),
        "growing adds zeros, not the old bytes"
    );
    let fd = c.open(&fs.p("f"), O_RDONLY, 0).unwrap();
    assert_eq!(
        c.ftruncate(fd, 0).unwrap_err(),
        Errno::EINVAL,
        "not open for writing"
    );
    c.close(fd).unwrap();
    let fd = c.open(&fs.p("f"), O_RDWR, 0).unwrap();
    c.ftruncate(fd, 10).unwrap();
    assert_eq!(c.fstat(fd).unwrap().size, 10);
    assert_eq!(c.ftruncate(fd, -1).unwrap_err(), Errno::EINVAL);
    c.close(fd).unwrap();
    assert_eq!(c.truncate(&fs.dir, 0).unwrap_err(), Errno::EISDIR);
}

fn record_locks(fs: &Fs) {
    let c = fs.c();
    let other = fs.other();
    fs.write_file("f", &[0u8; 100]);
    let fd = c.open(&fs.p("f"), O_RDWR, 0).unwrap();
    let ofd = other.open(&fs.p("f"), O_RDWR, 0).unwrap();
    let lk = |ty, start, len| Flock {
        start,
        len,
        pid: 0,
        ty,
        whence: SEEK_SET as i16,
    };
    c.fcntl_lock(fd, F_SETLK, &lk(F_WRLCK, 0, 50)).unwrap();
    assert_eq!(
        other
            .fcntl_lock(ofd, F_SETLK, &lk(F_RDLCK, 10, 10))
            .unwrap_err(),
        Errno::EAGAIN
    );
    other
        .fcntl_lock(ofd, F_SETLK, &lk(F_WRLCK, 50, 50))
        .unwrap();
    let got = other.fcntl_lock(ofd, F_GETLK, &lk(F_WRLCK, 0, 1)).unwrap();
    assert_eq!(
        (got.ty, got.start, got.len, got.pid),
        (F_WRLCK, 0, 50, c.getpid().unwrap().0)
    );
    // Closing any descriptor of the file drops the process's locks on it.
    let dup = c.open(&fs.p("f"), O_RDONLY, 0).unwrap();
    c.close(dup).unwrap();
    other
        .fcntl_lock(ofd, F_SETLK, &lk(F_RDLCK, 10, 10))
        .unwrap();
    // A waiting lock is granted when the holder lets go.
    let waiter = {
        let c = c.clone();
        std::thread::spawn(move || c.fcntl_lock(fd, F_SETLKW, &lk(F_WRLCK, 60, 10)))
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!waiter.is_finished(), "F_SETLKW waits");
    other.fcntl_lock(ofd, F_SETLK, &lk(F_UNLCK, 0, 0)).unwrap();
    waiter.join().unwrap().unwrap();
    c.close(fd).unwrap();
    other.close(ofd).unwrap();
}

fn flock_locks(fs: &Fs) {
    let c = fs.c();
    let other = fs.other();
    fs.write_file("f", b"");
    let a = c.open(&fs.p("f"), O_RDONLY, 0).unwrap();
    let b = other.open(&fs.p("f"), O_RDONLY, 0).unwrap();
    c.flock(a, LOCK_SH).unwrap();
    other.flock(b, LOCK_SH).unwrap();
    assert_eq!(
        other.flock(b, LOCK_EX | LOCK_NB).unwrap_err(),
        Errno::EWOULDBLOCK
    );
    c.flock(a, LOCK_UN).unwrap();
    other.flock(b, LOCK_EX | LOCK_NB).unwrap();
    other.close(b).unwrap();
    c.flock(a, LOCK_EX | LOCK_NB).unwrap();
    c.close(a).unwrap();
}

fn cwd_and_relative_paths(fs: &Fs) {
    let c = fs.c();
    let other = fs.other();
    c.mkdir(&fs.p("d"), 0o755).unwrap();
    c.mkdir(&fs.p("d/e"), 0o755).unwrap();
    c.chdir(&fs.p("d")).unwrap();
    assert_eq!(c.getcwd().unwrap(), fs.p("d"));
    let fd = c.open(b"e/rel", O_WRONLY | O_CREAT, 0o644).unwrap();
    c.close(fd).unwrap();
    assert!(c.stat(&fs.p("d/e/rel")).is_ok());
    assert_eq!(
        other.stat(b"e/rel").unwrap_err(),
        Errno::ENOENT,
        "each process has its own cwd"
    );
    let dfd = c.open(b"e", O_RDONLY | O_DIRECTORY, 0).unwrap();
    c.chdir(b"..").unwrap();
    c.fchdir(dfd).unwrap();
    assert_eq!(c.getcwd().unwrap(), fs.p("d/e"));
    assert!(c.fstatat(dfd, b"rel", 0).is_ok());
    assert!(c.fstatat(AT_FDCWD, b"../e/rel", 0).is_ok());
    c.close(dfd).unwrap();
    c.chdir(b"/").unwrap();
    assert_eq!(c.chdir(&fs.p("d/e/rel")).unwrap_err(), Errno::ENOTDIR);
}

fn unlinked_open_files(fs: &Fs) {
    let c = fs.c();
    let fd = c.open(&fs.p("f"), O_RDWR | O_CREAT, 0o644).unwrap();
    c.write(fd, b"still here").unwrap();
    c.unlink(&fs.p("f")).unwrap();
    assert_eq!(c.stat(&fs.p("f")).unwrap_err(), Errno::ENOENT);
    let mut b = [0u8; 10];
    assert_eq!(c.pread(fd, &mut b, 0).unwrap(), 10);
    assert_eq!(&b, b"still here");
    c.write(fd, b"!").unwrap();
    assert_eq!(c.fstat(fd).unwrap().nlink, 0);
    c.close(fd).unwrap();
}

fn large_file(fs: &Fs) {
    let c = fs.c();
    let fd = c.open(&fs.p("big"), O_RDWR | O_CREAT, 0o644).unwrap();
    let chunk: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    for _ in 0..8 {
        assert_eq!(c.write(fd, &chunk).unwrap(), chunk.len());
    }
    assert_eq!(c.fstat(fd).unwrap().size, 8 << 20);
    let mut back = vec![0u8; 1 << 20];
    assert_eq!(c.pread(fd, &mut back, 5 << 20).unwrap(), 1 << 20);
    assert_eq!(back, chunk);
    c.close(fd).unwrap();
    let dents = c.read_dir(&fs.dir).unwrap();
    let me = dents.iter().find(|d| d.name == b"big").expect("listed");
    assert_eq!(me.dtype, DT_REG);
    let _ = (DT_DIR, DT_LNK);
}

/// Named pipes: the open rendezvous, data through the node, end of file,
/// EPIPE and ENXIO, and no seeking.
fn fifos(fs: &Fs) {
    if !fs.caps.fifos {
        return;
    }
    let c = fs.c();
    c.mknod(&fs.p("p"), S_IFIFO | 0o644, 0).unwrap();
    assert_eq!(
        c.open(&fs.p("p"), O_WRONLY | O_NONBLOCK, 0).unwrap_err(),
        Errno::ENXIO,
        "no reader yet"
    );
    let r = c.open(&fs.p("p"), O_RDONLY | O_NONBLOCK, 0).unwrap();
    let w = c.open(&fs.p("p"), O_WRONLY | O_NONBLOCK, 0).unwrap();
    assert_eq!(c.fstat(w).unwrap().mode & S_IFMT, S_IFIFO);
    assert_eq!(c.lseek(w, 0, SEEK_SET).unwrap_err(), Errno::ESPIPE);
    assert_eq!(c.write(w, b"through the node").unwrap(), 16);
    let mut buf = [0u8; 64];
    assert_eq!(c.pread(r, &mut buf, 0).unwrap_err(), Errno::ESPIPE);
    assert_eq!(c.read(r, &mut buf).unwrap(), 16);
    assert_eq!(&buf[..16], b"through the node");
    assert_eq!(
        c.read(r, &mut buf).unwrap_err(),
        Errno::EAGAIN,
        "empty, writer open"
    );
    c.close(w).unwrap();
    assert_eq!(
        c.read(r, &mut buf).unwrap(),
        0,
        "end of file without writers"
    );
    let w = c.open(&fs.p("p"), O_WRONLY, 0).unwrap();
    c.close(r).unwrap();
    assert_eq!(c.write(w, b"x").unwrap_err(), Errno::EPIPE, "no readers");
    c.close(w).unwrap();
    assert_eq!(c.stat(&fs.p("p")).unwrap().size, 0);

    // A blocking open waits for the other end, opened by another process.
    let other = fs.other();
    let path = fs.p("p");
    let reader = std::thread::spawn(move || {
        let fd = other.open(&path, O_RDONLY, 0).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4093];
        loop {
            match other.read(fd, &mut buf).unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        got
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let w = c.open(&fs.p("p"), O_WRONLY, 0).unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    assert_eq!(
        c.write(w, &big).unwrap(),
        big.len(),
        "written as the reader drains"
    );
    c.close(w).unwrap();
    assert!(
        reader.join().unwrap() == big,
        "the reader got every byte in order"
    );
}
