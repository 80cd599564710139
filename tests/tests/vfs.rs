//! The VFS faction: the root file system, etfs (-d), modules (-m,
//! modload, modunload), mount and unmount rules, several clients at once,
//! and what happens without the VFS.

use netbsd_abi::fcntl::*;
use netbsd_abi::ioctl::DIOCGMEDIASIZE;
use netbsd_abi::mount::{TmpfsArgs, MNT_FORCE, MNT_RDONLY, MNT_UPDATE};
use netbsd_abi::stat::*;
use rump_tests::*;
use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

fn vfs() -> String {
    plugin("rumpvfs").display().to_string()
}

fn tmpfs() -> String {
    plugin("rumpfs_tmpfs").display().to_string()
}

fn start(s: &Scratch, args: &[&str]) -> Server {
    Server::start("rump_server", args, &s.url("sock"))
}

fn tmpfs_args() -> Vec<u8> {
    TmpfsArgs {
        version: 1,
        root_mode: 0o755,
        ..Default::default()
    }
    .encode()
    .to_vec()
}

#[test]
fn the_root_file_system() {
    let s = Scratch::new();
    let srv = start(&s, &["-l", &vfs()]);
    let c = srv.client();
    assert_eq!(c.stat(b"/").unwrap().mode, S_IFDIR | 0o755);
    assert_eq!(c.stat(b"/dev").unwrap().mode, S_IFDIR | 0o755);
    assert_eq!(c.stat(b"/tmp").unwrap().mode, S_IFDIR | 0o1777);
    let null = c.stat(b"/dev/null").unwrap();
    assert_eq!((null.mode, null.rdev), (S_IFCHR | 0o644, 0x202));
    assert_eq!(c.stat(b"/dev/zero").unwrap().rdev, 0x20c);
    let names: Vec<Vec<u8>> = c
        .read_dir(b"/")
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(
        names,
        [b"tmp".to_vec(), b"dev".to_vec()],
        "no dot entries, newest first"
    );
    let st = c.statvfs(b"/").unwrap();
    assert_eq!(
        (
            st.flag,
            st.bsize,
            st.fstypename.as_str(),
            st.mntonname.as_str()
        ),
        (0x5000, 512, "rumpfs", "/")
    );
    let fd = c.open(b"/dev/zero", O_RDONLY, 0).unwrap();
    let mut b = [1u8; 64];
    assert_eq!(c.read(fd, &mut b).unwrap(), 64);
    assert_eq!(b, [0u8; 64]);
    let nfd = c.open(b"/dev/null", O_RDWR, 0).unwrap();
    assert_eq!(c.write(nfd, b"gone").unwrap(), 4);
    assert_eq!(c.read(nfd, &mut b).unwrap(), 0);
    c.mkdir(b"/x", 0o755).unwrap();
    assert_eq!(
        c.rename(b"/x", b"/y").unwrap_err(),
        Errno::EOPNOTSUPP,
        "rumpfs cannot rename"
    );
    assert_eq!(c.unmount(b"/", 0).unwrap_err(), Errno::EINVAL);
    assert_eq!(c.getcwd().unwrap(), b"/");
}

