//! The rump.* file tools against a real rump_server with the VFS and
//! tmpfs: mount, umount, df, ls, stat, cat, cp, mv, ln, rm, mkdir, rmdir,
//! chmod, chown, put and get; their output, exit statuses and messages,
//! and the kernel state they leave behind.

use netbsd_abi::fcntl::*;
use netbsd_abi::stat::*;
use rump_tests::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2001-02-03 04:05:06 UTC, a modification time to carry around.
const OLD: i64 = 981_173_106;

/// A server with the VFS and tmpfs on a socket in a scratch directory.
struct Setup {
    scratch: Scratch,
    server: Server,
}

/// What a tool did.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    /// Asserts success without complaints; the standard output.
    fn ok(self) -> String {
        assert_eq!((self.code, self.stderr.as_str()), (Some(0), ""), "{self:?}");
        self.stdout
    }

    /// Asserts failure (status 1, no panic); the standard error.
    fn fails(self) -> String {
        assert_eq!(self.code, Some(1), "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        self.stderr
    }

    /// The standard output's lines.
    fn lines(self) -> Vec<String> {
        self.ok().lines().map(str::to_string).collect()
    }
}

/// Runs a prepared tool command with dates in UTC and 512-byte blocks.
fn exec(mut cmd: Command, args: &[&str]) -> Ran {
    cmd.args(args)
        .env("TZ", "UTC")
        .env_remove("BLOCKSIZE")
        .env_remove("COLUMNS");
    let o = run(&mut cmd);
    Ran {
        code: o.status.code(),
        stdout: text(&o.stdout),
        stderr: text(&o.stderr),
    }
}

impl Setup {
    fn new() -> Setup {
        let scratch = Scratch::new();
        let (vfs, tmpfs) = (plugin("rumpvfs"), plugin("rumpfs_tmpfs"));
        let args = ["-l", vfs.to_str().unwrap(), "-l", tmpfs.to_str().unwrap()];
        let server = Server::start("rump_server", &args, &scratch.url("sock"));
        Setup { scratch, server }
    }

    /// A server with a tmpfs of `size` on /mnt, mounted by the tools.
    fn with_tmpfs(size: &str) -> Setup {
        let t = Setup::new();
        t.tool("mkdir", &["/mnt"]).ok();
        let o = format!("size={size}");
        t.tool("mount", &["-t", "tmpfs", "-o", &o, "tmpfs", "/mnt"])
            .ok();
        t
    }

    /// Runs rump.<name> against this server.
    fn tool(&self, name: &str, args: &[&str]) -> Ran {
        exec(self.scratch.tool(name, &self.server.url), args)
    }

    fn client(&self) -> Client {
        self.server.client()
    }

    /// A host path in the scratch directory.
    fn host(&self, name: &str) -> std::path::PathBuf {
        self.scratch.path().join(name)
    }

    /// Puts a host file with `data`, `mode` and modification time OLD at
    /// kernel path `at`.
    fn put_file(&self, at: &str, data: &[u8], mode: u32) {
        let h = self.host("upload");
        let _ = std::fs::remove_file(&h);
        write_host(&h, data, mode, OLD);
        self.tool("put", &[h.to_str().unwrap(), at]).ok();
    }
}

/// A kernel file's contents, read with rump.cat.
fn cat(t: &Setup, p: &str) -> String {
    t.tool("cat", &[p]).ok()
}

/// Permission bits of a kernel file.
fn perms(c: &Client, p: &str) -> u32 {
    c.lstat(p.as_bytes()).unwrap().mode & ALLPERMS
}

fn exists(c: &Client, p: &str) -> bool {
    c.lstat(p.as_bytes()).is_ok()
}

fn at(sec: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(sec as u64)
}

/// Makes a host file with contents, mode and modification time.
fn write_host(p: &Path, data: &[u8], mode: u32, mtime: i64) {
    std::fs::write(p, data).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(at(mtime)).unwrap();
}

/// Sets a host directory's modification time.
fn set_dir_mtime(p: &Path, mtime: i64) {
    std::fs::File::open(p)
        .unwrap()
        .set_modified(at(mtime))
        .unwrap();
}

