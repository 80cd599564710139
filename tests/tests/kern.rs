//! The kern syscalls through the real client: process identity, the
//! console, descriptors, pipes, several syscalls in flight on one
//! connection, sysctl, modstat, fork and exec.

use netbsd_abi::fcntl::*;
use netbsd_abi::ioctl::{FIONREAD, TIOCGETA};
use netbsd_abi::stat::{S_IFCHR, S_IFIFO};
use netbsd_abi::sysno;
use rump_tests::*;
use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

fn server(args: &[&str]) -> (Scratch, Server) {
    let s = Scratch::new();
    let srv = Server::start("rump_server", args, &s.url("sock"));
    (s, srv)
}

#[test]
fn process_identity() {
    let (_s, srv) = server(&[]);
    let a = srv.client();
    assert_eq!(
        a.getpid().unwrap(),
        (2, 1),
        "the first client is pid 2, child of init"
    );
    assert_eq!(a.getppid().unwrap(), 1);
    let b = srv.client();
    assert_eq!(b.getpid().unwrap().0, 3);
    assert_eq!(a.getuid().unwrap(), (0, 0));
    assert_eq!(a.getgid().unwrap(), (0, 0));
}

#[test]
fn console_descriptors() {
    let s = Scratch::new();
    let mut cmd = server_cmd("rump_server");
    cmd.stdout(Stdio::piped());
    let mut srv = Server::start_cmd(cmd, &[], &s.url("sock"));
    let c = srv.client();
    assert_eq!(c.write(1, b"to the console\n").unwrap(), 15);
    assert_eq!(c.write(2, b"and again\n").unwrap(), 10);
    let mut buf = [0u8; 8];
    assert_eq!(
        c.read(0, &mut buf).unwrap_err(),
        Errno::EBADF,
        "the console is write-only"
    );
    let st = c.fstat(0).unwrap();
    assert_eq!(st.mode, S_IFCHR | 0o600);
    assert_eq!(c.fcntl(1, F_GETFL, 0).unwrap(), 1, "O_WRONLY");
    let mut termios = [0xffu8; 44];
    assert_eq!(c.ioctl(0, TIOCGETA, &mut termios).unwrap(), 0);
    assert_eq!(termios, [0u8; 44]);
    let mut x = [0u8; 4];
    assert_eq!(c.ioctl(0, FIONREAD, &mut x).unwrap_err(), Errno::ENOTTY);
    c.reboot(0).unwrap();
    srv.wait_exit(Duration::from_secs(10)).unwrap();
    let mut out = String::new();
    srv.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.starts_with("to the console\nand again\n"), "{out:?}");
}

#[test]
fn descriptors_and_pipes() {
    let (_s, srv) = server(&[]);
    let c = srv.client();
    let (r, w) = c.pipe().unwrap();
    assert_eq!((r, w), (3, 4), "fds 0-2 are taken by the console");
    assert_eq!(c.write(w, b"hello").unwrap(), 5);
    let mut x = [0u8; 4];
    c.ioctl(r, FIONREAD, &mut x).unwrap();
    assert_eq!(i32::from_le_bytes(x), 5);
    let st = c.fstat(r).unwrap();
    assert_eq!((st.mode & 0o170000, st.size), (S_IFIFO, 5));
    let mut buf = [0u8; 16];
    assert_eq!(c.read(r, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(c.read(w, &mut buf).unwrap_err(), Errno::EBADF, "write end");

    let d = c.dup(w).unwrap();
    assert_eq!(d, 5);
    assert_eq!(c.dup2(r, 9).unwrap(), 9);
    assert_eq!(c.fcntl(9, F_GETFD, 0).unwrap(), 0);
    c.fcntl(9, F_SETFD, FD_CLOEXEC as i64).unwrap();
    assert_eq!(c.fcntl(9, F_GETFD, 0).unwrap(), 1);
    assert_eq!(c.fcntl(w, F_DUPFD, 20).unwrap(), 20);
    assert_eq!(c.fcntl(0, F_MAXFD, 0).unwrap(), 20);

    c.fcntl(r, F_SETFL, O_NONBLOCK as i64).unwrap();
    assert_eq!(
        c.fcntl(r, F_GETFL, 0).unwrap() & O_NONBLOCK as i64,
        O_NONBLOCK as i64
    );
    assert_eq!(c.read(r, &mut buf).unwrap_err(), Errno::EAGAIN);

    // The read end sees EOF once every write descriptor is closed.
    for fd in [w, d, 20] {
        c.close(fd).unwrap();
    }
    c.fcntl(r, F_SETFL, 0).unwrap();
    assert_eq!(c.read(r, &mut buf).unwrap(), 0);
    assert_eq!(c.close(w).unwrap_err(), Errno::EBADF);
    assert_eq!(c.close(12345).unwrap_err(), Errno::EBADF);

    let (r2, w2) = c.pipe2(O_NONBLOCK | O_CLOEXEC).unwrap();
    assert_eq!(c.fcntl(r2, F_GETFD, 0).unwrap(), 1);
    assert_eq!(c.pipe2(0x40000000).unwrap_err(), Errno::EINVAL);
    // A write to a pipe nobody reads fails with EPIPE (and a SIGPIPE this
    // client ignores with O_NOSIGPIPE).
    c.close(r2).unwrap();
    c.fcntl(w2, F_SETNOSIGPIPE, 1).unwrap();
    assert_eq!(c.write(w2, b"x").unwrap_err(), Errno::EPIPE);
}

#[test]
fn unprovided_syscalls_are_enosys() {
    let (_s, srv) = server(&[]);
    let c = srv.client();
    for num in [sysno::EXIT, sysno::FORK, 511, 600, -5, sysno::MOUNT50] {
        assert_eq!(
            c.syscall(num, &[], &mut []).unwrap_err(),
            Errno::ENOSYS,
            "syscall {num}"
        );
    }
    assert_eq!(
        c.open(b"/tmp", O_RDONLY, 0).unwrap_err(),
        Errno::ENOSYS,
        "no VFS"
    );
}

/// A client thread blocked in a pipe read does not stop the other threads
/// of the same connection: the write that wakes it comes on the same
/// socket.
#[test]
fn syscalls_in_flight_on_one_connection() {
    let (_s, srv) = server(&["-c", "1"]);
    let c = srv.client();
    let (r, w) = c.pipe().unwrap();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut b = [0u8; 1];
                c.read(r, &mut b).map(|n| (n, b[0]))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        c.getpid().unwrap().0,
        2,
        "a syscall completes while three are blocked"
    );
    assert_eq!(c.write(w, b"abc").unwrap(), 3);
    let mut got: Vec<u8> = readers
        .into_iter()
        .map(|t| t.join().unwrap().unwrap().1)
        .collect();
    got.sort();
    assert_eq!(got, b"abc");
    // Sleeps on one connection overlap.
    let t0 = std::time::Instant::now();
    let sleepers: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || c.nanosleep(Duration::from_millis(300)))
        })
        .collect();
    for s in sleepers {
        s.join().unwrap().unwrap();
    }
    assert!(
        t0.elapsed() < Duration::from_millis(1100),
        "sleeps ran one after another"
    );
}