#[test]
fn block_character_and_regular_keys() {
    let s = Scratch::new();
    let img = s.path().join("disk.img");
    let reg = s.path().join("file.txt");
    std::fs::write(&reg, b"host file contents").unwrap();
    let srv = start(
        &s,
        &[
            "-l",
            &vfs(),
            "-d",
            &format!("key=/dev/dk,hostpath={},size=1m,offset=4k", img.display()),
            "-d",
            &format!("key=/dev/rdk,hostpath={},size=host,type=chr", reg.display()),
            "-d",
            &format!("key=/etc/file,hostpath={},type=reg", reg.display()),
        ],
    );
    let meta = std::fs::metadata(&img).unwrap();
    assert_eq!(
        meta.len(),
        (1 << 20) + 4096,
        "created and extended to offset+size"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o644 & !0o022);
    let c = srv.client();
    let st = c.stat(b"/dev/dk").unwrap();
    assert_eq!(
        (st.mode, st.size, st.rdev),
        (S_IFBLK | 0o755, 1 << 20, 0xc500)
    );
    assert_eq!(c.stat(b"/dev/rdk").unwrap().rdev, 0xc501);
    let fd = c.open(b"/dev/dk", O_RDWR, 0).unwrap();
    let mut size = [0u8; 8];
    c.ioctl(fd, DIOCGMEDIASIZE, &mut size).unwrap();
    assert_eq!(u64::from_le_bytes(size), 1 << 20);
    c.pwrite(fd, b"sector zero", 0).unwrap();
    c.fsync(fd).unwrap();
    let host = std::fs::read(&img).unwrap();
    assert_eq!(
        &host[4096..4107],
        b"sector zero",
        "the window starts at the offset"
    );
    let mut big = vec![0u8; 128 << 10];
    c.lseek(fd, (1 << 20) - 1000, SEEK_SET).unwrap();
    assert_eq!(
        c.read(fd, &mut big).unwrap(),
        1000,
        "a read past the end is short"
    );
    c.close(fd).unwrap();
    let rfd = c.open(b"/dev/rdk", O_RDONLY, 0).unwrap();
    let mut odd = [0u8; 100];
    assert_eq!(
        c.read(rfd, &mut odd).unwrap_err(),
        Errno::EINVAL,
        "raw devices want whole sectors"
    );
    c.close(rfd).unwrap();
    let ffd = c.open(b"/etc/file", O_RDWR, 0).unwrap();
    let mut buf = [0u8; 64];
    let n = c.read(ffd, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"host file contents");
    c.pwrite(ffd, b"HOST", 0).unwrap();
    c.close(ffd).unwrap();
    assert_eq!(std::fs::read(&reg).unwrap(), b"HOST file contents");
    assert_eq!(
        c.stat(b"/etc/file").unwrap().size,
        18,
        "a reg key without a size follows the host file"
    );
    assert_eq!(
        c.stat(b"/etc").unwrap_err(),
        Errno::ENOENT,
        "keys are not directories"
    );
    assert!(
        !c.read_dir(b"/dev").unwrap().iter().any(|d| d.name == b"dk"),
        "keys are not listed"
    );
    assert_eq!(
        c.unlink(b"/dev/dk").unwrap_err(),
        Errno::ENOENT,
        "removal bypasses keys"
    );
}

#[test]
fn drive_errors() {
    let s = Scratch::new();
    let run_d = |spec: String| {
        let mut c = server_cmd("rump_server");
        c.args(["-s", "-l", &vfs(), "-d", &spec, &s.url("sock")]);
        run(&mut c)
    };
    let missing = s.path().join("missing");
    let o = run_d(format!("key=/dk,hostpath={},size=host", missing.display()));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "etfs hostpath open: No such file or directory\n"
    );
    let empty = s.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let o = run_d(format!("key=/dk,hostpath={},size=host", empty.display()));
    assert_eq!(
        text(&o.stderr),
        "size=host, but cannot query non-zero size: Invalid argument\n"
    );
    let o = run_d(format!("key=nokey,hostpath={},size=1m", empty.display()));
    assert_eq!(text(&o.stderr), "etfs register: Invalid argument\n");
    let o = run_d(format!("key=/dk,hostpath={},disklabel=a", empty.display()));
    assert_eq!(
        text(&o.stderr),
        "disklabel not found: No such file or directory\n"
    );
    let mut c = server_cmd("rump_server");
    let spec = format!("key=/dk,hostpath={},size=1m", empty.display());
    c.args(["-s", "-l", &vfs(), "-d", &spec, "-d", &spec, &s.url("sock")]);
    let o = run(&mut c);
    assert_eq!(text(&o.stderr), "etfs register: File exists\n");
    let mut c = server_cmd("rump_server");
    c.args([
        "-l",
        &vfs(),
        "-d",
        &format!("key=/dk,hostpath={},size=host", missing.display()),
        &s.url("sock"),
    ]);
    assert_eq!(
        run(&mut c).status.code(),
        Some(2),
        "detached, the parent exits with the errno"
    );
}