/// The line of a table whose first word is `first`, split into words.
fn row(table: &str, first: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no {first} line in\n{table}"));
    line.split_whitespace().map(str::to_string).collect()
}

/// The long listing's line for `name` (the ninth word), split into words.
fn ls_row(listing: &str, name: &str) -> Vec<String> {
    listing
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|w| w.len() >= 9 && w[8] == name)
        .unwrap_or_else(|| panic!("no {name} in\n{listing}"))
}

/// ls's and stat's names for a host file's owner and group, which put
/// keeps: the kernel names only uid 0 (root) and gid 0 (wheel).
fn owner_words(m: &std::fs::Metadata) -> (String, String) {
    let name = |id: u32, zero: &str| match id {
        0 => zero.to_string(),
        n => n.to_string(),
    };
    (name(m.uid(), "root"), name(m.gid(), "wheel"))
}

const ROOT_LINE: &str = "rumpfs on / type rumpfs (local)";
const TMPFS_LINE: &str = "tmpfs on /mnt type tmpfs (local)";

#[test]
fn mount_list_df_and_umount() {
    let t = Setup::new();
    let c = t.client();
    t.tool("mkdir", &["-m", "0700", "/mnt"]).ok();
    assert_eq!(c.stat(b"/mnt").unwrap().mode, S_IFDIR | 0o700);
    let err = t
        .tool("mount", &["-t", "tmpfs", "tmpfs", "/nowhere"])
        .fails();
    assert_eq!(
        err,
        "rump.mount: cannot stat `/nowhere': No such file or directory\n"
    );
    let opts = "size=2m,mode=0750";
    let out = t.tool("mount", &["-t", "tmpfs", "-o", opts, "tmpfs", "/mnt"]);
    assert_eq!(out.ok(), "");
    assert_eq!(
        c.stat(b"/mnt").unwrap().mode,
        S_IFDIR | 0o750,
        "the tmpfs root has the mode of -o mode, not the covered directory's"
    );
    assert_eq!(t.tool("mount", &[]).lines(), [ROOT_LINE, TMPFS_LINE]);
    assert_eq!(
        t.tool("mount", &["-t", "tmpfs"]).lines(),
        [TMPFS_LINE],
        "-t selects the listed types"
    );

    // 2 MiB: 4096 blocks of 512 bytes, 2048 of 1K; one page in use for
    // the root directory.
    let df = t.tool("df", &[]).ok();
    assert!(df.starts_with("Filesystem   512-blocks "), "{df}");
    assert_eq!(row(&df, "rumpfs").last().unwrap(), "/");
    let r = row(&df, "tmpfs");
    assert_eq!((r[1].as_str(), r[5].as_str()), ("4096", "/mnt"), "{df}");
    let used: u64 = r[2].parse().unwrap();
    let avail: u64 = r[3].parse().unwrap();
    assert_eq!(used + avail, 4096, "{df}");
    assert!(used > 0 && used < 64, "{df}");
    assert_eq!(row(&t.tool("df", &["-k"]).ok(), "tmpfs")[1], "2048");
    let h = t.tool("df", &["-h"]).ok();
    assert!(h.starts_with("Filesystem         Size "), "{h}");
    assert_eq!(row(&h, "tmpfs")[1], "2.0M", "{h}");
    let i = t.tool("df", &["-i"]).ok();
    assert!(i.lines().next().unwrap().contains(" iUsed "), "{i}");
    assert_eq!(row(&i, "tmpfs")[5], "1", "only the root node: {i}");
    let fd = c.open(b"/mnt/f", O_CREAT | O_WRONLY, 0o644).unwrap();
    c.close(fd).unwrap();
    assert_eq!(row(&t.tool("df", &["-i"]).ok(), "tmpfs")[5], "2");
    let only = t.tool("df", &["/mnt/f"]).lines();
    assert_eq!(only.len(), 2, "the header and the file's file system");
    assert!(only[1].starts_with("tmpfs ") && only[1].ends_with(" /mnt"));
    let r = t.tool("df", &["/nosuch"]);
    assert_eq!(r.stdout, "", "no header when nothing is shown");
    assert_eq!(r.fails(), "rump.df: /nosuch: No such file or directory\n");

    // -u changes the options of a mount.
    t.tool("mount", &["-u", "-o", "ro", "/mnt"]).ok();
    assert_eq!(
        t.tool("mount", &["-t", "tmpfs"]).lines(),
        ["tmpfs on /mnt type tmpfs (read-only, local)"]
    );
    let err = t.tool("mkdir", &["/mnt/d"]).fails();
    assert_eq!(err, "rump.mkdir: /mnt/d: Read-only file system\n");
    t.tool("mount", &["-u", "-o", "rw", "/mnt"]).ok();
    t.tool("mkdir", &["/mnt/d"]).ok();
    t.tool("rmdir", &["/mnt/d"]).ok();

    let err = t.tool("umount", &["/dev"]).fails();
    assert_eq!(err, "rump.umount: /dev: not currently mounted\n");
    let err = t.tool("umount", &["/nonexistent"]).fails();
    assert_eq!(
        err,
        "rump.umount: /nonexistent: No such file or directory\n"
    );
    assert_eq!(t.tool("umount", &["/mnt/"]).ok(), "");
    assert_eq!(t.tool("mount", &[]).lines(), [ROOT_LINE]);
    assert_eq!(c.stat(b"/mnt").unwrap().mode, S_IFDIR | 0o700);
    assert!(!exists(&c, "/mnt/f"), "the tmpfs and its file are gone");
    assert!(!t.tool("df", &[]).ok().contains("tmpfs"));
    let err = t.tool("umount", &["/mnt"]).fails();
    assert_eq!(err, "rump.umount: /mnt: not currently mounted\n");
}

