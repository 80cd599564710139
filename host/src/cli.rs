//! The command line of rump_server and rump_allserver: `getopt(3)` over
//! the option string `c:d:l:m:r:sv`, one URL operand, and NetBSD's usage
//! text and diagnostics.

use crate::drivespec::{self, DriveSpec};

/// Which program is running; they differ only in what they preload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `rump_server`: loads only what `-l` names.
    Server,
    /// `rump_allserver`: preloads every plugin of its plugin directory.
    AllServer,
}

/// Parsed options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-c`: the number of virtual CPUs (overrides RUMP_NCPU).
    pub ncpu: Option<String>,
    /// `-d`: host files to map into the kernel.
    pub drives: Vec<DriveSpec>,
    /// `-l`: component libraries.
    pub libs: Vec<String>,
    /// `-m`: modules.
    pub modules: Vec<String>,
    /// `-r`: the kernel memory limit (overrides RUMP_MEMLIMIT).
    pub memlimit: Option<String>,
    /// `-s`: stay in the foreground.
    pub foreground: bool,
    /// `-v`: print boot messages.
    pub verbose: bool,
    /// The URL to listen on.
    pub url: String,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    /// `--help`: print the help text and exit 0.
    Help,
}

/// A command line that cannot be used. `message` goes to stderr first
/// (it may be empty); the usage text follows unless `usage` is false.
#[derive(Debug, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub usage: bool,
}

/// The usage line, exactly as NetBSD prints it.
pub fn usage(prog: &str) -> String {
    format!("usage: {prog} [-s] [-c ncpu] [-d drivespec] [-l libs] [-m modules] bindurl\n")
}

/// The `--help` text.
pub fn help(prog: &str, flavor: Flavor) -> String {
    let preload = match flavor {
        Flavor::Server => "rump_server loads no plugins unless -l names them.",
        Flavor::AllServer => {
            "rump_allserver first loads every component library (librump*.so) in its plugin directory."
        }
    };
    format!(
        "{usage}
Boot a rump kernel and serve its system calls to clients at bindurl
(unix://relative/path, unix:///absolute/path or tcp://a.b.c.d:port/).

  -c ncpu        virtual CPUs (a number from 1 to 256, or `host'; default: host)
  -d drivespec   map a host file: key=/path,hostpath=file[,size=N][,offset=N]
                 [,type=blk|chr|reg][,disklabel=a-z]
  -l library     load a component library: a path, libNAME.so on the library
                 search path, or libNAME.so in the plugin directory
  -m module      load a module file through the kernel's file system (needs -lrumpvfs)
  -r total_ram   kernel memory limit in bytes, with an optional k, m or g suffix
  -s             stay in the foreground (default: detach once listening)
  -v             print boot messages

{preload}
The plugin directory is `plugins' next to the executable, or the executable's
own directory when that has none; RUMP_PLUGIN_DIR points elsewhere.
Environment: RUMP_NCPU, RUMP_MEMLIMIT and RUMP_VERBOSE act like -c, -r and -v
when the option is absent; LD_BIND_NOW=1 resolves every component's
requirements before the kernel boots and reports all that are missing.
",
        usage = usage(prog).trim_end()
    )
}

/// Parses `args` (without the program name).
pub fn parse(prog: &str, args: &[String]) -> Result<Command, CliError> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        let flags: Vec<char> = arg[1..].chars().collect();
        let mut j = 0;
        while j < flags.len() {
            let c = flags[j];
            j += 1;
            match c {
                's' => o.foreground = true,
                'v' => o.verbose = true,
                'c' | 'd' | 'l' | 'm' | 'r' => {
                    let value: String = if j < flags.len() {
                        let v = flags[j..].iter().collect();
                        j = flags.len();
                        v
                    } else if i + 1 < args.len() {
                        i += 1;
                        args[i].clone()
                    } else {
                        return Err(CliError {
                            message: format!("{prog}: option requires an argument -- {c}\n"),
                            usage: true,
                        });
                    };
                    match c {
                        'c' => o.ncpu = Some(value),
                        'd' => o.drives.push(drivespec::parse(prog, &value)?),
                        'l' => o.libs.push(value),
                        'm' => o.modules.push(value),
                        _ => o.memlimit = Some(value),
                    }
                }
                _ => {
                    return Err(CliError {
                        message: format!("{prog}: unknown option -- {c}\n"),
                        usage: true,
                    })
                }
            }
        }
        i += 1;
    }
    let operands = &args[i..];
    if operands.len() != 1 {
        return Err(CliError {
            message: String::new(),
            usage: true,
        });
    }
    o.url = operands[0].clone();
    Ok(Command::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, CliError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse("rump_server", &args)? {
            Command::Run(o) => Ok(o),
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn getopt_forms() {
        let o = run(&[
            "-sv",
            "-lrumpvfs",
            "-l",
            "rumpfs_tmpfs",
            "-c2",
            "-r",
            "16m",
            "unix://sock",
        ])
        .unwrap();
        assert!(o.foreground && o.verbose);
        assert_eq!(o.libs, ["rumpvfs", "rumpfs_tmpfs"]);
        assert_eq!(o.ncpu.as_deref(), Some("2"));
        assert_eq!(o.memlimit.as_deref(), Some("16m"));
        assert_eq!(o.url, "unix://sock");
        let o = run(&["-m", "a.kmod", "-m", "b.kmod", "--", "-weird"]).unwrap();
        assert_eq!(o.modules, ["a.kmod", "b.kmod"]);
        assert_eq!(o.url, "-weird");
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            run(&[]).unwrap_err(),
            CliError {
                message: String::new(),
                usage: true
            }
        );
        assert!(run(&["a", "b"]).unwrap_err().usage);
        assert!(
            run(&["unix://x", "-s"]).is_err(),
            "options stop at the first operand"
        );
        assert_eq!(
            run(&["-x", "u"]).unwrap_err().message,
            "rump_server: unknown option -- x\n"
        );
        assert_eq!(
            run(&["-s", "-l"]).unwrap_err().message,
            "rump_server: option requires an argument -- l\n"
        );
        assert_eq!(parse("p", &["--help".into()]).unwrap(), Command::Help);
    }

    #[test]
    fn usage_text() {
        assert_eq!(
            usage("rump_server"),
            "usage: rump_server [-s] [-c ncpu] [-d drivespec] [-l libs] [-m modules] bindurl\n"
        );
    }
}