#[test]
fn a_disklabel_partition_becomes_the_window() {
    let s = Scratch::new();
    let img = s.path().join("labelled.img");
    let mut data = vec![0u8; 1 << 20];
    // A BSD disklabel at sector 1: partition a = 200 sectors at 64.
    let mut l = vec![0u8; 504];
    let put32 = |l: &mut Vec<u8>, o: usize, v: u32| l[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put32(&mut l, 0, 0x8256_4557);
    put32(&mut l, 132, 0x8256_4557);
    l[138..140].copy_from_slice(&1u16.to_le_bytes());
    put32(&mut l, 148, 200);
    put32(&mut l, 152, 64);
    let sum = l[..164]
        .chunks_exact(2)
        .fold(0u16, |a, w| a ^ u16::from_le_bytes([w[0], w[1]]));
    l[136..138].copy_from_slice(&sum.to_le_bytes());
    data[512..1016].copy_from_slice(&l);
    data[64 * 512..64 * 512 + 5].copy_from_slice(b"part!");
    std::fs::write(&img, &data).unwrap();
    let srv = start(
        &s,
        &[
            "-l",
            &vfs(),
            "-d",
            &format!("key=/dev/a,hostpath={},disklabel=a", img.display()),
        ],
    );
    let c = srv.client();
    assert_eq!(c.stat(b"/dev/a").unwrap().size, 200 * 512);
    let fd = c.open(b"/dev/a", O_RDONLY, 0).unwrap();
    let mut b = [0u8; 5];
    c.read(fd, &mut b).unwrap();
    assert_eq!(&b, b"part!");
}

/// The man page's `rump_server -lrumpvfs -m /modules/tmpfs.kmod
/// unix://sock`, then a tmpfs mount; unloading refuses while mounted.
#[test]
fn tmpfs_as_a_module() {
    let s = Scratch::new();
    let kmod = kmod("tmpfs");
    let mut cmd = server_cmd("rump_server");
    cmd.env("RUMP_PLUGIN_DIR", artifacts());
    let srv = Server::start_cmd(
        cmd,
        &["-l", &vfs(), "-m", kmod.to_str().unwrap()],
        &s.url("sock"),
    );
    let c = srv.client();
    let m = c.modstat().unwrap();
    let t = m.iter().find(|m| m.name == "tmpfs").expect("tmpfs loaded");
    assert_eq!(
        (t.source, t.class, t.required.as_str()),
        (2, 2, "rumpvfs"),
        "from the file system, a vfs module"
    );
    c.mkdir(b"/mnt", 0o755).unwrap();
    c.mount(b"tmpfs", b"/mnt", 0, &mut tmpfs_args()).unwrap();
    assert_eq!(
        c.modstat()
            .unwrap()
            .iter()
            .find(|m| m.name == "tmpfs")
            .unwrap()
            .refcnt,
        1
    );
    assert_eq!(c.modunload(b"tmpfs").unwrap_err(), Errno::EBUSY);
    c.unmount(b"/mnt", 0).unwrap();
    c.modunload(b"tmpfs").unwrap();
    assert!(!c.modstat().unwrap().iter().any(|m| m.name == "tmpfs"));
    assert_eq!(
        c.mount(b"tmpfs", b"/mnt", 0, &mut tmpfs_args())
            .unwrap_err(),
        Errno::ENODEV
    );
    assert_eq!(
        c.modunload(b"rumpkern").unwrap_err(),
        Errno::EBUSY,
        "built-in components stay"
    );
    // Loading by name looks for <name>.kmod in the plugin directory.
    c.modload(b"tmpfs", 0).unwrap();
    c.mount(b"tmpfs", b"/mnt", 0, &mut tmpfs_args()).unwrap();
    assert_eq!(c.modload(b"tmpfs", 0).unwrap_err(), Errno::EEXIST);
    let junk = c.open(b"/junk.kmod", O_WRONLY | O_CREAT, 0o644).unwrap();
    c.write(junk, b"not an object file").unwrap();
    c.close(junk).unwrap();
    assert_eq!(
        c.modload(b"/junk.kmod", 0).unwrap_err(),
        Errno::ENOEXEC,
        "not a module"
    );
    assert_eq!(
        c.modload(b"/nonexistent.kmod", 0).unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn every_module_given_is_loaded() {
    let s = Scratch::new();
    let hello = s.path().join("hello.kmod");
    std::fs::copy(plugin("hello_component"), &hello).unwrap();
    let kmod = kmod("tmpfs");
    let srv = start(
        &s,
        &[
            "-l",
            &vfs(),
            "-m",
            kmod.to_str().unwrap(),
            "-m",
            hello.to_str().unwrap(),
        ],
    );
    let names: Vec<String> = srv
        .client()
        .modstat()
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(
        names.contains(&"tmpfs".to_string()) && names.contains(&"hello".to_string()),
        "{names:?}"
    );
}

#[test]
fn without_the_vfs() {
    let s = Scratch::new();
    let o = run(server_cmd("rump_server").env("LD_BIND_NOW", "1").args([
        "-l",
        &tmpfs(),
        &s.url("sock"),
    ]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("tmpfs 0.1.0 requires rumpvfs ^0.1, which is not loaded"),
        "{}",
        text(&o.stderr)
    );
    assert!(!s.path().join("sock").exists());
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(Stdio::piped());
    let mut srv = Server::start_cmd(cmd, &["-l", &tmpfs()], &s.url("sock"));
    let c = srv.client();
    assert_eq!(
        c.mount(b"tmpfs", b"/mnt", 0, &mut tmpfs_args())
            .unwrap_err(),
        Errno::ENOSYS
    );
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
        err.contains("syscall __mount50 (410) needs the VFS faction"),
        "{err}"
    );
    assert!(
        err.contains("tmpfs 0.1.0 requires rumpvfs ^0.1, which is not loaded"),
        "{err}"
    );
}

#[test]
fn mount_and_unmount_rules() {
    let s = Scratch::new();
    let srv = start(&s, &["-l", &vfs(), "-l", &tmpfs()]);
    let c = srv.client();
    c.mkdir(b"/a", 0o755).unwrap();
    c.mkdir(b"/b", 0o755).unwrap();
    c.mount(b"tmpfs", b"/a", 0, &mut tmpfs_args()).unwrap();
    c.mount(b"tmpfs", b"/b", 0, &mut tmpfs_args()).unwrap();
    assert_ne!(c.stat(b"/a").unwrap().dev, c.stat(b"/b").unwrap().dev);
    let all = c.getvfsstat().unwrap();
    let ons: Vec<&str> = all.iter().map(|m| m.mntonname.as_str()).collect();
    assert_eq!(ons, ["/", "/a", "/b"]);
    let fd = c.open(b"/a/f", O_RDWR | O_CREAT, 0o644).unwrap();
    assert_eq!(
        c.unmount(b"/a", 0).unwrap_err(),
        Errno::EBUSY,
        "a file is open"
    );
    assert_eq!(c.rmdir(b"/a").unwrap_err(), Errno::EBUSY, "a mount point");
    assert_eq!(c.rename(b"/a/f", b"/b/f").unwrap_err(), Errno::EXDEV);
    assert_eq!(c.link(b"/a/f", b"/b/f").unwrap_err(), Errno::EXDEV);
    assert_eq!(
        c.rename(b"/a/f", b"/f").unwrap_err(),
        Errno::EOPNOTSUPP,
        "into rumpfs"
    );
    assert_eq!(
        c.unmount(b"/a/f", 0).unwrap_err(),
        Errno::EINVAL,
        "not a mount point"
    );
    c.close(fd).unwrap();
    c.chdir(b"/b").unwrap();
    assert_eq!(
        c.unmount(b"/b", 0).unwrap_err(),
        Errno::EBUSY,
        "a working directory"
    );
    c.unmount(b"/b", MNT_FORCE).unwrap();
    c.chdir(b"/").unwrap();
    // Read-only, and back.
    c.mount(b"tmpfs", b"/a", MNT_UPDATE | MNT_RDONLY, &mut tmpfs_args())
        .unwrap();
    assert_eq!(
        c.open(b"/a/new", O_RDWR | O_CREAT, 0o644).unwrap_err(),
        Errno::EROFS
    );
    assert_eq!(c.open(b"/a/f", O_RDWR, 0).unwrap_err(), Errno::EROFS);
    assert_eq!(c.mkdir(b"/a/d", 0o755).unwrap_err(), Errno::EROFS);
    let ro = c.open(b"/a/f", O_RDONLY, 0).unwrap();
    c.close(ro).unwrap();
    assert_eq!(c.statvfs(b"/a").unwrap().flag & 1, 1, "MNT_RDONLY shows");
    c.mount(b"tmpfs", b"/a", MNT_UPDATE, &mut tmpfs_args())
        .unwrap();
    assert!(c.mkdir(b"/a/d", 0o755).is_ok());
    c.unmount(b"/a", 0).unwrap();
    assert_eq!(
        c.stat(b"/a/f").unwrap_err(),
        Errno::ENOENT,
        "the directory underneath shows again"
    );
}

#[test]
fn several_clients_share_files() {
    let s = Scratch::new();
    let srv = start(&s, &["-l", &vfs(), "-l", &tmpfs(), "-c", "2"]);
    let c = srv.client();
    c.mkdir(b"/m", 0o755).unwrap();
    c.mount(b"tmpfs", b"/m", 0, &mut tmpfs_args()).unwrap();
    let fd = c.open(b"/m/log", O_WRONLY | O_CREAT, 0o644).unwrap();
    c.close(fd).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let url = srv.url.clone();
            std::thread::spawn(move || {
                let c = Client::connect(&url, "worker").unwrap();
                let dir = format!("/m/w{i}");
                c.mkdir(dir.as_bytes(), 0o755).unwrap();
                c.chdir(dir.as_bytes()).unwrap();
                let log = c.open(b"/m/log", O_WRONLY | O_APPEND, 0).unwrap();
                for j in 0..50 {
                    let name = format!("f{j}");
                    let fd = c.open(name.as_bytes(), O_RDWR | O_CREAT, 0o644).unwrap();
                    c.write(fd, format!("{i}:{j}").as_bytes()).unwrap();
                    c.close(fd).unwrap();
                    c.write(log, &[b'0' + i as u8; 10]).unwrap();
                }
                assert_eq!(c.getcwd().unwrap(), dir.as_bytes());
                c.read_dir(b".").unwrap().len()
            })
        })
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), 52);
    }
    assert_eq!(
        c.stat(b"/m/log").unwrap().size,
        4 * 50 * 10,
        "appends never overwrite each other"
    );
    let fd = c.open(b"/m/w3/f49", O_RDONLY, 0).unwrap();
    let mut b = [0u8; 8];
    let n = c.read(fd, &mut b).unwrap();
    assert_eq!(&b[..n], b"3:49");
}