#[test]
fn forced_unmount_with_an_open_file() {
    let t = Setup::with_tmpfs("1m");
    let c = t.client();
    let fd = c.open(b"/mnt/open", O_CREAT | O_RDWR, 0o644).unwrap();
    assert_eq!(c.write(fd, b"busy").unwrap(), 4);
    let err = t.tool("umount", &["/mnt"]).fails();
    assert_eq!(err, "rump.umount: /mnt: Device busy\n");
    assert_eq!(t.tool("mount", &[]).lines(), [ROOT_LINE, TMPFS_LINE]);
    assert_eq!(t.tool("umount", &["-f", "/mnt"]).ok(), "");
    assert_eq!(t.tool("mount", &[]).lines(), [ROOT_LINE]);
    assert!(!exists(&c, "/mnt/open"));
    let _ = c.close(fd);
    assert_eq!(c.stat(b"/").unwrap().mode & S_IFMT, S_IFDIR);
}

#[test]
fn making_and_removing_directories_and_files() {
    let t = Setup::with_tmpfs("1m");
    let c = t.client();
    assert_eq!(t.tool("mkdir", &["-p", "/mnt/a/b/c"]).ok(), "");
    for d in ["/mnt/a", "/mnt/a/b", "/mnt/a/b/c"] {
        assert_eq!(c.stat(d.as_bytes()).unwrap().mode & S_IFMT, S_IFDIR, "{d}");
    }
    t.tool("mkdir", &["-p", "/mnt/a/b/c"]).ok();
    // -m is the mode of the last component only; the others get the
    // default (umask 022).
    t.tool("mkdir", &["-p", "-m", "0700", "/mnt/m/n"]).ok();
    assert_eq!((perms(&c, "/mnt/m"), perms(&c, "/mnt/m/n")), (0o755, 0o700));
    t.tool("rmdir", &["/mnt/m/n", "/mnt/m"]).ok();
    let err = t.tool("mkdir", &["/mnt/a"]).fails();
    assert_eq!(err, "rump.mkdir: /mnt/a: File exists\n");
    let err = t.tool("mkdir", &["/mnt/x/y"]).fails();
    assert_eq!(err, "rump.mkdir: /mnt/x/y: No such file or directory\n");

    // rmdir -p on relative paths (the tools start in /, on rumpfs).
    t.tool("mkdir", &["-p", "p/q/r"]).ok();
    assert!(exists(&c, "/p/q/r"));
    assert_eq!(t.tool("rmdir", &["-p", "p/q/r"]).ok(), "");
    assert!(!exists(&c, "/p"), "rmdir -p removes the parents too");
    let err = t.tool("rmdir", &["/mnt/a"]).fails();
    assert_eq!(err, "rump.rmdir: /mnt/a: Directory not empty\n");

    t.put_file("/mnt/a/b/c/file", b"x", 0o644);
    t.put_file("/mnt/a/file", b"y", 0o644);
    let err = t.tool("rm", &["/mnt/a"]).fails();
    assert_eq!(err, "rump.rm: /mnt/a: is a directory\n");
    assert_eq!(t.tool("rm", &["-r", "/mnt/a"]).ok(), "");
    assert!(!exists(&c, "/mnt/a"));
    assert_eq!(c.read_dir(b"/mnt").unwrap().len(), 2, ". and .. only");

    assert_eq!(t.tool("rm", &["-f", "/mnt/missing"]).ok(), "");
    let err = t.tool("rm", &["/mnt/missing"]).fails();
    assert_eq!(err, "rump.rm: /mnt/missing: No such file or directory\n");
    t.put_file("/mnt/one", b"1", 0o644);
    t.put_file("/mnt/two", b"2", 0o644);
    let err = t.tool("rm", &["/mnt/one", "/mnt/gone", "/mnt/two"]).fails();
    assert!(err.contains("/mnt/gone"), "{err}");
    assert!(
        !exists(&c, "/mnt/one") && !exists(&c, "/mnt/two"),
        "the other operands are still removed"
    );
}

