//! Starting, detaching, halting: the man-page examples and every way a
//! server ends.

use rump_tests::*;
use std::time::Duration;

/// `rump_server tcp://127.0.0.1:PORT/`, then `rump.halt` over TCP: the
/// parent returns 0 only once the server listens.
#[test]
fn detach_on_tcp_and_halt() {
    let s = Scratch::new();
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}/");
    let mut c = server_cmd("rump_server");
    c.arg(&url);
    let o = run(&mut c);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let client = Client::connect(&url, "t").expect("listening when the parent returned");
    let pid = server_pid(&url);
    drop(client);
    let h = run(&mut s.tool("halt", &url));
    assert_eq!(h.status.code(), Some(0), "{}", text(&h.stderr));
    for _ in 0..200 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!alive(pid), "the server exited");
    assert!(Client::connect(&url, "t").is_err());
}

/// `env RUMP_SERVER=unix://sock rump.halt`, with a relative socket path,
/// for both programs.
#[test]
fn detach_on_relative_unix_socket_and_halt() {
    for prog in ["rump_server", "rump_allserver"] {
        let s = Scratch::new();
        let mut c = server_cmd(prog);
        c.current_dir(s.path()).arg("unix://sock");
        let o = run(&mut c);
        assert_eq!(o.status.code(), Some(0), "{prog}: {}", text(&o.stderr));
        let sock = s.path().join("sock");
        assert!(sock.exists());
        let mut h = s.tool("halt", "unix://sock");
        h.current_dir(s.path());
        let h = run(&mut h);
        assert_eq!(h.status.code(), Some(0), "{prog}: {}", text(&h.stderr));
        assert!(!sock.exists(), "{prog}: the socket is removed at halt");
    }
}

#[test]
fn sigterm_and_sigint_halt_cleanly_and_remove_the_socket() {
    for sig in [15, 2] {
        let s = Scratch::new();
        let url = s.url("sock");
        let mut c = server_cmd("rump_server");
        c.stdout(std::process::Stdio::piped());
        let mut srv = Server::start_cmd(c, &[], &url);
        signal(srv.child.id(), sig);
        let st = srv.wait_exit(Duration::from_secs(10)).expect("exits");
        assert_eq!(st.code(), Some(0), "signal {sig}");
        assert!(!s.path().join("sock").exists(), "signal {sig}");
        let mut out = String::new();
        use std::io::Read;
        srv.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "rump kernel halting...\nhalted\n");
    }
}

#[test]
fn halt_flags() {
    // -n: no sync, otherwise a normal halt.
    let s = Scratch::new();
    let url = s.url("sock");
    let mut srv = Server::start("rump_server", &[], &url);
    assert_eq!(run(s.tool("halt", &url).arg("-n")).status.code(), Some(0));
    assert_eq!(
        srv.wait_exit(Duration::from_secs(10))
            .and_then(|s| s.code()),
        Some(0)
    );

    // -h: the kernel halts but the process stays, serving nothing.
    let mut srv = Server::start("rump_server", &[], &url);
    let other = srv.client();
    assert_eq!(run(s.tool("halt", &url).arg("-h")).status.code(), Some(0));
    assert!(
        srv.wait_exit(Duration::from_millis(500)).is_none(),
        "RB_HALT does not exit"
    );
    assert!(!s.path().join("sock").exists());
    assert!(Client::connect(&url, "t").is_err());
    assert_eq!(
        other.getpid().unwrap_err(),
        Errno::ENOTCONN,
        "existing clients are closed"
    );
    drop(srv);

    // -d: no sync, the reply arrives, then the process aborts.
    let mut c = server_cmd("rump_server");
    c.stderr(std::process::Stdio::null()).current_dir(s.path()); // a core file lands in the scratch dir
    let mut srv = Server::start_cmd(c, &[], &url);
    let h = run(s.tool("halt", &url).arg("-d"));
    assert_eq!(h.status.code(), Some(0), "{}", text(&h.stderr));
    let st = srv.wait_exit(Duration::from_secs(10)).expect("exits");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(6), "RB_DUMP aborts: {st}");
}

#[test]
fn rump_halt_usage_and_errors() {
    let s = Scratch::new();
    let o = run(s.tool("halt", "unix://x").arg("-x"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "rump.halt: unknown option -- x\nusage: rump.halt [-dhn]\n"
    );
    let o = run(s.tool("halt", "unix://x").arg("extra"));
    assert_eq!(text(&o.stderr), "usage: rump.halt [-dhn]\n");
    let mut t = s.tool("halt", "unix://x");
    t.env_remove("RUMP_SERVER");
    let o = run(&mut t);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: RUMP_SERVER not set\nrump.halt: init failed: No such file or directory\n"
    );
    let o = run(&mut s.tool("halt", &s.url("nobody")));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).starts_with("rump.halt: init failed: "),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn verbose_boot_messages() {
    let s = Scratch::new();
    let mut c = server_cmd("rump_server");
    c.stdout(std::process::Stdio::piped());
    let mut srv = Server::start_cmd(c, &["-v", "-c", "3", "-r", "16m"], &s.url("sock"));
    srv.client().reboot(0).unwrap();
    srv.wait_exit(Duration::from_secs(10)).unwrap();
    let mut out = String::new();
    use std::io::Read;
    srv.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains("total memory = 16384 KB"), "{out}");
    assert!(out.contains("cpu2 at thinair0: rump virtual cpu"), "{out}");
    assert!(!out.contains("cpu3 "), "{out}");
    assert!(out.contains("component rumpkern"), "{out}");
}

/// The man page's `rump_server tcp://0:3755/`, on a free port: INADDR_ANY.
#[test]
fn listens_on_any_address() {
    let s = Scratch::new();
    let port = free_port();
    let o = run(server_cmd("rump_server").arg(format!("tcp://0:{port}/")));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let url = format!("tcp://127.0.0.1:{port}");
    assert_eq!(Client::connect(&url, "t").unwrap().getpid().unwrap().0, 2);
    let h = run(&mut s.tool("halt", &url));
    assert_eq!(h.status.code(), Some(0), "{}", text(&h.stderr));
    let gone = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        Client::connect(&url, "t").is_err()
    });
    assert!(gone);
}