#[test]
fn the_module_tools() {
    let s = Scratch::new();
    let mut cmd = server_cmd("rump_server");
    cmd.env("RUMP_PLUGIN_DIR", artifacts());
    let srv = Server::start_cmd(cmd, &["-l", &vfs()], &s.url("sock"));
    let url = s.url("sock");
    let tool = |name: &str, args: &[&str]| run(s.tool(name, &url).args(args));
    let listed = || text(&tool("modstat", &[]).stdout).contains("tmpfs");

    let out = tool("modload", &["tmpfs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed(), "modstat lists the loaded module");
    let out = tool("modload", &["tmpfs"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "rump.modload: tmpfs: File exists\n");

    let c = srv.client();
    c.mkdir(b"/mnt", 0o755).unwrap();
    c.mount(b"tmpfs", b"/mnt", 0, &mut tmpfs_args()).unwrap();
    let out = tool("modunload", &["tmpfs"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "rump.modunload: tmpfs: Device busy\n");
    c.unmount(b"/mnt", 0).unwrap();
    let out = tool("modunload", &["tmpfs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!listed(), "modstat no longer lists it");

    // A module file inside the kernel's file systems, by path.
    let kmod = std::fs::read(kmod("tmpfs")).unwrap();
    let fd = c.open(b"/tmp/t.kmod", O_WRONLY | O_CREAT, 0o644).unwrap();
    c.write(fd, &kmod).unwrap();
    c.close(fd).unwrap();
    let out = tool("modload", &["-f", "/tmp/t.kmod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed());

    // Every file system is also a module of its own name.
    for m in ["ffs", "ext2fs", "msdos", "cd9660"] {
        let out = tool("modload", &[m]);
        assert!(out.status.success(), "{m}: {}", text(&out.stderr));
    }
    let listed = text(&tool("modstat", &[]).stdout);
    for m in ["ffs", "ext2fs", "msdos", "cd9660"] {
        assert!(listed.contains(&format!("\n{m} ")), "{m} in {listed}");
    }

    let out = tool("modload", &["/nonexistent.kmod"]);
    assert_eq!(
        text(&out.stderr),
        "rump.modload: /nonexistent.kmod: No such file or directory\n"
    );
    for (t, args) in [
        ("modload", &[][..]),
        ("modunload", &["a", "b"][..]),
        ("modload", &["-x", "m"][..]),
    ] {
        let out = tool(t, args);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("usage:"), "{t} {args:?}");
    }
}

fn memused(c: &Client) -> u64 {
    let vm = c.sysctl_query(&[2]).unwrap();
    let n = vm.iter().find(|n| n.name == "memused").unwrap().num;
    let mut q = [0u8; 8];
    c.sysctl(&[2, n], Some(&mut q), None).result.unwrap();
    u64::from_le_bytes(q)
}

/// Block devices go through the buffer cache: writes are held back until
/// a sync, an fsync of the device or a halt, the cache stays inside the
/// `-r` limit, and nothing written is lost.
#[test]
fn the_buffer_cache_writes_back_and_stays_in_its_budget() {
    let s = Scratch::new();
    let img = s.path().join("disk.img");
    let srv = start(
        &s,
        &[
            "-l",
            &vfs(),
            "-r",
            "8m",
            "-d",
            &format!("key=/dev/dk,hostpath={},size=48m", img.display()),
        ],
    );
    let c = srv.client();
    let fd = c.open(b"/dev/dk", O_RDWR, 0).unwrap();
    c.pwrite(fd, b"held back", 4096).unwrap();
    assert_eq!(
        &std::fs::read(&img).unwrap()[4096..4105],
        &[0; 9],
        "not written through"
    );
    assert_eq!(
        c.pread(fd, &mut [0u8; 9], 4096).unwrap(),
        9,
        "but read back from the cache"
    );
    c.sync().unwrap();
    assert_eq!(&std::fs::read(&img).unwrap()[4096..4105], b"held back");

    // 40 MiB through an 8 MiB kernel: the cache writes behind.
    let block: Vec<u8> = (0..1 << 20).map(|i| (i % 249) as u8).collect();
    let base = memused(&c);
    let mut peak = 0;
    for i in 0..40i64 {
        c.pwrite(fd, &block, (i + 1) << 20).unwrap();
        peak = peak.max(memused(&c));
    }
    assert!(peak <= 8 << 20, "inside -r 8m (peak {peak})");
    assert!(peak - base <= 1 << 20, "an eighth of the limit at most");
    let mut back = vec![0u8; 1 << 20];
    c.pread(fd, &mut back, 17 << 20).unwrap();
    assert!(back == block);
    c.close(fd).unwrap();

    // The last writes reach the image when the kernel halts.
    let fd = c.open(b"/dev/dk", O_WRONLY, 0).unwrap();
    c.pwrite(fd, b"at halt", 0).unwrap();
    let mut srv = srv;
    let _ = c.reboot(0);
    srv.wait_exit(Duration::from_secs(10)).expect("halted");
    let host = std::fs::read(&img).unwrap();
    assert_eq!(&host[..7], b"at halt");
    for i in 0..40 {
        let at = ((i + 1) << 20) as usize;
        assert!(
            host[at..at + (1 << 20)] == block[..],
            "MiB {i} on the image"
        );
    }
}
