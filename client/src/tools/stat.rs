//! rump.stat [-Llnqrs] file ...: shows kernel files' metadata in stat(1)'s
//! default line format, or (-l) ls's, (-r) raw numbers or (-s) shell
//! assignments; -L follows symbolic links.

use super::clock::{stat_date, Zone};
use super::common::{is_link, show, usage, warnx, Output};
use super::getopt::{getopt, Opt};
use super::modes::strmode;
use crate::Client;
use netbsd_abi::stat::{major, minor, Stat, Timespec, S_IFBLK, S_IFCHR, S_IFMT};
use netbsd_abi::Errno;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Default,
    Ls,
    Raw,
    Shell,
}

/// The switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Switches {
    follow: bool,
    no_newline: bool,
    quiet: bool,
    form: Form,
}

/// The format a switch selects.
fn form_of(c: char) -> Option<Form> {
    match c {
        'l' => Some(Form::Ls),
        'r' => Some(Form::Raw),
        's' => Some(Form::Shell),
        _ => None,
    }
}

/// Reads the switches; -l, -r and -s exclude each other.
fn switches(opts: &[Opt]) -> Result<Switches, String> {
    let mut s = Switches {
        follow: false,
        no_newline: false,
        quiet: false,
        form: Form::Default,
    };
    let mut chosen: Option<char> = None;
    for o in opts {
        let Opt::Flag(c) = *o else { continue };
        match c {
            'L' => s.follow = true,
            'n' => s.no_newline = true,
            'q' => s.quiet = true,
            _ => {}
        }
        let Some(form) = form_of(c) else { continue };
        if let Some(prev) = chosen {
            return Err(format!("can't use format '{prev}' with '{c}'"));
        }
        (chosen, s.form) = (Some(c), form);
    }
    Ok(s)
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!("usage: {prog} [-Llnqrs] file ...\n");
    let (opts, files) = match getopt(args, "Llnqrs") {
        Ok(v) => v,
        Err(e) => {
            warnx(prog, e);
            return usage(&text);
        }
    };
    let sw = match switches(&opts) {
        Ok(s) => s,
        Err(msg) => {
            warnx(prog, msg);
            return 1;
        }
    };
    if files.is_empty() {
        return usage(&text);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let zone = Zone::local();
    let mut out = Output::new();
    let mut ok = true;
    for f in &files {
        ok &= show_file(prog, &client, &sw, &zone, f.as_bytes(), &mut out);
    }
    let written = out.finish(prog);
    i32::from(!(ok && written))
}

/// stat(2) (falling back to lstat(2) for a dangling link) with -L,
/// otherwise lstat(2).
fn stat_of(client: &Client, p: &[u8], follow: bool) -> Result<Stat, Errno> {
    if !follow {
        return client.lstat(p);
    }
    client.stat(p).or_else(|e| match e {
        Errno::ENOENT => client.lstat(p).map_err(|_| Errno::ENOENT),
        e => Err(e),
    })
}

/// Prints one file's line; false (after a message unless -q) if it
/// cannot be examined.
fn show_file(
    prog: &str,
    client: &Client,
    sw: &Switches,
    zone: &Zone,
    p: &[u8],
    out: &mut Output,
) -> bool {
    let st = match stat_of(client, p, sw.follow) {
        Ok(st) => st,
        Err(e) => {
            if !sw.quiet {
                let call = if sw.follow { "stat" } else { "lstat" };
                warnx(prog, format!("{}: {call}: {e}", show(p)));
            }
            return false;
        }
    };
    let target = match sw.form == Form::Ls && is_link(st.mode) {
        true => client.readlink(p).ok(),
        false => None,
    };
    let mut line = format_line(sw.form, &st, p, zone, target.as_deref());
    if !sw.no_newline {
        line.push(b'\n');
    }
    out.bytes(&line);
    true
}

/// "%Su": the owner's name, or "(uid)" for one the kernel has no name for.
fn owner(uid: u32) -> String {
    if uid == 0 {
        "root".into()
    } else {
        format!("({uid})")
    }
}

/// "%Sg".
fn group(gid: u32) -> String {
    if gid == 0 {
        "wheel".into()
    } else {
        format!("({gid})")
    }
}

/// printf's "%#llo".
fn alt_octal(v: u32) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("0{v:o}")
    }
}

/// printf's "%#llx".
fn alt_hex(v: u32) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

/// One file's line in `form` (without the newline).
fn format_line(form: Form, st: &Stat, name: &[u8], zone: &Zone, target: Option<&[u8]>) -> Vec<u8> {
    let text = match form {
        Form::Default => default_fields(st, zone),
        Form::Raw => raw_fields(st),
        Form::Shell => return shell_line(st).into_bytes(),
        Form::Ls => ls_fields(st, zone),
    };
    let mut b = text.into_bytes();
    b.extend_from_slice(name);
    if let Some(t) = target {
        b.extend_from_slice(b" -> ");
        b.extend_from_slice(t);
    }
    b
}

/// The default format up to the name:
/// `%d %i %Sp %l %Su %Sg %r %z "%Sa" "%Sm" "%Sc" "%SB" %k %b %#Xf `.
fn default_fields(st: &Stat, zone: &Zone) -> String {
    let date = |t: Timespec| stat_date(zone, t.sec);
    let ids = format!("{} {} {} {}", st.dev, st.ino, strmode(st.mode), st.nlink);
    let owners = format!("{} {}", owner(st.uid), group(st.gid));
    let times = format!(
        "\"{}\" \"{}\" \"{}\" \"{}\"",
        date(st.atime),
        date(st.mtime),
        date(st.ctime),
        date(st.birthtime)
    );
    let tail = format!("{} {} {}", st.blksize, st.blocks, alt_hex(st.flags));
    format!("{ids} {owners} {} {} {times} {tail} ", st.rdev, st.size)
}