#[test]
fn put_ls_stat_and_get_round_trip() {
    let t = Setup::with_tmpfs("4m");
    let c = t.client();
    let src = t.host("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    write_host(&src.join("a.txt"), b"one\ntwo\n", 0o640, OLD);
    write_host(&src.join("run.sh"), b"#!/bin/sh\n", 0o755, OLD + 3600);
    write_host(&src.join("sub/secret"), b"hidden\n", 0o600, OLD + 7200);
    std::os::unix::fs::symlink("a.txt", src.join("link")).unwrap();
    std::fs::set_permissions(src.join("sub"), PermissionsExt::from_mode(0o750)).unwrap();
    set_dir_mtime(&src.join("sub"), OLD - 86400);
    set_dir_mtime(&src, OLD - 2 * 86400);
    let (user, group) = owner_words(&std::fs::metadata(&src).unwrap());

    let put = t.tool("put", &["-R", src.to_str().unwrap(), "/mnt/tree"]);
    assert_eq!(put.ok(), "");

    let ls = t.tool("ls", &["-l", "/mnt/tree"]).ok();
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 5, "total and four entries, by name:\n{ls}");
    assert!(lines[0].starts_with("total "), "{ls}");
    let names: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(8).unwrap().to_string())
        .collect();
    assert_eq!(names, ["a.txt", "link", "run.sh", "sub"]);
    let a = ls_row(&ls, "a.txt");
    assert_eq!(
        a,
        [
            "-rw-r-----",
            "1",
            &user,
            &group,
            "8",
            "Feb",
            "3",
            "2001",
            "a.txt"
        ],
        "{ls}"
    );
    let l = ls_row(&ls, "link");
    assert_eq!((l[0].as_str(), l[4].as_str()), ("lrwxrwxrwx", "5"), "{ls}");
    assert_eq!(&l[8..], ["link", "->", "a.txt"], "{ls}");
    let r = ls_row(&ls, "run.sh");
    assert_eq!(
        [&r[0], &r[1], &r[2], &r[3], &r[4], &r[7]],
        ["-rwxr-xr-x", "1", &user, &group, "10", "2001"]
    );
    let s = ls_row(&ls, "sub");
    assert_eq!(
        [&s[0], &s[1], &s[2], &s[3], &s[7]],
        ["drwxr-x---", "2", &user, &group, "2001"]
    );
    let sub = t.tool("ls", &["-l", "/mnt/tree/sub"]).ok();
    assert_eq!(ls_row(&sub, "secret")[0], "-rw-------");

    let st = t.tool("stat", &["/mnt/tree/a.txt"]).ok();
    assert!(st.contains(" -rw-r----- 1 "), "{st}");
    let quoted: Vec<&str> = st.split('"').collect();
    assert_eq!(quoted[3], "Feb  3 04:05:06 2001", "the mtime: {st}");
    assert!(quoted[0].ends_with(" 8 "), "the size: {st}");
    assert!(st.ends_with(" /mnt/tree/a.txt\n"), "{st}");
    let st = t.tool("stat", &["-l", "/mnt/tree/link"]).ok();
    assert!(st.starts_with("lrwxrwxrwx 1 "), "{st}");
    assert!(st.ends_with(" /mnt/tree/link -> a.txt\n"), "{st}");
    let raw = c.stat(b"/mnt/tree/a.txt").unwrap();
    assert_eq!((raw.size, raw.mtime.sec), (8, OLD));
    assert_eq!(c.readlink(b"/mnt/tree/link").unwrap(), b"a.txt");
    let err = t.tool("stat", &["/mnt/tree/none"]).fails();
    assert_eq!(
        err,
        "rump.stat: /mnt/tree/none: lstat: No such file or directory\n"
    );

    let back = t.host("back");
    let get = t.tool("get", &["-R", "/mnt/tree", back.to_str().unwrap()]);
    assert_eq!(get.ok(), "");
    for name in ["a.txt", "run.sh", "sub/secret", "sub", ""] {
        let (o, n) = (src.join(name), back.join(name));
        let (om, nm) = (
            std::fs::metadata(&o).unwrap(),
            std::fs::metadata(&n).unwrap(),
        );
        assert_eq!(om.mode(), nm.mode(), "mode of {name}");
        assert_eq!(
            om.modified().unwrap(),
            nm.modified().unwrap(),
            "mtime of {name}"
        );
        if om.is_file() {
            assert_eq!(std::fs::read(&o).unwrap(), std::fs::read(&n).unwrap());
        }
    }
    assert_eq!(
        std::fs::read_link(back.join("link")).unwrap(),
        Path::new("a.txt")
    );
    let mut listed: Vec<String> = std::fs::read_dir(&back)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, ["a.txt", "link", "run.sh", "sub"]);

    let err = t
        .tool("get", &["/mnt/tree/none", back.to_str().unwrap()])
        .fails();
    assert_eq!(err, "rump.get: /mnt/tree/none: No such file or directory\n");
    let err = t.tool("put", &["-R", "/nonexistent/x", "/mnt"]).fails();
    assert!(err.contains("/nonexistent/x"), "{err}");
}