/// A thread waking in a pipe wait takes its virtual CPU back without
/// holding the pipe's lock: with one CPU, the thread that has it may be
/// waiting for that lock (this used to deadlock the server within
/// moments).
#[test]
fn waking_readers_do_not_deadlock_a_busy_cpu() {
    let (_s, srv) = server(&["-c", "1"]);
    let c = srv.client();
    let (r, w) = c.pipe().unwrap();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut b = [0u8; 1];
                c.read(r, &mut b)
            })
        })
        .collect();
    // The readers wake every 50 ms to look for signals; meanwhile this
    // client keeps the one CPU busy with calls that take the pipe's lock.
    let t = std::time::Instant::now();
    let mut x = [0u8; 4];
    while t.elapsed() < Duration::from_millis(1500) {
        c.fstat(r).unwrap();
        c.ioctl(r, FIONREAD, &mut x).unwrap();
    }
    assert_eq!(c.write(w, b"abc").unwrap(), 3, "the server still answers");
    for t in readers {
        assert_eq!(t.join().unwrap(), Ok(1));
    }
}

#[test]
fn a_vanished_client_is_cleaned_up() {
    let (_s, srv) = server(&[]);
    let a = srv.client();
    let b = srv.client();
    let (r, w) = b.pipe().unwrap();
    let reader = {
        let b = b.clone();
        std::thread::spawn(move || {
            let mut x = [0u8; 1];
            b.read(r, &mut x)
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    b.disconnect();
    let _ = w;
    assert_eq!(reader.join().unwrap().unwrap_err(), Errno::ENOTCONN);
    assert_eq!(b.getpid().unwrap_err(), Errno::ENOTCONN);
    assert!(a.getpid().is_ok(), "others keep being served");
}

#[test]
fn sysctl_values_and_writes() {
    let (_s, srv) = server(&["-c", "3", "-r", "32m"]);
    let c = srv.client();
    let int = |name: &[i32]| {
        let mut b = [0u8; 4];
        c.sysctl(name, Some(&mut b), None).result.unwrap();
        i32::from_le_bytes(b)
    };
    assert_eq!(int(&[6, 3]), 3, "hw.ncpu follows -c");
    assert_eq!(int(&[6, 16]), 3);
    let mut q = [0u8; 8];
    c.sysctl(&[6, 13], Some(&mut q), None).result.unwrap();
    assert_eq!(
        u64::from_le_bytes(q),
        512 << 20,
        "hw.physmem64 does not follow -r"
    );
    let mut name = [0u8; 256];
    let out = c.sysctl(&[1, 1], Some(&mut name), None);
    assert_eq!(
        (out.result, &name[..out.oldlen]),
        (Ok(()), &b"NetBSD\0"[..])
    );
    let mut small = [0u8; 3];
    let out = c.sysctl(&[1, 1], Some(&mut small), None);
    assert_eq!(
        (out.result, out.oldlen, &small),
        (Err(Errno::ENOMEM), 7, b"Net")
    );
    assert_eq!(
        c.sysctl(&[1, 1], None, Some(b"x\0")).result,
        Err(Errno::EPERM)
    );
    assert_eq!(
        c.sysctl(&[1, 9999], Some(&mut name), None).result,
        Err(Errno::ENOENT)
    );
    assert_eq!(
        c.sysctl(&[], Some(&mut name), None).result,
        Err(Errno::EINVAL)
    );
    c.sysctl(&[1, 10], None, Some(b"renamed\0")).result.unwrap();
    let out = c.sysctl(&[1, 10], Some(&mut name), None);
    assert_eq!(&name[..out.oldlen], b"renamed\0");
    let top: Vec<String> = c
        .sysctl_query(&[])
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(top.len(), 13);
    assert_eq!(&top[..2], ["kern", "vm"]);
    let hw = c.sysctl_describe(&[6]).unwrap();
    assert!(hw.iter().any(|(n, d)| *n == 3 && !d.is_empty()));
}

#[test]
fn sysctl_tool() {
    let s = Scratch::new();
    let url = s.url("sock");
    let _srv = Server::start("rump_server", &["-c", "2"], &url);
    let o = run(s.tool("sysctl", &url).args(["hw.ncpu", "kern.ostype"]));
    assert_eq!(text(&o.stdout), "hw.ncpu = 2\nkern.ostype = NetBSD\n");
    let o = run(s.tool("sysctl", &url).args(["-n", "hw.machine_arch"]));
    assert_eq!(text(&o.stdout), "x86_64\n");
    let o = run(s.tool("sysctl", &url).args(["-w", "kern.hostname=box"]));
    assert!(
        text(&o.stdout).ends_with(" -> box\n"),
        "{}",
        text(&o.stdout)
    );
    let o = run(s.tool("sysctl", &url).arg("-a"));
    let all = text(&o.stdout);
    assert!(
        all.contains("kern.hostname = box\n") && all.contains("hw.physmem64 = 536870912\n"),
        "{all}"
    );
    let o = run(s.tool("sysctl", &url).arg("kern.nosuch"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "rump.sysctl: second level name 'nosuch' in 'kern.nosuch' is invalid\n"
    );
    let o = run(s.tool("sysctl", &url).arg("kern.ostype=x"));
    assert_eq!(
        text(&o.stderr),
        "rump.sysctl: Must specify -w to set variables\n"
    );
    let o = run(s.tool("sysctl", &url).args(["-w", "kern.ostype=x"]));
    assert_eq!(
        text(&o.stderr),
        "rump.sysctl: kern.ostype: Operation not permitted\n"
    );
}

#[test]
fn fork_and_exec() {
    let (_s, srv) = server(&[]);
    let parent = srv.client();
    let (r, w) = parent.pipe().unwrap();
    let cookie = parent.prefork().unwrap();
    let child = Client::connect_forked(&srv.url, cookie).unwrap();
    let (pid, ppid) = child.getpid().unwrap();
    assert_eq!((pid, ppid), (4, 1), "pid 3 went to the pre-forked process");
    assert_eq!(
        child.write(w, b"from the child").unwrap(),
        14,
        "descriptors are inherited"
    );
    let mut buf = [0u8; 32];
    assert_eq!(parent.read(r, &mut buf).unwrap(), 14);
    assert!(
        Client::connect_forked(&srv.url, cookie).is_err(),
        "a cookie is claimed once"
    );

    // exec: the same process continues in a new program.
    parent.fcntl(r, F_SETFD, FD_CLOEXEC as i64).unwrap();
    let mut cmd = std::process::Command::new(bin("exec_probe"));
    cmd.envs(parent.exec_env().unwrap()).stdout(Stdio::piped());
    let out = run(&mut cmd);
    assert_eq!(
        text(&out.stdout),
        "pid 2 ppid 1 fd3 closed fd4 open\n",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn modstat_tool_lists_components() {
    let s = Scratch::new();
    let url = s.url("sock");
    let _srv = Server::start("rump_server", &[], &url);
    let o = run(&mut s.tool("modstat", &url));
    let t = text(&o.stdout);
    assert!(
        t.starts_with("NAME             CLASS    SOURCE   FLAG REFS  SIZE    REQUIRES \n"),
        "{t}"
    );
    assert!(
        t.contains("rumpkern         misc     builtin  -    0     -       -\n"),
        "{t}"
    );
    let o = run(s.tool("modstat", &url).arg("-e"));
    assert_eq!(text(&o.stderr), "rump.modstat: You can load modules.\n");
    let o = run(s.tool("modstat", &url).args(["a", "b"]));
    assert_eq!(text(&o.stderr), "Usage: rump.modstat [-Aaen] [name]\n");
}
