//! The rump_server / rump_allserver program: options, loading, detaching,
//! booting, listening, and waiting for the signal that halts it.

use crate::cli::{self, Command, Flavor, Options};
use crate::daemon::{self, Detached};
use crate::kern::{self, module::Origin};
use crate::{config, drives, loader, log, sp, sys};
use netbsd_abi::Errno;
use std::path::Path;
use sysproxy::url::{self, Endpoint, Side, UrlErrorKind};

/// Runs the program; returns its exit status.
pub fn main(flavor: Flavor) -> i32 {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = argv
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map_or_else(
            || "rump_server".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
    match cli::parse(&prog, argv.get(1..).unwrap_or_default()) {
        Ok(Command::Help) => {
            print!("{}", cli::help(&prog, flavor));
            0
        }
        Ok(Command::Run(o)) => run(&prog, flavor, o),
        Err(e) => {
            eprint!("{}", e.message);
            if e.usage {
                eprint!("{}", cli::usage(&prog));
            }
            1
        }
    }
}

/// A fatal error after the fork: the message, and the errno the waiting
/// parent exits with.
struct Fatal {
    message: String,
    errno: Errno,
}

fn fatal(message: String, errno: Errno) -> Fatal {
    Fatal { message, errno }
}

fn run(prog: &str, flavor: Flavor, o: Options) -> i32 {
    let config = match config::resolve(&o, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(m) => {
            eprintln!("rump init failed: {m}");
            return 1;
        }
    };
    log::init(prog, config.verbose);
    sys::ignore_sigpipe();

    let dir = loader::plugin_dir();
    let mut loaded = Vec::new();
    if flavor == Flavor::AllServer {
        for p in loader::plugins_in(&dir) {
            match loader::load_path(&p) {
                Ok(l) => loaded.push(l),
                Err(e) => eprintln!("{prog}: not preloading {e}"),
            }
        }
    }
    match loader::load_args(&o.libs, &dir) {
        Ok(libs) => {
            for l in libs {
                if !loaded
                    .iter()
                    .any(|x: &loader::Loaded| same_file(&x.path, &l.path))
                {
                    loaded.push(l);
                }
            }
        }
        Err(msg) => {
            eprint!("{msg}");
            return 1;
        }
    }

    let k = kern::boot(config);
    if let Err(e) = k.modules.add_builtins() {
        eprintln!("rump init failed: {e}");
        return 1;
    }
    for l in loaded {
        for c in l.components {
            if let Err(e) = k
                .modules
                .add_library(c, Origin::Library(l.path.clone()), l.size)
            {
                eprintln!("{prog}: {}: {e}", l.path.display());
                return 1;
            }
        }
    }
    if std::env::var_os("LD_BIND_NOW").is_some_and(|v| !v.is_empty()) {
        if let Err(problems) = k.modules.check_requirements() {
            for p in problems {
                eprintln!("{prog}: {p}");
            }
            eprintln!("{prog}: LD_BIND_NOW is set: not starting with unresolved requirements");
            return 1;
        }
    }

    let detached = if o.foreground {
        None
    } else {
        match daemon::begin() {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("rump daemonize: {}", Errno::from_io(&e));
                return 1;
            }
        }
    };
    // Catch SIGTERM and SIGINT before listening, so that a signal sent as
    // soon as the socket exists still halts cleanly.
    use signal_hook::consts::{SIGINT, SIGTERM};
    let signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]);
    match signals
        .map_err(|e| fatal(format!("rump init failed: {e}"), Errno::from_io(&e)))
        .and_then(|s| serve(&o).map(|()| s))
    {
        Ok(mut signals) => {
            if let Some(d) = detached {
                d.done();
            }
            let _ = signals.forever().next();
            kern::reboot::halt(0, None)
        }
        Err(f) => {
            eprintln!("{}", f.message);
            if let Some(d) = detached {
                Detached::fail(d, f.errno.get());
            }
            1
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Boots the components, maps drives and modules, and starts listening.
fn serve(o: &Options) -> Result<(), Fatal> {
    let k = kern::kernel();
    let _ = k.modules.activate_all(false);
    if k.config.verbose {
        boot_messages();
    }
    drives::load_modules(&o.modules).map_err(|e| fatal(e.message, e.errno))?;
    drives::map_drives(&o.drives).map_err(|e| fatal(e.message, e.errno))?;

    let cwd = std::env::current_dir().ok();
    let ep = url::parse(&o.url, Side::Server, cwd.as_deref()).map_err(|e| {
        let errno = match e.kind {
            UrlErrorKind::Invalid => Errno::EINVAL,
            UrlErrorKind::NameTooLong => Errno::ENAMETOOLONG,
            UrlErrorKind::Range => Errno::ERANGE,
            UrlErrorKind::NotSupported => Errno::EOPNOTSUPP,
        };
        fatal(
            format!("{}\nrump server init failed: {errno}", e.message),
            errno,
        )
    })?;
    if let Endpoint::Unix { cleanup: false, .. } = ep {
        eprintln!("warning: cannot determine cwd, omitting socket cleanup");
    }
    let (listener, note) = sp::server::bind(&ep).map_err(|e| {
        let errno = Errno::from_io(&e.source);
        fatal(
            format!(
                "rump_sp: failed to bind to URL {}: {}\nrump server init failed: {errno}",
                o.url, e.reason
            ),
            errno,
        )
    })?;
    if let Some(n) = note {
        eprintln!("{n}");
    }
    if let Endpoint::Unix { cleanup: true, .. } = ep {
        k.set_socket_path(listener.path().map(Path::to_path_buf));
    }
    sp::server::serve(listener).map_err(|e| {
        let errno = Errno::from_io(&e);
        fatal(format!("rump server init failed: {errno}"), errno)
    })?;
    if k.config.verbose {
        println!("rump kernel serving at {ep}");
    }
    Ok(())
}

fn boot_messages() {
    let k = kern::kernel();
    println!("{}", kern::base::version().trim_end());
    match k.config.memlimit {
        Some(l) => println!("total memory = {} KB", l / 1024),
        None => println!("total memory = unlimited (host limit)"),
    }
    for i in 0..k.config.ncpu {
        println!("cpu{i} at thinair0: rump virtual cpu");
    }
    for n in &k.config.notes {
        println!("{n}");
    }
    for line in k.modules.describe() {
        println!("{line}");
    }
}