#[test]
fn cp_mv_and_links() {
    let t = Setup::with_tmpfs("1m");
    let c = t.client();
    t.put_file("/mnt/f", b"data\nmore\n", 0o666);
    assert_eq!(perms(&c, "/mnt/f"), 0o666);

    // A plain copy: the source's mode less the umask, a new time.
    assert_eq!(t.tool("cp", &["/mnt/f", "/mnt/g"]).ok(), "");
    assert_eq!(cat(&t, "/mnt/g"), "data\nmore\n");
    let g = c.stat(b"/mnt/g").unwrap();
    assert_eq!(g.mode & ALLPERMS, 0o644);
    assert_ne!(g.mtime.sec, OLD);
    // -p keeps the mode and the times.
    t.tool("cp", &["-p", "/mnt/f", "/mnt/h"]).ok();
    let h = c.stat(b"/mnt/h").unwrap();
    assert_eq!((h.mode & ALLPERMS, h.mtime.sec), (0o666, OLD));
    // Into a directory operand, keeping the name.
    t.tool("mkdir", &["/mnt/d"]).ok();
    t.tool("cp", &["/mnt/f", "/mnt/g", "/mnt/d"]).ok();
    assert_eq!(cat(&t, "/mnt/d/f"), "data\nmore\n");
    assert_eq!(cat(&t, "/mnt/d/g"), "data\nmore\n");
    let err = t.tool("cp", &["/mnt/f", "/mnt/g", "/mnt/h"]).fails();
    assert!(err.starts_with("usage: rump.cp "), "{err}");
    // Trees need -R.
    t.tool("mkdir", &["/mnt/d/deep"]).ok();
    t.tool("cp", &["/mnt/f", "/mnt/d/deep/f"]).ok();
    let err = t.tool("cp", &["/mnt/d", "/mnt/e"]).fails();
    assert_eq!(err, "rump.cp: /mnt/d is a directory (not copied).\n");
    assert!(!exists(&c, "/mnt/e"));
    t.tool("cp", &["-R", "/mnt/d", "/mnt/e"]).ok();
    assert_eq!(cat(&t, "/mnt/e/deep/f"), "data\nmore\n");
    assert_eq!(cat(&t, "/mnt/e/g"), "data\nmore\n");
    let err = t.tool("cp", &["/mnt/nosuch", "/mnt/x"]).fails();
    assert_eq!(err, "rump.cp: /mnt/nosuch: No such file or directory\n");
    let err = t.tool("cp", &["/mnt/f", "/mnt/f"]).fails();
    assert!(err.contains("are identical"), "{err}");

    // mv within the tmpfs renames: same inode.
    let ino = c.stat(b"/mnt/g").unwrap().ino;
    assert_eq!(t.tool("mv", &["/mnt/g", "/mnt/g2"]).ok(), "");
    assert!(!exists(&c, "/mnt/g"));
    assert_eq!(c.stat(b"/mnt/g2").unwrap().ino, ino);
    // Across file systems (to rumpfs, which cannot rename either): a
    // copy with mode and times, and the source removed.
    assert_eq!(t.tool("mv", &["/mnt/h", "/h"]).ok(), "");
    assert!(!exists(&c, "/mnt/h"));
    assert_eq!(cat(&t, "/h"), "data\nmore\n");
    let moved = c.stat(b"/h").unwrap();
    assert_eq!((moved.mode & ALLPERMS, moved.mtime.sec), (0o666, OLD));
    assert_eq!(t.tool("mv", &["/mnt/e", "/e"]).ok(), "");
    assert!(!exists(&c, "/mnt/e"));
    assert_eq!(cat(&t, "/e/deep/f"), "data\nmore\n");
    assert_eq!(cat(&t, "/e/f"), "data\nmore\n");
    let err = t.tool("mv", &["/mnt/nosuch", "/mnt/x"]).fails();
    assert!(err.contains("/mnt/nosuch"), "{err}");

    // Hard and symbolic links.
    assert_eq!(t.tool("ln", &["/mnt/f", "/mnt/hard"]).ok(), "");
    let ls = t.tool("ls", &["-l", "/mnt"]).ok();
    assert_eq!(ls_row(&ls, "f")[1], "2", "{ls}");
    assert_eq!(ls_row(&ls, "hard")[1], "2", "{ls}");
    assert_eq!(
        c.stat(b"/mnt/hard").unwrap().ino,
        c.stat(b"/mnt/f").unwrap().ino
    );
    assert_eq!(t.tool("ln", &["-s", "f", "/mnt/soft"]).ok(), "");
    let ls = t.tool("ls", &["-l", "/mnt"]).ok();
    let soft = ls_row(&ls, "soft");
    assert!(soft[0].starts_with('l'), "{ls}");
    assert_eq!(&soft[8..], ["soft", "->", "f"], "{ls}");
    assert_eq!(ls_row(&ls, "f")[1], "2", "a symbolic link is no link");
    assert_eq!(cat(&t, "/mnt/soft"), "data\nmore\n");
    let err = t.tool("ln", &["/mnt/nosuch", "/mnt/l2"]).fails();
    assert_eq!(err, "rump.ln: /mnt/nosuch: No such file or directory\n");
    let err = t.tool("ln", &["/mnt/f", "/mnt/hard"]).fails();
    assert_eq!(err, "rump.ln: /mnt/hard: File exists\n");
    t.tool("rm", &["/mnt/hard"]).ok();
    assert_eq!(c.stat(b"/mnt/f").unwrap().nlink, 1);
}

