//! tmpfs: the POSIX suite on a tmpfs mount, and what is particular to
//! tmpfs (its arguments, its limits, its statvfs).

use netbsd_abi::fcntl::*;
use netbsd_abi::mount::{TmpfsArgs, MNT_GETARGS};
use rump_tests::posix::{Caps, Fs};
use rump_tests::*;

/// A server with the VFS and tmpfs, and a client.
pub struct Setup {
    pub scratch: Scratch,
    pub server: Server,
    pub client: Client,
}

pub fn server(extra: &[&str]) -> Setup {
    let scratch = Scratch::new();
    let (vfs, tmpfs) = (plugin("rumpvfs"), plugin("rumpfs_tmpfs"));
    let mut args = vec!["-l", vfs.to_str().unwrap(), "-l", tmpfs.to_str().unwrap()];
    args.extend_from_slice(extra);
    let server = Server::start("rump_server", &args, &scratch.url("sock"));
    let client = server.client();
    Setup {
        scratch,
        server,
        client,
    }
}

fn tmpfs_args(nodes: u64, size: i64, mode: u32) -> Vec<u8> {
    TmpfsArgs {
        version: 1,
        nodes_max: nodes,
        size_max: size,
        root_mode: mode,
        ..Default::default()
    }
    .encode()
    .to_vec()
}

/// Mounts a tmpfs on `at` (created first).
pub fn mount_tmpfs(c: &Client, at: &[u8], nodes: u64, size: i64) {
    let _ = c.mkdir(at, 0o755);
    let mut args = tmpfs_args(nodes, size, 0o1777);
    c.mount(b"tmpfs", at, 0, &mut args).expect("mount tmpfs");
}

