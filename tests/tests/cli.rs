//! The command line: usage, option errors, -c/-r/-d checking, URLs, the
//! detach protocol's exit statuses, and existing sockets.

use rump_tests::*;
use std::time::Duration;

fn server(args: &[&str]) -> std::process::Output {
    let mut c = server_cmd("rump_server");
    c.args(args);
    run(&mut c)
}

const USAGE: &str =
    "usage: rump_server [-s] [-c ncpu] [-d drivespec] [-l libs] [-m modules] bindurl\n";

#[test]
fn usage_without_url_or_with_two() {
    for args in [&[][..], &["-s"], &["unix://a", "unix://b"]] {
        let o = server(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&o.stderr), USAGE);
    }
}

#[test]
fn unknown_option_and_missing_argument() {
    let o = server(&["-x", "unix://a"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        format!("rump_server: unknown option -- x\n{USAGE}")
    );
    let o = server(&["-s", "-c"]);
    assert_eq!(
        text(&o.stderr),
        format!("rump_server: option requires an argument -- c\n{USAGE}")
    );
}

#[test]
fn help_names_the_plugin_directory_setting() {
    let o = server(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let t = text(&o.stdout);
    assert!(t.starts_with("usage: rump_server"), "{t}");
    assert!(t.contains("RUMP_PLUGIN_DIR"), "{t}");
    assert!(t.contains("LD_BIND_NOW"), "{t}");
}

#[test]
fn drivespec_errors_use_netbsds_messages() {
    let cases = [
        ("key=/a,key=/b", "key already given\n"),
        ("key=/a,hostpath=x", "incomplete drivespec\n"),
        ("type=tape", "invalid type tape\n"),
        ("colour=red", "invalid dtoken\n"),
        ("size=1m,disklabel=a", "disklabel needs to be used alone\n"),
    ];
    for (spec, msg) in cases {
        let o = server(&["-d", spec, "unix://x"]);
        assert_eq!(o.status.code(), Some(1), "{spec}");
        assert_eq!(text(&o.stderr), format!("{msg}{USAGE}"), "{spec}");
    }
    let o = server(&["-d", "key=/a,hostpath=b,size=12Q", "unix://x"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "rump_server: -d size `12Q': illegal number\n"
    );
}

#[test]
fn bad_cpu_and_memory_values_exit_1_with_a_message() {
    for (args, needle) in [
        (
            &["-c", "0"][..],
            "rump init failed: -c 0: the number of CPUs",
        ),
        (&["-c", "lots"], "rump init failed: -c lots"),
        (
            &["-r", "12q"],
            "rump init failed: -r 12q: expected a number of bytes",
        ),
        (&["-r", "100k"], "needs more than 131072 bytes"),
    ] {
        let s = Scratch::new();
        let mut all = args.to_vec();
        let url = s.url("sock");
        all.push(&url);
        let o = server(&all);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            text(&o.stderr).contains(needle),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(!s.path().join("sock").exists());
    }
    let mut c = server_cmd("rump_server");
    c.env("RUMP_NCPU", "-3").arg("unix:///tmp/never");
    let o = run(&mut c);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("RUMP_NCPU=-3"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_urls_give_netbsds_diagnostics_and_statuses() {
    // Detached, the parent exits with the error number (EINVAL 22).
    let o = server(&["noscheme"]);
    assert_eq!(o.status.code(), Some(22));
    assert_eq!(
        text(&o.stderr),
        "rump_sp: invalid locator ``noscheme''\nrump server init failed: Invalid argument\n"
    );
    // In the foreground it exits 1.
    let o = server(&["-s", "tcp://1.2.3.4"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "rump_sp_tcp: missing port specifier\nrump server init failed: Invalid argument\n"
    );
    let o = server(&["tcp://127.0.0.1:99999/"]);
    assert_eq!(o.status.code(), Some(34), "ERANGE");
    assert!(text(&o.stderr).starts_with("rump_sp_tcp: port 99999 out of range\n"));
    let o = server(&["ftp://x"]);
    assert!(text(&o.stderr).starts_with("rump_sp: invalid identifier ``ftp://x''"));
}

#[test]
fn a_live_socket_is_refused_and_a_stale_one_replaced() {
    let s = Scratch::new();
    let url = s.url("sock");
    let first = Server::start("rump_server", &[], &url);
    let o = server(&[&url]);
    assert_eq!(o.status.code(), Some(48), "EADDRINUSE when detached");
    let err = text(&o.stderr);
    assert!(err.contains("a server is already listening on"), "{err}");
    assert!(
        err.ends_with("rump server init failed: Address already in use\n"),
        "{err}"
    );
    first
        .client()
        .getpid()
        .expect("the first server still serves");
    drop(first); // SIGKILL: the socket file stays behind

    assert!(s.path().join("sock").exists());
    let mut c = server_cmd("rump_server");
    c.args(["-s", &url]).stderr(std::process::Stdio::piped());
    let mut second = Server {
        child: c.spawn().unwrap(),
        url: url.clone(),
    };
    std::thread::sleep(Duration::from_millis(200));
    let c = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(20));
        Client::connect(&url, "t").ok()
    });
    assert!(c.expect("the new server listens").getpid().is_ok());
    let _ = second.child.kill();
    let mut err = String::new();
    use std::io::Read;
    second
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("replaced the stale socket"), "{err}");

    let plain = s.path().join("file");
    std::fs::write(&plain, b"data").unwrap();
    let o = server(&[&format!("unix://{}", plain.display())]);
    assert_eq!(o.status.code(), Some(48));
    assert!(text(&o.stderr).contains("exists and is not a socket"));
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        b"data",
        "a regular file is never removed"
    );
}

#[test]
fn drives_and_modules_say_they_need_the_vfs() {
    let s = Scratch::new();
    let o = server(&[
        "-d",
        "key=/dev/dk,hostpath=/tmp/x.img,size=1m",
        &s.url("sock"),
    ]);
    assert_eq!(o.status.code(), Some(78), "ENOSYS");
    assert!(text(&o.stderr).contains("etfs register: /dev/dk: Function not implemented"));
    assert!(text(&o.stderr).contains("-lrumpvfs"));
    let o = server(&["-s", "-m", "/tmp/tmpfs.kmod", &s.url("sock")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("module load failed: /tmp/tmpfs.kmod"));
}