#[test]
fn chmod_and_chown() {
    let t = Setup::with_tmpfs("1m");
    let c = t.client();
    t.put_file("/mnt/f", b"x", 0o644);
    assert_eq!(t.tool("chmod", &["0604", "/mnt/f"]).ok(), "");
    assert_eq!(perms(&c, "/mnt/f"), 0o604);
    let st = t.tool("stat", &["-l", "/mnt/f"]).ok();
    assert!(st.starts_with("-rw----r-- 1 "), "{st}");
    t.tool("chmod", &["666", "/mnt/f"]).ok();
    t.tool("chmod", &["u+x,go-w", "/mnt/f"]).ok();
    assert_eq!(perms(&c, "/mnt/f"), 0o744);
    t.tool("chmod", &["a=r,u+w", "/mnt/f"]).ok();
    assert_eq!(perms(&c, "/mnt/f"), 0o644);
    t.tool("chmod", &["-w", "/mnt/f"]).ok();
    assert_eq!(perms(&c, "/mnt/f"), 0o444, "-w is a mode, not an option");
    t.tool("mkdir", &["-p", "/mnt/d/e"]).ok();
    t.put_file("/mnt/d/e/g", b"y", 0o600);
    t.tool("chmod", &["-R", "go+rX", "/mnt/d"]).ok();
    assert_eq!(perms(&c, "/mnt/d/e"), 0o755);
    assert_eq!(
        perms(&c, "/mnt/d/e/g"),
        0o644,
        "X adds x to directories only"
    );
    let err = t.tool("chmod", &["999", "/mnt/f"]).fails();
    assert_eq!(
        err,
        "rump.chmod: Cannot set file mode `999': Invalid argument\n"
    );
    let err = t.tool("chmod", &["644", "/mnt/nosuch"]).fails();
    assert_eq!(err, "rump.chmod: /mnt/nosuch: No such file or directory\n");

    assert_eq!(t.tool("chown", &["123:456", "/mnt/f"]).ok(), "");
    let st = c.stat(b"/mnt/f").unwrap();
    assert_eq!((st.uid, st.gid), (123, 456));
    let ls = t.tool("ls", &["-l", "/mnt"]).ok();
    assert_eq!(&ls_row(&ls, "f")[2..4], ["123", "456"], "{ls}");
    t.tool("chown", &[":7", "/mnt/f"]).ok();
    let st = c.stat(b"/mnt/f").unwrap();
    assert_eq!((st.uid, st.gid), (123, 7), "only the group changes");
    t.tool("chown", &["0:0", "/mnt/f"]).ok();
    let st = c.stat(b"/mnt/f").unwrap();
    assert_eq!((st.uid, st.gid), (0, 0));
    let ls = t.tool("ls", &["-l", "/mnt"]).ok();
    assert_eq!(&ls_row(&ls, "f")[2..4], ["root", "wheel"], "{ls}");
    t.tool("chown", &["-R", "5:6", "/mnt/d"]).ok();
    let st = c.stat(b"/mnt/d/e/g").unwrap();
    assert_eq!((st.uid, st.gid), (5, 6));
    let err = t.tool("chown", &["bob", "/mnt/f"]).fails();
    assert_eq!(err, "rump.chown: bob: invalid user name\n");
    let err = t.tool("chown", &["1", "/mnt/nosuch"]).fails();
    assert_eq!(err, "rump.chown: /mnt/nosuch: No such file or directory\n");
}