fn posix_setup() -> (Setup, Fs) {
    let s = server(&[]);
    mount_tmpfs(&s.client, b"/mnt", 0, 0);
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
fn mount_arguments_are_checked() {
    let s = server(&[]);
    let c = &s.client;
    c.mkdir(b"/m", 0o755).unwrap();
    let mut bad = TmpfsArgs {
        version: 2,
        ..Default::default()
    }
    .encode()
    .to_vec();
    assert_eq!(
        c.mount(b"tmpfs", b"/m", 0, &mut bad).unwrap_err(),
        Errno::EINVAL
    );
    let mut short = tmpfs_args(0, 0, 0o755)[..16].to_vec();
    assert_eq!(
        c.mount(b"tmpfs", b"/m", 0, &mut short).unwrap_err(),
        Errno::EINVAL
    );
    let mut uid = TmpfsArgs {
        version: 1,
        root_uid: u32::MAX,
        ..Default::default()
    }
    .encode()
    .to_vec();
    assert_eq!(
        c.mount(b"tmpfs", b"/m", 0, &mut uid).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        c.mount(b"nosuchfs", b"/m", 0, &mut tmpfs_args(0, 0, 0))
            .unwrap_err(),
        Errno::ENODEV
    );
    assert_eq!(
        c.mount(b"tmpfs", b"/nowhere", 0, &mut tmpfs_args(0, 0, 0))
            .unwrap_err(),
        Errno::ENOENT
    );
    let mut ok = tmpfs_args(100, 1 << 20, 0o1777);
    c.mount(b"tmpfs", b"/m", 0, &mut ok).unwrap();
    let st = c.statvfs(b"/m").unwrap();
    assert_eq!(
        (st.bsize, st.blocks, st.bfree, st.files, st.ffree),
        (4096, 256, 255, 100, 99)
    );
    assert_eq!(
        (
            st.fstypename.as_str(),
            st.mntonname.as_str(),
            st.mntfromname.as_str()
        ),
        ("tmpfs", "/m", "tmpfs")
    );
    assert_eq!(st.flag, 0x1000, "MNT_LOCAL");
    assert_eq!(
        c.stat(b"/m").unwrap().mode,
        0o041777,
        "the root takes the mode of the arguments"
    );
    let mut back = TmpfsArgs {
        version: 1,
        ..Default::default()
    }
    .encode()
    .to_vec();
    let n = c.mount(b"tmpfs", b"/m", MNT_GETARGS, &mut back).unwrap();
    assert_eq!(n, 40);
    let got = TmpfsArgs::decode(&back);
    assert_eq!((got.nodes_max, got.size_max), (100, 1 << 20));
    assert_eq!(
        c.mount(b"tmpfs", b"/m", 0, &mut ok).unwrap_err(),
        Errno::EBUSY,
        "already mounted there"
    );
}

#[test]
fn a_full_file_system_says_enospc_and_recovers() {
    let s = server(&[]);
    let c = &s.client;
    mount_tmpfs(c, b"/small", 20, 64 << 10);
    let fd = c.open(b"/small/big", O_WRONLY | O_CREAT, 0o644).unwrap();
    let chunk = vec![1u8; 8192];
    let mut written = 0;
    let err = loop {
        match c.write(fd, &chunk) {
            Ok(n) if n == chunk.len() => written += n,
            Ok(n) => written += n,
            Err(e) => break e,
        }
        assert!(written <= 64 << 10, "the size limit holds");
    };
    assert_eq!(err, Errno::ENOSPC);
    c.close(fd).unwrap();
    let size = c.stat(b"/small/big").unwrap().size as usize;
    assert_eq!(size, written, "nothing half-written is counted");
    let mut made = 0;
    let err = loop {
        match c.open(
            format!("/small/n{made}").as_bytes(),
            O_WRONLY | O_CREAT,
            0o644,
        ) {
            Ok(fd) => {
                c.close(fd).unwrap();
                made += 1;
            }
            Err(e) => break e,
        }
        assert!(made <= 20);
    };
    assert_eq!(err, Errno::ENOSPC, "nodes run out");
    c.unlink(b"/small/big").unwrap();
    let fd = c.open(b"/small/again", O_WRONLY | O_CREAT, 0o644);
    assert!(fd.is_ok(), "space comes back after a removal");
}

#[test]
fn the_memory_limit_bounds_tmpfs() {
    let s = server(&["-r", "8m"]);
    let c = &s.client;
    mount_tmpfs(c, b"/m", 0, 0);
    let fd = c.open(b"/m/f", O_WRONLY | O_CREAT, 0o644).unwrap();
    let chunk = vec![7u8; 1 << 20];
    let mut total = 0usize;
    let err = loop {
        match c.write(fd, &chunk) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
        assert!(total <= 8 << 20, "-r 8m holds");
    };
    assert_eq!(err, Errno::ENOSPC);
    assert!(
        total >= 4 << 20,
        "most of the limit is usable ({total} bytes)"
    );
    c.close(fd).unwrap();
    assert!(c.getpid().is_ok(), "the server is alive");
    c.unlink(b"/m/f").unwrap();
    let mut q = [0u8; 8];
    let used = {
        let vm = c.sysctl_query(&[2]).unwrap();
        let n = vm.iter().find(|n| n.name == "memused").unwrap().num;
        c.sysctl(&[2, n], Some(&mut q), None).result.unwrap();
        u64::from_le_bytes(q)
    };
    assert!(
        used < 1 << 20,
        "freed memory is returned ({used} bytes charged)"
    );
}

#[test]
fn a_hundred_thousand_entries() {
    let s = server(&[]);
    let c = &s.client;
    mount_tmpfs(c, b"/m", 0, 0);
    c.mkdir(b"/m/d", 0o755).unwrap();
    for i in 0..100_000 {
        c.mknod(
            format!("/m/d/f{i}").as_bytes(),
            netbsd_abi::stat::S_IFREG | 0o644,
            0,
        )
        .unwrap();
    }
    assert!(c.stat(b"/m/d/f99999").is_ok());
    let names = c.read_dir(b"/m/d").unwrap();
    assert_eq!(names.len(), 100_002, "every entry plus . and ..");
    assert_eq!(
        (&names[0].name[..], &names[1].name[..]),
        (&b"."[..], &b".."[..])
    );
}

#[test]
fn large_unaligned_writes_from_several_threads_read_back_whole() {
    // 3 MiB and a bit: several 1 MiB copy-in chunks, each read straight
    // into place; threads sharing one connection exercise the copy-in
    // answers delivered to syscalls that are not the connection's reader.
    let s = server(&[]);
    let c = &s.client;
    mount_tmpfs(c, b"/m", 0, 0);
    let len = (3 << 20) + 123;
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            scope.spawn(move || {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + t as usize) as u8).collect();
                let name = format!("/m/big{t}");
                let fd = c.open(name.as_bytes(), O_RDWR | O_CREAT, 0o644).unwrap();
                assert_eq!(c.pwrite(fd, &data, 5).unwrap(), len);
                // Overwrite across an extent boundary and grow past the end.
                assert_eq!(c.pwrite(fd, &data[..70_000], 1_000_000).unwrap(), 70_000);
                let mut want = vec![0u8; 5];
                want.extend_from_slice(&data);
                want[1_000_000..1_070_000].copy_from_slice(&data[..70_000]);
                let mut back = vec![0u8; want.len() + 10];
                assert_eq!(c.pread(fd, &mut back, 0).unwrap(), want.len());
                assert!(
                    back[..want.len()] == want[..],
                    "thread {t}: contents differ"
                );
                c.close(fd).unwrap();
            });
        }
    });
    let st = c.stat(b"/m/big0").unwrap();
    assert_eq!(st.size, len as i64 + 5);
    assert_eq!(st.blocks as usize * 512, (len + 5).div_ceil(4096) * 4096);
}

#[test]
fn the_module_unloads_right_after_a_big_file_is_written() {
    // A big file starts the worker that faults extents in ahead of its
    // writer; the unmount stops it, so the module's code can go.
    let scratch = Scratch::new();
    let mut cmd = server_cmd("rump_server");
    cmd.env("RUMP_PLUGIN_DIR", artifacts());
    let vfs = plugin("rumpvfs");
    let srv = Server::start_cmd(cmd, &["-l", vfs.to_str().unwrap()], &scratch.url("sock"));
    let c = srv.client();
    let block = vec![5u8; 1 << 20];
    for round in 0..3 {
        c.modload(b"tmpfs", 0).unwrap();
        mount_tmpfs(&c, b"/m", 0, 0);
        let fd = c.open(b"/m/big", O_RDWR | O_CREAT, 0o644).unwrap();
        for _ in 0..6 {
            assert_eq!(c.write(fd, &block).unwrap(), block.len());
        }
        let mut back = vec![0u8; 1 << 20];
        assert_eq!(c.pread(fd, &mut back, 5 << 20).unwrap(), back.len());
        assert_eq!(back, block);
        c.close(fd).unwrap();
        c.unmount(b"/m", 0).unwrap();
        c.modunload(b"tmpfs").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(c.getpid().is_ok(), "round {round}: the server lives on");
    }
}
