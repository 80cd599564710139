//! Test helper: a program started by exec from a client process. It takes
//! the connection over (RUMPCLIENT__EXECFD), and reports its pid and which
//! of the descriptors 3 and 4 survived the exec.

use rumpclient::Client;

fn main() {
    let c = match Client::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("exec_probe: {e}");
            std::process::exit(1);
        }
    };
    let (pid, ppid) = c.getpid().expect("getpid");
    let state = |fd| {
        if c.fcntl(fd, netbsd_abi::fcntl::F_GETFD, 0).is_ok() {
            "open"
        } else {
            "closed"
        }
    };
    println!("pid {pid} ppid {ppid} fd3 {} fd4 {}", state(3), state(4));
}