#[test]
fn cat_files() {
    let t = Setup::with_tmpfs("1m");
    t.put_file("/mnt/m", b"l1\nl2\n\nl4\n", 0o644);
    t.put_file("/mnt/n", b"second\n", 0o644);
    assert_eq!(cat(&t, "/mnt/m"), "l1\nl2\n\nl4\n");
    assert_eq!(
        t.tool("cat", &["-n", "/mnt/m"]).ok(),
        "     1\tl1\n     2\tl2\n     3\t\n     4\tl4\n"
    );
    assert_eq!(
        t.tool("cat", &["-b", "/mnt/m"]).ok(),
        "     1\tl1\n     2\tl2\n\n     3\tl4\n"
    );
    assert_eq!(
        t.tool("cat", &["/mnt/m", "/mnt/n"]).ok(),
        "l1\nl2\n\nl4\nsecond\n"
    );
    let r = t.tool("cat", &["/mnt/nope"]);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.fails(),
        "rump.cat: /mnt/nope: No such file or directory\n"
    );
    let r = t.tool("cat", &["/mnt/n", "/mnt/nope", "/mnt/n"]);
    assert_eq!(r.stdout, "second\nsecond\n", "the others are still copied");
    assert!(r.fails().contains("/mnt/nope"));
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    t.put_file("/mnt/big", &big, 0o644);
    // Command::output, not run: run reads the output only at the end.
    let mut cmd = t.scratch.tool("cat", &t.server.url);
    let o = cmd.arg("/mnt/big").output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(o.stdout, big, "more than one read's worth, byte for byte");
}