/// -r up to the name: `%d %i %#p %l %u %g %r %z %a %m %c %B %k %b %f `.
fn raw_fields(st: &Stat) -> String {
    let ids = format!("{} {} {} {}", st.dev, st.ino, alt_octal(st.mode), st.nlink);
    let times = format!(
        "{} {} {} {}",
        st.atime.sec, st.mtime.sec, st.ctime.sec, st.birthtime.sec
    );
    let tail = format!("{} {} {}", st.blksize, st.blocks, st.flags);
    format!(
        "{ids} {} {} {} {} {times} {tail} ",
        st.uid, st.gid, st.rdev, st.size
    )
}

/// -s: shell assignments, times in seconds.
fn shell_line(st: &Stat) -> String {
    let ids = format!(
        "st_dev={} st_ino={} st_mode={} st_nlink={} st_uid={} st_gid={} st_rdev={} st_size={}",
        st.dev,
        st.ino,
        alt_octal(st.mode),
        st.nlink,
        st.uid,
        st.gid,
        st.rdev,
        st.size
    );
    let times = format!(
        "st_atime={} st_mtime={} st_ctime={} st_birthtime={}",
        st.atime.sec, st.mtime.sec, st.ctime.sec, st.birthtime.sec
    );
    let tail = format!(
        "st_blksize={} st_blocks={} st_flags={}",
        st.blksize, st.blocks, st.flags
    );
    format!("{ids} {times} {tail}")
}

/// -l up to the name: `%Sp %l %Su %Sg %Z %Sm `.
fn ls_fields(st: &Stat, zone: &Zone) -> String {
    let size = match st.mode & S_IFMT {
        S_IFCHR | S_IFBLK => format!("{},{}", major(st.rdev), minor(st.rdev)),
        _ => st.size.to_string(),
    };
    format!(
        "{} {} {} {} {size} {} ",
        strmode(st.mode),
        st.nlink,
        owner(st.uid),
        group(st.gid),
        stat_date(zone, st.mtime.sec)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use netbsd_abi::stat::{S_IFDIR, S_IFLNK, S_IFREG};

    fn sample() -> Stat {
        let t = |sec| Timespec { sec, nsec: 0 };
        Stat {
            dev: 0xab02,
            ino: 17,
            mode: S_IFREG | 0o644,
            nlink: 1,
            uid: 1000,
            gid: 0,
            rdev: u64::MAX,
            size: 5,
            atime: t(1_700_000_000),
            mtime: t(1_700_000_000),
            ctime: t(1_700_000_001),
            birthtime: t(0),
            blksize: 4096,
            blocks: 8,
            ..Stat::default()
        }
    }

    fn line(form: Form, st: &Stat, name: &str, target: Option<&[u8]>) -> String {
        let b = format_line(form, st, name.as_bytes(), &Zone::default(), target);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn default_format() {
        assert_eq!(
            line(Form::Default, &sample(), "f", None),
            "43778 17 -rw-r--r-- 1 (1000) wheel 18446744073709551615 5 \
             \"Nov 14 22:13:20 2023\" \"Nov 14 22:13:20 2023\" \"Nov 14 22:13:21 2023\" \
             \"Jan  1 00:00:00 1970\" 4096 8 0 f"
        );
        let mut st = sample();
        (st.uid, st.flags, st.mode) = (0, 0x20, S_IFDIR | 0o755);
        let l = line(Form::Default, &st, "d", None);
        assert!(
            l.contains(" drwxr-xr-x 1 root wheel ") && l.ends_with(" 8 0x20 d"),
            "{l}"
        );
    }

    #[test]
    fn switch_combinations() {
        let o = |f: &str| switches(&f.chars().map(Opt::Flag).collect::<Vec<_>>());
        let s = o("Lnq").unwrap();
        assert!(s.follow && s.no_newline && s.quiet && s.form == Form::Default);
        assert_eq!(o("r").unwrap().form, Form::Raw);
        assert_eq!(o("Ls").unwrap().form, Form::Shell);
        assert_eq!(o("lr").unwrap_err(), "can't use format 'l' with 'r'");
    }

    #[test]
    fn other_formats() {
        assert_eq!(
            line(Form::Raw, &sample(), "f", None),
            "43778 17 0100644 1 1000 0 18446744073709551615 5 1700000000 1700000000 \
             1700000001 0 4096 8 0 f"
        );
        assert_eq!(
            line(Form::Shell, &sample(), "f", None),
            "st_dev=43778 st_ino=17 st_mode=0100644 st_nlink=1 st_uid=1000 st_gid=0 \
             st_rdev=18446744073709551615 st_size=5 st_atime=1700000000 \
             st_mtime=1700000000 st_ctime=1700000001 st_birthtime=0 st_blksize=4096 \
             st_blocks=8 st_flags=0"
        );
        let mut l = sample();
        l.mode = S_IFLNK | 0o755;
        assert_eq!(
            line(Form::Ls, &l, "l", Some(b"target")),
            "lrwxr-xr-x 1 (1000) wheel 5 Nov 14 22:13:20 2023 l -> target"
        );
        let mut d = sample();
        (d.mode, d.rdev) = (S_IFCHR | 0o600, netbsd_abi::stat::makedev(3, 5));
        assert!(line(Form::Ls, &d, "c", None).contains(" wheel 3,5 Nov"));
    }
}
