//! cd9660 through a real rump_server: images made by xorriso and
//! genisoimage from host trees (Rock Ridge, Joliet, both, neither), served
//! with `-d key=/dev/cd,hostpath=IMG,size=host`, mounted with
//! Client::mount and rump.mount, and read back against the host tree;
//! read-write mounts and writes refused; a multi-extent file; and a few
//! hundred corrupted images that must leave the server serving.

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::*;
use netbsd_abi::stat::*;
use rump_tests::*;
use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// 2001-02-03 04:05:06 UTC.
const OLD: i64 = 981_173_106;

/// A long name (200 bytes) and the longest (255 bytes).
fn long_name(n: usize) -> String {
    let stem = "a-rather-long-file-name-";
    stem.repeat(n / stem.len() + 1)[..n].to_string()
}

/// A host tree with what an image must carry: long and non-ASCII names,
/// directories deeper than ISO 9660's 8 levels, symbolic links (relative,
/// absolute, to `/`, dangling, to a directory), modes with set-id and sticky
/// bits, hard links, a few hundred files, a 3 MiB file, a fifo and a
/// fixed modification time.
fn make_tree(root: &Path) {
    let w = |p: &str, data: &[u8]| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    w("hello.txt", b"hello, world\n");
    w(&long_name(200), b"two hundred\n");
    w(&long_name(255), b"the longest name\n");
    w("caf\u{e9} \u{20ac} \u{65e5}\u{672c}.txt", b"unicode\n");
    w("MixedCase.TXT", b"mixed\n");
    let deep = "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12";
    w(&format!("{deep}/bottom.txt"), b"at the bottom\n");
    w("d1/d2/d3/d4/d5/d6/d7/middle.txt", b"in the middle\n");
    for i in 0..300 {
        w(
            &format!("many/file-{i:03}.dat"),
            format!("file number {i}\n").as_bytes(),
        );
    }
    let big: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    w("big.bin", &big);
    std::os::unix::fs::symlink("hello.txt", root.join("link")).unwrap();
    std::os::unix::fs::symlink("/usr/bin/../lib", root.join("abs")).unwrap();
    std::os::unix::fs::symlink("/", root.join("toroot")).unwrap();
    std::os::unix::fs::symlink("no/such/target", root.join("dangling")).unwrap();
    std::os::unix::fs::symlink("../../many", root.join("d1/d2/up")).unwrap();
    std::os::unix::fs::symlink(long_name(240), root.join("longlink")).unwrap();
    std::fs::hard_link(root.join("hello.txt"), root.join("hard.txt")).unwrap();
    for (p, mode) in [
        ("hello.txt", 0o644),
        ("many/file-001.dat", 0o600),
        ("many/file-002.dat", 0o4755),
        ("many/file-003.dat", 0o2711),
        ("many", 0o1777),
        ("d1", 0o700),
    ] {
        std::fs::set_permissions(root.join(p), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    nix::unistd::mkfifo(
        &root.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    let old = nix::sys::time::TimeSpec::new(OLD, 0);
    nix::sys::stat::utimensat(
        None,
        &root.join("many/file-004.dat"),
        &old,
        &old,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
}

/// Runs an image maker; panics with its output if it fails.
fn make_image(tool: &str, args: &[&str], out: &Path, tree: &Path) {
    let mut cmd = Command::new(tool);
    cmd.args(args).arg("-o").arg(out).arg(tree);
    let o = run(&mut cmd);
    assert!(o.status.success(), "{tool} {args:?}: {}", text(&o.stderr));
}

fn xorriso(args: &[&str], out: &Path, tree: &Path) {
    let mut all = vec!["-as", "mkisofs", "-quiet"];
    all.extend_from_slice(args);
    make_image("xorriso", &all, out, tree);
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A server with the VFS and cd9660, and `img` as /dev/cd (plus any
/// further -d specs).
fn serve(s: &Scratch, img: &Path, more: &[String]) -> Server {
    serve_logging(s, img, more, std::process::Stdio::inherit())
}

/// [`serve`] with the server's standard error going to `stderr`.
fn serve_logging(s: &Scratch, img: &Path, more: &[String], stderr: std::process::Stdio) -> Server {
    let vfs = plugin("rumpvfs").display().to_string();
    let cd = plugin("rumpfs_cd9660").display().to_string();
    let key = format!("key=/dev/cd,hostpath={},size=host", img.display());
    let mut args = vec!["-l", &vfs, "-l", &cd, "-d", &key];
    for m in more {
        args.extend(["-d", m.as_str()]);
    }
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(stderr);
    Server::start_cmd(cmd, &args, &s.url("sock"))
}

/// mount(2) of `dev` on `on` with ISOFSMNT_* `iso_flags`.
fn mount(c: &Client, dev: &[u8], on: &[u8], flags: i32, iso_flags: i32) -> Result<i64, Errno> {
    let mut spec = dev.to_vec();
    spec.push(0);
    let mut data = IsoArgs {
        fspec: spec.as_ptr() as u64,
        flags: iso_flags,
    }
    .encode();
    c.mount_with(b"cd9660", on, flags, &mut data, &[&spec])
}

fn bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

/// All of a file, read through the server in 64 KiB pieces.
fn read_all(c: &Client, path: &[u8]) -> Vec<u8> {
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

/// The names in a directory, less `.` and `..`.
fn listed(c: &Client, path: &[u8]) -> BTreeSet<Vec<u8>> {
    c.read_dir(path)
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .filter(|n| n != b"." && n != b"..")
        .collect()
}

/// What is compared between the host and the image.
#[derive(Clone, Copy)]
struct Fidelity {
    /// Rock Ridge: modes, owners, links, times and full names.
    rock_ridge: bool,
}

/// Checks that `mnt` on the server holds exactly the host tree `host`.
/// Returns the number of files compared.
fn compare(c: &Client, host: &Path, mnt: &[u8], f: Fidelity) -> usize {
    let mut count = 0;
    let mut want = BTreeSet::new();
    for e in std::fs::read_dir(host).unwrap() {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        if !(f.rock_ridge || meta.is_file() || meta.is_dir()) {
            continue;
        }
        want.insert(bytes(Path::new(&e.file_name())));
    }
    let mut got = listed(c, mnt);
    got.remove(&b"rr_moved"[..]);
    assert_eq!(
        got.iter().map(|n| text(n)).collect::<Vec<_>>(),
        want.iter().map(|n| text(n)).collect::<Vec<_>>(),
        "names in {}",
        text(mnt)
    );
    for name in &want {
        let hp = host.join(std::ffi::OsStr::new(&text(name)));
        let mut ip = mnt.to_vec();
        ip.push(b'/');
        ip.extend_from_slice(name);
        let hm = std::fs::symlink_metadata(&hp).unwrap();
        let st = c.lstat(&ip).unwrap();
        count += 1;
        let what = text(&ip);
        assert_eq!(
            st.ino,
            c.lstat(&ip).unwrap().ino,
            "stable file number {what}"
        );
        assert_eq!(st.blksize, 2048, "{what}");
        if f.rock_ridge {
            assert_eq!(st.mode, hm.mode(), "mode of {what}");
            assert_eq!((st.uid, st.gid), (hm.uid(), hm.gid()), "owner of {what}");
            assert_eq!(st.mtime.sec, hm.mtime(), "mtime of {what}");
            assert_eq!(st.ctime.sec, hm.ctime(), "ctime of {what}");
            if !hm.is_dir() {
                assert_eq!(st.nlink, hm.nlink() as u32, "links of {what}");
            }
        } else {
            let kind = if hm.is_dir() { S_IFDIR } else { S_IFREG };
            assert_eq!(st.mode, kind | 0o555, "mode of {what}");
            assert_eq!((st.uid, st.gid, st.nlink), (0, 0, 1), "{what}");
        }
        if hm.is_file() {
            assert_eq!(st.size as u64, hm.len(), "size of {what}");
            assert_eq!(st.blocks as u64, hm.len() / 512, "blocks of {what}");
            assert_eq!(
                read_all(c, &ip),
                std::fs::read(&hp).unwrap(),
                "contents of {what}"
            );
        } else if hm.file_type().is_symlink() {
            let target = bytes(&std::fs::read_link(&hp).unwrap());
            assert_eq!(c.readlink(&ip).unwrap(), target, "target of {what}");
            assert_eq!(st.size as usize, target.len(), "size of {what}");
        } else if hm.is_dir() {
            count += compare(c, &hp, &ip, f);
        }
    }
    count
}

/// The listing of `dir` read with getdents through a buffer of `size`
/// bytes at a time: readdir cookies in action.
fn listing_in_pieces(c: &Client, dir: &[u8], size: usize) -> Vec<(u64, Vec<u8>)> {
    let fd = c.open(dir, O_RDONLY | O_DIRECTORY, 0).unwrap();
    let mut out = Vec::new();
    loop {
        let batch = c.getdents(fd, size).unwrap();
        if batch.is_empty() {
            break;
        }
        out.extend(batch.into_iter().map(|d| (d.fileno, d.name)));
    }
    c.close(fd).unwrap();
    out
}

#[test]
fn rock_ridge_images_read_back_exactly() {
    let s = Scratch::new();
    let tree = s.path().join("tree");
    make_tree(&tree);
    let mut images = vec![
        (
            "xorriso -R -J, deep directories moved",
            s.path().join("rr.iso"),
            "xorriso",
            vec!["-R", "-J", "-rr_reloc_dir", "rr_moved"],
        ),
        (
            "xorriso -R, deep directories kept",
            s.path().join("r.iso"),
            "xorriso",
            vec!["-R"],
        ),
    ];
    if have("genisoimage") {
        images.push((
            "genisoimage -R",
            s.path().join("g.iso"),
            "genisoimage",
            vec!["-quiet", "-R"],
        ));
    }
    for (what, img, tool, args) in &images {
        if *tool == "xorriso" {
            xorriso(args, img, &tree);
        } else {
            make_image(tool, args, img, &tree);
        }
        let srv = serve(&s, img, &[]);
        let c = srv.client();
        c.mkdir(b"/mnt", 0o755).unwrap();
        assert_eq!(
            mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0),
            Ok(0),
            "{what}"
        );
        let n = compare(&c, &tree, b"/mnt", Fidelity { rock_ridge: true });
        assert_eq!(n, 329, "{what}: files compared");

        let deep = b"/mnt/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12";
        let bottom = [&deep[..], b"/bottom.txt"].concat();
        assert_eq!(read_all(&c, &bottom), b"at the bottom\n", "{what}");
        let up = c.lstat(&[&deep[..], b"/.."].concat()).unwrap().ino;
        assert_eq!(
            up,
            c.lstat(&deep[..deep.len() - 4]).unwrap().ino,
            "{what}: .. of a deep directory"
        );
        let d1 = c.lstat(b"/mnt/d1").unwrap();
        assert_eq!(d1.mode, S_IFDIR | 0o700);
        let hard = (
            c.lstat(b"/mnt/hello.txt").unwrap(),
            c.lstat(b"/mnt/hard.txt").unwrap(),
        );
        assert_eq!(
            (hard.0.nlink, hard.1.nlink, hard.0.size),
            (2, 2, 13),
            "{what}"
        );
        assert_ne!(
            hard.0.ino, hard.1.ino,
            "{what}: numbered by record, as NetBSD does"
        );
        let old = c.lstat(b"/mnt/many/file-004.dat").unwrap();
        assert_eq!(old.mtime.sec, OLD, "{what}");
        assert_eq!(
            c.lstat(b"/mnt/fifo").unwrap().mode,
            S_IFIFO | 0o640,
            "{what}"
        );
        assert_eq!(c.readlink(b"/mnt/d1/d2/up").unwrap(), b"../../many");
        assert_eq!(
            c.stat(b"/mnt/d1/d2/up").unwrap().mode,
            S_IFDIR | 0o1777,
            "followed"
        );
        let mut buf = vec![0u8; 10];
        let fd = c.open(b"/mnt/big.bin", O_RDONLY, 0).unwrap();
        assert_eq!(
            c.pread(fd, &mut buf, (3 << 20) - 4).unwrap(),
            4,
            "short at the end"
        );
        assert_eq!(c.pread(fd, &mut buf, 3 << 20).unwrap(), 0);
        c.close(fd).unwrap();

        // readdir: file numbers agree with stat, and small buffers give
        // the same listing as large ones.
        let whole = listing_in_pieces(&c, b"/mnt/many", 64 << 10);
        assert_eq!(whole.len(), 302, "{what}");
        assert_eq!(listing_in_pieces(&c, b"/mnt/many", 300), whole, "{what}");
        for (ino, name) in whole.iter().filter(|(_, n)| n.starts_with(b"file-01")) {
            let p = [&b"/mnt/many/"[..], name].concat();
            assert_eq!(c.lstat(&p).unwrap().ino, *ino, "{what}");
        }
        let root = listing_in_pieces(&c, b"/mnt", 4096);
        let d1_entry = root.iter().find(|(_, n)| n == b"d1").unwrap();
        assert_eq!(d1_entry.0, d1.ino);

        let sv = c.statvfs(b"/mnt").unwrap();
        assert_eq!(
            (sv.bsize, sv.frsize, sv.bfree, sv.files),
            (2048, 2048, 0, 0)
        );
        assert_eq!(
            sv.blocks,
            std::fs::metadata(img).unwrap().len() / 2048,
            "{what}"
        );
        assert_eq!(sv.fstypename, "cd9660");
        assert_eq!(sv.mntfromname, "/dev/cd");
        assert_ne!(sv.flag & MNT_RDONLY as u64, 0);
        let mut args = [0u8; IsoArgs::SIZE];
        assert_eq!(c.mount(b"cd9660", b"/mnt", MNT_GETARGS, &mut args), Ok(144));
        assert_eq!(IsoArgs::decode(&args), IsoArgs { fspec: 0, flags: 0 });
        c.unmount(b"/mnt", 0).unwrap();
    }
}

fn memused(c: &Client) -> u64 {
    let vm = c.sysctl_query(&[2]).unwrap();
    let n = vm.iter().find(|n| n.name == "memused").unwrap().num;
    let mut q = [0u8; 8];
    c.sysctl(&[2, n], Some(&mut q), None).result.unwrap();
    u64::from_le_bytes(q)
}

/// What a mount keeps is charged to the kernel and given back at
/// unmount; in a small kernel (-r) it keeps less and still reads
/// everything.
#[test]
fn memory_is_charged_and_given_back() {
    let s = Scratch::new();
    let tree = s.path().join("tree");
    make_tree(&tree);
    let img = s.path().join("rr.iso");
    xorriso(&["-R"], &img, &tree);
    let srv = serve(&s, &img, &[]);
    let c = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    let mut after = Vec::new();
    for _ in 0..2 {
        mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0).unwrap();
        let before_walk = memused(&c);
        compare(&c, &tree, b"/mnt", Fidelity { rock_ridge: true });
        let walked = memused(&c);
        c.unmount(b"/mnt", 0).unwrap();
        after.push((before_walk, walked, memused(&c)));
    }
    let (first, second) = (after[0], after[1]);
    assert!(
        second.1 > second.0,
        "listings are charged while mounted: {after:?}"
    );
    assert_eq!(
        first.2, second.2,
        "a mount cycle leaves nothing charged: {after:?}"
    );
    drop(c);
    drop(srv);

    let vfs = plugin("rumpvfs").display().to_string();
    let cd = plugin("rumpfs_cd9660").display().to_string();
    let key = format!("key=/dev/cd,hostpath={},size=host", img.display());
    let srv = Server::start(
        "rump_server",
        &["-r", "3m", "-l", &vfs, "-l", &cd, "-d", &key],
        &s.url("small"),
    );
    let c = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0).unwrap();
    assert_eq!(
        compare(&c, &tree, b"/mnt", Fidelity { rock_ridge: true }),
        329
    );
    assert!(memused(&c) <= 3 << 20);
}

/// Clients reading one mount at the same time see the same files.
#[test]
fn several_clients_read_at_once() {
    let s = Scratch::new();
    let tree = s.path().join("tree");
    make_tree(&tree);
    let img = s.path().join("rr.iso");
    xorriso(&["-R", "-rr_reloc_dir", "rr_moved"], &img, &tree);
    let vfs = plugin("rumpvfs").display().to_string();
    let cd = plugin("rumpfs_cd9660").display().to_string();
    let key = format!("key=/dev/cd,hostpath={},size=host", img.display());
    let srv = Server::start(
        "rump_server",
        &["-c", "2", "-l", &vfs, "-l", &cd, "-d", &key],
        &s.url("sock"),
    );
    let c = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0).unwrap();
    let big = std::fs::read(tree.join("big.bin")).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let url = srv.url.clone();
            let big = big.clone();
            std::thread::spawn(move || {
                let c = Client::connect(&url, "reader").unwrap();
                for round in 0..3 {
                    let names = listed(&c, b"/mnt/many");
                    assert_eq!(names.len(), 300);
                    let n = (i * 7 + round * 31) % 300;
                    let p = format!("/mnt/many/file-{n:03}.dat");
                    assert_eq!(
                        read_all(&c, p.as_bytes()),
                        format!("file number {n}\n").as_bytes()
                    );
                    let deep = b"/mnt/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/bottom.txt";
                    assert_eq!(read_all(&c, deep), b"at the bottom\n");
                }
                assert!(read_all(&c, b"/mnt/big.bin") == big);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn joliet_and_plain_names() {
    let s = Scratch::new();
    let tree = s.path().join("tree");
    let w = |p: &str, data: &[u8]| {
        let path = tree.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    w("readme.txt", b"read me\n");
    w("data.bin", &[7u8; 5000]);
    w("subdir/code.c", b"int main;\n");
    w("subdir/nested/deeper/end.txt", b"end\n");
    let jtree = s.path().join("jtree");
    std::fs::create_dir_all(&jtree).unwrap();
    for (p, d) in [
        ("Mixed Case Name.txt", &b"joliet keeps case\n"[..]),
        ("caf\u{e9} \u{65e5}\u{672c}.txt", b"unicode\n"),
        ("Sub Dir/Inner File.md", b"inner\n"),
    ] {
        let path = jtree.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, d).unwrap();
    }
    let plain = s.path().join("plain.iso");
    xorriso(&["--norock"], &plain, &tree);
    let joliet = s.path().join("joliet.iso");
    xorriso(&["--norock", "-J"], &joliet, &jtree);
    let both = s.path().join("both.iso");
    xorriso(&["-R", "-J"], &both, &jtree);
    let mut more = vec![
        format!("key=/dev/plain,hostpath={},size=host", plain.display()),
        format!("key=/dev/both,hostpath={},size=host", both.display()),
    ];
    let gen = s.path().join("g.iso");
    let gen_joliet = s.path().join("gj.iso");
    if have("genisoimage") {
        make_image("genisoimage", &["-quiet"], &gen, &tree);
        make_image("genisoimage", &["-quiet", "-J"], &gen_joliet, &jtree);
        more.push(format!("key=/dev/gen,hostpath={},size=host", gen.display()));
        more.push(format!(
            "key=/dev/genj,hostpath={},size=host",
            gen_joliet.display()
        ));
    }
    let srv = serve(&s, &joliet, &more);
    let c = srv.client();
    for d in ["/j", "/p", "/b", "/g", "/gj"] {
        c.mkdir(d.as_bytes(), 0o755).unwrap();
    }
    let plain_fidelity = Fidelity { rock_ridge: false };

    // Joliet: names as on the host, modes r-xr-xr-x.
    mount(&c, b"/dev/cd", b"/j", MNT_RDONLY, 0).unwrap();
    assert_eq!(compare(&c, &jtree, b"/j", plain_fidelity), 4);
    assert_eq!(
        read_all(&c, b"/j/mixed case name.txt"),
        b"joliet keeps case\n",
        "upper case folds in lookups"
    );
    let mut args = [0u8; IsoArgs::SIZE];
    c.mount(b"cd9660", b"/j", MNT_GETARGS, &mut args).unwrap();
    assert_eq!(
        IsoArgs::decode(&args).flags,
        ISOFSMNT_NORRIP,
        "no Rock Ridge found"
    );

    // Plain ISO 9660: lower-cased names without versions; any case and
    // an explicit version find them.
    mount(&c, b"/dev/plain", b"/p", MNT_RDONLY, 0).unwrap();
    assert_eq!(compare(&c, &tree, b"/p", plain_fidelity), 7);
    assert_eq!(read_all(&c, b"/p/README.TXT"), b"read me\n");
    assert_eq!(read_all(&c, b"/p/readme.txt;1"), b"read me\n");
    assert_eq!(c.lstat(b"/p/readme.txt;2").unwrap_err(), Errno::ENOENT);
    c.unmount(b"/p", 0).unwrap();
    mount(&c, b"/dev/plain", b"/p", MNT_RDONLY, ISOFSMNT_NOCASETRANS).unwrap();
    assert_eq!(
        listed(&c, b"/p"),
        [&b"DATA.BIN"[..], b"README.TXT", b"SUBDIR"]
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    );
    c.unmount(b"/p", 0).unwrap();
    mount(&c, b"/dev/plain", b"/p", MNT_RDONLY, ISOFSMNT_GENS).unwrap();
    assert!(listed(&c, b"/p").contains(&b"readme.txt;1"[..]));
    c.unmount(b"/p", 0).unwrap();

    // Rock Ridge and Joliet: Rock Ridge wins; norrip gives Joliet and
    // norrip,nojoliet the plain names.
    mount(&c, b"/dev/both", b"/b", MNT_RDONLY, 0).unwrap();
    compare(&c, &jtree, b"/b", Fidelity { rock_ridge: true });
    c.unmount(b"/b", 0).unwrap();
    mount(&c, b"/dev/both", b"/b", MNT_RDONLY, ISOFSMNT_NORRIP).unwrap();
    assert_eq!(compare(&c, &jtree, b"/b", plain_fidelity), 4);
    c.unmount(b"/b", 0).unwrap();
    mount(
        &c,
        b"/dev/both",
        b"/b",
        MNT_RDONLY,
        ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET,
    )
    .unwrap();
    let names: Vec<String> = listed(&c, b"/b").iter().map(|n| text(n)).collect();
    assert_eq!(names, ["caf____.txt", "mixed_ca.txt", "sub_dir"]);
    assert_eq!(read_all(&c, b"/b/SUB_DIR/INNER_FI.MD;1"), b"inner\n");
    c.unmount(b"/b", 0).unwrap();

    if have("genisoimage") {
        mount(&c, b"/dev/gen", b"/g", MNT_RDONLY, 0).unwrap();
        assert_eq!(compare(&c, &tree, b"/g", plain_fidelity), 7);
        mount(&c, b"/dev/genj", b"/gj", MNT_RDONLY, 0).unwrap();
        assert_eq!(compare(&c, &jtree, b"/gj", plain_fidelity), 4);
    }
}

#[test]
fn read_write_mounts_and_writes_are_refused() {
    let s = Scratch::new();
    let tree = s.path().join("tree");
    std::fs::create_dir_all(tree.join("dir")).unwrap();
    std::fs::write(tree.join("file"), b"contents\n").unwrap();
    let img = s.path().join("ro.iso");
    xorriso(&["-R"], &img, &tree);
    let zeros = s.path().join("zeros.img");
    std::fs::write(&zeros, vec![0u8; 1 << 20]).unwrap();
    let srv = serve(
        &s,
        &img,
        &[format!(
            "key=/dev/zero,hostpath={},size=host",
            zeros.display()
        )],
    );
    let c = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    assert_eq!(mount(&c, b"/dev/cd", b"/mnt", 0, 0), Err(Errno::EROFS));
    assert_eq!(
        mount(&c, b"/dev/zero", b"/mnt", MNT_RDONLY, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mount(&c, b"/nonexistent", b"/mnt", MNT_RDONLY, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        c.mount(b"cd9660", b"/mnt", MNT_RDONLY, &mut [0u8; 100]),
        Err(Errno::EINVAL),
        "a short argument block"
    );
    mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0).unwrap();
    assert_eq!(
        mount(&c, b"/dev/cd", b"/mnt", MNT_UPDATE, 0),
        Err(Errno::EROFS)
    );
    mount(&c, b"/dev/cd", b"/mnt", MNT_UPDATE | MNT_RDONLY, 0).unwrap();
    assert_eq!(c.open(b"/mnt/file", O_RDWR, 0).unwrap_err(), Errno::EROFS);
    assert_eq!(
        c.open(b"/mnt/new", O_WRONLY | O_CREAT, 0o644).unwrap_err(),
        Errno::EROFS
    );
    assert_eq!(c.mkdir(b"/mnt/d2", 0o755).unwrap_err(), Errno::EROFS);
    assert_eq!(c.unlink(b"/mnt/file").unwrap_err(), Errno::EROFS);
    assert_eq!(c.rmdir(b"/mnt/dir").unwrap_err(), Errno::EROFS);
    assert_eq!(
        c.rename(b"/mnt/file", b"/mnt/f2").unwrap_err(),
        Errno::EROFS
    );
    assert_eq!(c.chmod(b"/mnt/file", 0o777).unwrap_err(), Errno::EROFS);
    assert_eq!(c.symlink(b"x", b"/mnt/l").unwrap_err(), Errno::EROFS);
    assert_eq!(read_all(&c, b"/mnt/file"), b"contents\n", "still readable");
    c.unmount(b"/mnt", 0).unwrap();
    assert_eq!(c.lstat(b"/mnt/file").unwrap_err(), Errno::ENOENT);

    // rump.mount mounts read-only by itself, as mount_cd9660 does.
    let url = srv.url.clone();
    let tool = |name: &str, args: &[&str]| run(s.tool(name, &url).env("TZ", "UTC").args(args));
    let o = tool("mount", &["-t", "cd9660", "/dev/cd", "/mnt"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = tool("mount", &[]);
    assert!(
        text(&o.stdout).contains("/dev/cd on /mnt type cd9660 (read-only, local)"),
        "{}",
        text(&o.stdout)
    );
    let o = tool("ls", &["-l", "/mnt"]);
    let out = text(&o.stdout);
    let line = |start: &str, end: &str| {
        out.lines()
            .any(|l| l.starts_with(start) && l.ends_with(end))
    };
    assert!(line("-rw-r--r--  1 root  wheel     9 ", " file"), "{out}");
    assert!(line("drwxr-xr-x  1 root  wheel  2048 ", " dir"), "{out}");
    let o = tool("cat", &["/mnt/file"]);
    assert_eq!(o.stdout, b"contents\n");
    let o = tool("mount", &["-t", "cd9660", "/dev/zero", "/mnt"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("/dev/zero on /mnt: "),
        "{}",
        text(&o.stderr)
    );
}

/// A minimal ISO 9660 image in 2048-byte blocks: a primary descriptor, a
/// terminator and a root directory with `files`, each given as its
/// extents (block, size); more than one makes a multi-extent file.
fn minimal_iso(blocks: u32, files: &[(&str, Vec<(u32, u32)>)]) -> Vec<u8> {
    fn both32(v: u32) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&v.to_le_bytes());
        b[4..].copy_from_slice(&v.to_be_bytes());
        b
    }
    fn record(name: &[u8], extent: u32, size: u32, flags: u8) -> Vec<u8> {
        let mut r = vec![0u8; 33];
        r[2..10].copy_from_slice(&both32(extent));
        r[10..18].copy_from_slice(&both32(size));
        r[18..25].copy_from_slice(&[101, 2, 3, 4, 5, 6, 0]);
        r[25] = flags;
        r[28..32].copy_from_slice(&[1, 0, 0, 1]);
        r[32] = name.len() as u8;
        r.extend_from_slice(name);
        if r.len() % 2 == 1 {
            r.push(0);
        }
        r[0] = r.len() as u8;
        r
    }
    const ROOT: u32 = 20;
    let mut img = vec![0u8; blocks as usize * 2048];
    let pvd = &mut img[16 * 2048..17 * 2048];
    pvd[0] = 1;
    pvd[1..7].copy_from_slice(b"CD001\x01");
    pvd[80..88].copy_from_slice(&both32(blocks));
    pvd[120..124].copy_from_slice(&[1, 0, 0, 1]);
    pvd[124..128].copy_from_slice(&[1, 0, 0, 1]);
    pvd[128..132].copy_from_slice(&[0, 8, 8, 0]);
    pvd[156..190].copy_from_slice(&record(b"\0", ROOT, 2048, 2));
    pvd[881] = 1;
    img[17 * 2048] = 255;
    img[17 * 2048 + 1..17 * 2048 + 7].copy_from_slice(b"CD001\x01");
    let mut dir = [record(b"\0", ROOT, 2048, 2), record(b"\x01", ROOT, 2048, 2)].concat();
    for (name, extents) in files {
        let n = format!("{name};1");
        for (i, (block, size)) in extents.iter().enumerate() {
            let last = i + 1 == extents.len();
            dir.extend(record(
                n.as_bytes(),
                *block,
                *size,
                if last { 0 } else { 0x80 },
            ));
        }
    }
    img[ROOT as usize * 2048..ROOT as usize * 2048 + dir.len()].copy_from_slice(&dir);
    img
}

#[test]
fn a_multi_extent_file() {
    let s = Scratch::new();
    // BIG.DAT in three extents out of order on the disc; block b holds
    // the byte b.
    let mut img = minimal_iso(
        64,
        &[
            ("BIG.DAT", vec![(40, 4096), (30, 2048), (50, 1000)]),
            ("SMALL.TXT", vec![(60, 6)]),
        ],
    );
    for b in 21..64usize {
        img[b * 2048..(b + 1) * 2048].fill(b as u8);
    }
    img[60 * 2048..60 * 2048 + 6].copy_from_slice(b"small\n");
    let path = s.path().join("multi.iso");
    std::fs::write(&path, &img).unwrap();
    let want = [
        vec![40u8; 2048],
        vec![41; 2048],
        vec![30; 2048],
        vec![50; 1000],
    ]
    .concat();

    // The image is what the standard says: xorriso reads it back so.
    let out = s.path().join("big.out");
    let o = run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&path)
        .args(["-extract", "/BIG.DAT"])
        .arg(&out));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), want);

    let srv = serve(&s, &path, &[]);
    let c = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0).unwrap();
    assert_eq!(
        listed(&c, b"/mnt"),
        [&b"big.dat"[..], b"small.txt"]
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    );
    let st = c.stat(b"/mnt/big.dat").unwrap();
    assert_eq!(
        (st.size, st.blocks),
        (want.len() as i64, want.len() as i64 / 512)
    );
    assert_eq!(st.ino, 20 * 2048 + 68, "the first record's address");
    assert_eq!(read_all(&c, b"/mnt/big.dat"), want);
    let fd = c.open(b"/mnt/big.dat", O_RDONLY, 0).unwrap();
    let mut b = vec![0u8; 300];
    assert_eq!(c.pread(fd, &mut b, 4000).unwrap(), 300);
    assert_eq!(
        b,
        [vec![41u8; 96], vec![30; 204]].concat(),
        "across extents"
    );
    assert_eq!(read_all(&c, b"/mnt/small.txt"), b"small\n");
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

/// Lists, stats, reads and follows what a mount shows, boundedly.
fn walk(c: &Client, dir: &[u8], depth: usize, budget: &mut usize) {
    let Ok(entries) = c.read_dir(dir) else {
        return;
    };
    for e in entries {
        if *budget == 0 || e.name == b"." || e.name == b".." || e.name.contains(&b'/') {
            continue;
        }
        *budget -= 1;
        let p = [dir, b"/", &e.name].concat();
        let Ok(st) = c.lstat(&p) else {
            continue;
        };
        match st.mode & S_IFMT {
            S_IFDIR if depth > 0 => walk(c, &p, depth - 1, budget),
            S_IFREG => {
                if let Ok(fd) = c.open(&p, O_RDONLY, 0) {
                    let mut b = vec![0u8; 8192];
                    let _ = c.pread(fd, &mut b, 0);
                    let _ = c.close(fd);
                }
            }
            S_IFLNK => {
                let _ = c.readlink(&p);
            }
            _ => {}
        }
    }
}

#[test]
fn corrupted_images_never_hurt_the_server() {
    let s = Scratch::new();
    let tree = s.path().join("tree");
    for (p, d) in [
        ("a.txt", &b"alpha\n"[..]),
        ("dir/b.txt", b"beta\n"),
        ("dir/sub/c.txt", b"gamma\n"),
        ("a-longer-name-that-rock-ridge-keeps-whole.txt", b"long\n"),
    ] {
        let path = tree.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, d).unwrap();
    }
    std::os::unix::fs::symlink("dir/sub/c.txt", tree.join("link")).unwrap();
    let good_path = s.path().join("good.iso");
    xorriso(&["-R", "-J", "-no-pad"], &good_path, &tree);
    let good = std::fs::read(&good_path).unwrap();
    // Truncated copies, each its own device.
    let mut more = Vec::new();
    for (i, len) in [17 * 2048, 19 * 2048, good.len() / 2, good.len() - 2048]
        .into_iter()
        .enumerate()
    {
        let p = s.path().join(format!("cut{i}.iso"));
        std::fs::write(&p, &good[..len]).unwrap();
        more.push(format!(
            "key=/dev/cut{i},hostpath={},size=host",
            p.display()
        ));
    }
    let work = s.path().join("work.iso");
    std::fs::write(&work, &good).unwrap();
    let log = s.path().join("server.log");
    let srv = serve_logging(
        &s,
        &work,
        &more,
        std::fs::File::create(&log).unwrap().into(),
    );
    let c = srv.client();
    let bystander = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    for i in 0..4 {
        let dev = format!("/dev/cut{i}");
        if mount(&c, dev.as_bytes(), b"/mnt", MNT_RDONLY, 0).is_ok() {
            walk(&c, b"/mnt", 8, &mut 200);
            c.unmount(b"/mnt", 0).unwrap();
        }
    }

    let started = Instant::now();
    let dev = c.open(b"/dev/cd", O_RDWR, 0).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut mounted, rounds) = (0, 300);
    // What matters is in the descriptors, path tables and directories.
    let hot = 16 * 2048..good.len().min(40 * 2048);
    for round in 0..rounds {
        let mut img = good.clone();
        for _ in 0..1 + rng.below(6) {
            let at = hot.start + rng.below(hot.len());
            img[at] = match rng.below(3) {
                0 => 0,
                1 => img[at] ^ (1 << rng.below(8)),
                _ => rng.next() as u8,
            };
        }
        c.pwrite(dev, &img, 0).unwrap();
        let flags = [0, ISOFSMNT_NORRIP, ISOFSMNT_GENS, ISOFSMNT_EXTATT][round % 4];
        if mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, flags).is_ok() {
            mounted += 1;
            walk(&c, b"/mnt", 12, &mut 100);
            c.unmount(b"/mnt", 0).unwrap();
        }
        if round % 50 == 0 {
            assert!(
                bystander.getpid().is_ok(),
                "the server answers another client"
            );
        }
    }
    assert!(
        mounted > rounds / 3,
        "{mounted} of {rounds} corrupted images mounted"
    );
    // The good image still mounts and reads back.
    c.pwrite(dev, &good, 0).unwrap();
    c.close(dev).unwrap();
    mount(&c, b"/dev/cd", b"/mnt", MNT_RDONLY, 0).unwrap();
    assert_eq!(read_all(&bystander, b"/mnt/link"), b"gamma\n");
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.contains("panicked"), "{log}");
}