#[test]
fn usage_and_connection_errors() {
    let s = Scratch::new();
    let dead = s.url("nobody");
    let bad_options: &[(&str, &[&str])] = &[
        ("ls", &["-z", "/"]),
        ("cat", &["-Z", "/f"]),
        ("cp", &["-Q", "a", "b"]),
        ("mv", &["-x", "a", "b"]),
        ("rm", &["-Z", "a"]),
        ("mkdir", &["-Z", "a"]),
        ("rmdir", &["-Z", "a"]),
        ("ln", &["-Z", "a", "b"]),
        ("chmod", &["-Z", "644", "a"]),
        ("chown", &["-Z", "0", "a"]),
        ("mount", &["-Z"]),
        ("umount", &["-Z", "/mnt"]),
        ("df", &["-Z"]),
        ("stat", &["-Z", "a"]),
        ("put", &["-Z", "a", "b"]),
        ("get", &["-Z", "a", "b"]),
    ];
    for (tool, args) in bad_options {
        let err = exec(s.tool(tool, &dead), args).fails();
        assert!(
            err.starts_with(&format!("rump.{tool}: unknown option -- ")),
            "{tool}: {err}"
        );
        let usage = err.lines().nth(1).unwrap_or_default().to_lowercase();
        assert!(
            usage.starts_with("usage:") && usage.contains(&format!("rump.{tool} ")),
            "{tool}: {err}"
        );
    }
    let missing: &[(&str, &[&str])] = &[
        ("cp", &["a"]),
        ("mv", &["a"]),
        ("put", &["a"]),
        ("get", &[]),
        ("rm", &[]),
        ("mkdir", &[]),
        ("chmod", &["644"]),
        ("umount", &[]),
    ];
    for (tool, args) in missing {
        let err = exec(s.tool(tool, &dead), args).fails();
        assert!(err.to_lowercase().starts_with("usage:"), "{tool}: {err}");
    }

    // No server: RUMP_SERVER unset, nobody listening, or a dead socket
    // file left behind.
    let mut unset = s.tool("ls", &dead);
    unset.env_remove("RUMP_SERVER");
    let err = exec(unset, &["/"]).fails();
    assert_eq!(
        err,
        "error: RUMP_SERVER not set\nrump.ls: init failed: No such file or directory\n"
    );
    let err = exec(s.tool("cat", &dead), &["/f"]).fails();
    assert_eq!(err, "rump.cat: init failed: No such file or directory\n");
    let stale = s.path().join("stale");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let url = format!("unix://{}", stale.display());
    let err = exec(s.tool("df", &url), &[]).fails();
    assert_eq!(err, "rump.df: init failed: Connection refused\n");
    let err = exec(s.tool("mount", "bogus://x"), &[]).fails();
    assert!(err.starts_with("rump.mount: init failed: "), "{err}");
}
