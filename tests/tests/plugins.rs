//! Component libraries: loading by path and by name, the plugin
//! directory, rump_allserver's preloading, version checks, panics inside
//! components, and requirements with and without LD_BIND_NOW.

use rump_tests::*;
use std::process::Stdio;
use std::time::Duration;

fn sysctl_str(c: &Client, mib: &[i32]) -> Result<String, Errno> {
    let mut b = [0u8; 256];
    let out = c.sysctl(mib, Some(&mut b), None);
    out.result
        .map(|()| String::from_utf8_lossy(&b[..out.oldlen.saturating_sub(1)]).into_owned())
}

fn mib(c: &Client, path: &str) -> Option<Vec<i32>> {
    let mut prefix = Vec::new();
    for part in path.split('.') {
        let node = c
            .sysctl_query(&prefix)
            .ok()?
            .into_iter()
            .find(|n| n.name == part)?;
        prefix.push(node.num);
    }
    Some(prefix)
}

#[test]
fn example_component_by_path_and_by_name() {
    let s = Scratch::new();
    let url = s.url("sock");
    let lib = plugin("hello_component");
    let srv = Server::start("rump_server", &["-l", lib.to_str().unwrap()], &url);
    let c = srv.client();
    let greeting = mib(&c, "kern.hello.greeting").expect("kern.hello.greeting exists");
    assert_eq!(sysctl_str(&c, &greeting).unwrap(), "hello, world");
    c.sysctl(&greeting, None, Some(b"good morning\0"))
        .result
        .unwrap();
    assert_eq!(sysctl_str(&c, &greeting).unwrap(), "good morning");
    let m = c.modstat().unwrap();
    let hello = m
        .iter()
        .find(|m| m.name == "hello")
        .expect("hello in modstat");
    assert_eq!((hello.source, hello.required.as_str()), (1, "rumpkern"));
    drop(srv);

    // By name: libNAME.so found in the plugin directory.
    let mut cmd = server_cmd("rump_server");
    cmd.env("RUMP_PLUGIN_DIR", artifacts());
    let srv = Server::start_cmd(cmd, &["-lhello_component"], &url);
    assert!(mib(&srv.client(), "kern.hello.reads").is_some());
}

#[test]
fn allserver_preloads_its_plugin_directory_and_server_does_not() {
    let s = Scratch::new();
    let dir = s.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(plugin("hello_component"), dir.join("librumphello.so")).unwrap();
    std::fs::write(dir.join("README"), "not a plugin").unwrap();
    for (prog, has) in [("rump_allserver", true), ("rump_server", false)] {
        let mut cmd = server_cmd(prog);
        cmd.env("RUMP_PLUGIN_DIR", &dir);
        let srv = Server::start_cmd(cmd, &[], &s.url(prog));
        let names: Vec<String> = srv
            .client()
            .modstat()
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(
            names.contains(&"hello".to_string()),
            has,
            "{prog}: {names:?}"
        );
    }
}

#[test]
fn libraries_that_cannot_load_stop_the_server_before_it_forks() {
    let s = Scratch::new();
    let url = s.url("sock");
    let o = run(server_cmd("rump_server").args(["-l", "nosuchlib", &url]));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with(
            "failed to load -libraries, last error from \"nosuchlib\":\n  nosuchlib: not found"
        ),
        "{err}"
    );

    let future = plugin("fixture_future");
    let o = run(server_cmd("rump_server").args(["-l", future.to_str().unwrap(), &url]));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 2, "one line about the library: {err}");
    assert!(
        err.contains("built against plugin-api 0.2.0, but this kernel provides plugin-api 0.1.0"),
        "{err}"
    );

    let o = run(server_cmd("rump_server").args(["-l", "/lib/x86_64-linux-gnu/libm.so.6", &url]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("not a component library"),
        "{}",
        text(&o.stderr)
    );
    assert!(!s.path().join("sock").exists());
}

#[test]
fn a_panicking_component_fails_its_call_not_the_server() {
    let s = Scratch::new();
    let url = s.url("sock");
    let mut cmd = server_cmd("rump_server");
    cmd.stderr(Stdio::piped());
    let lib = plugin("fixture_panic");
    let mut srv = Server::start_cmd(cmd, &["-l", lib.to_str().unwrap()], &url);
    let c = srv.client();
    let boom = mib(&c, "kern.panicky.boom").expect("registered before the panic was armed");
    for _ in 0..3 {
        assert_eq!(sysctl_str(&c, &boom).unwrap_err(), Errno::EIO);
    }
    assert_eq!(c.getpid().unwrap().0, 2, "the server keeps serving");
    assert!(srv
        .client()
        .modstat()
        .unwrap()
        .iter()
        .any(|m| m.name == "panicky_init"));
    c.reboot(0).unwrap();
    srv.wait_exit(Duration::from_secs(10)).unwrap();
    let mut err = String::new();
    use std::io::Read;
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("init panicked at"), "{err}");
    assert!(err.contains("sysctl read panicked at"), "{err}");
    assert!(err.contains("kern.panicky.boom was read"), "{err}");
}

#[test]
fn missing_requirements_with_and_without_ld_bind_now() {
    let s = Scratch::new();
    let url = s.url("sock");
    let needy = plugin("fixture_needy");
    let lib = needy.to_str().unwrap();

    let o = run(server_cmd("rump_server")
        .env("LD_BIND_NOW", "1")
        .args(["-l", lib, &url]));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("needy 0.1.0 requires rumpfs_absent ^1.0, which is not loaded"),
        "{err}"
    );
    assert!(err.contains("LD_BIND_NOW"), "{err}");
    assert!(!s.path().join("sock").exists(), "it never listened");

    let mut cmd = server_cmd("rump_server");
    cmd.stderr(Stdio::piped());
    let mut srv = Server::start_cmd(cmd, &["-l", lib], &url);
    let c = srv.client();
    assert!(
        mib(&c, "kern.needy.ok").is_none(),
        "an inactive component registers nothing"
    );
    assert!(c
        .modstat()
        .unwrap()
        .iter()
        .any(|m| m.name == "needy" && m.required == "rumpfs_absent"));
    c.reboot(0).unwrap();
    srv.wait_exit(Duration::from_secs(10)).unwrap();
    let mut err = String::new();
    use std::io::Read;
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("needy 0.1.0 requires rumpfs_absent ^1.0, which is not loaded"),
        "{err}"
    );
}
