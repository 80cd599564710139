//! rump.mount [-fruvw] [-t type] [-o options] special node: mounts a
//! file system in the kernel, building the argument block its type
//! expects (tmpfs, ffs, ext2fs, msdos, cd9660; other types get an empty
//! one). Without operands it lists the mounts as mount(8) does; with one
//! and -u it updates that mount.

use super::chown::{group_id, user_id};
use super::clock::{now, Zone};
use super::common::{parse_args, show, trim_slashes, usage, user_name, warnx, Output};
use super::getopt::Opt;
use super::numbers::dehumanize;
use crate::region::cstring;
use crate::Client;
use netbsd_abi::mount::*;
use netbsd_abi::stat::ALLPERMS;
use netbsd_abi::statvfs::StatVfs;
use netbsd_abi::Errno;

const MNT_DISCARD: i32 = 0x0080_0000;
const MNT_EXTATTR: i32 = 0x0100_0000;
const MNT_EXRDONLY: i32 = 0x0000_0080;
const MNT_EXPORTED: i32 = 0x0000_0100;
const MNT_DEFEXPORTED: i32 = 0x0000_0200;
const MNT_EXPORTANON: i32 = 0x0000_0400;
const MNT_EXKERB: i32 = 0x0000_0800;
const MNT_EXNORESPORT: i32 = 0x0800_0000;
const MNT_EXPUBLIC: i32 = 0x1000_0000;

/// The flags statvfs shows (NetBSD's MNT_VISFLAGMASK).
const VISIBLE: i32 = MNT_RDONLY
    | MNT_SYNCHRONOUS
    | MNT_NOEXEC
    | MNT_NOSUID
    | MNT_NODEV
    | MNT_UNION
    | MNT_ASYNC
    | MNT_NOCOREDUMP
    | MNT_IGNORE
    | MNT_DISCARD
    | MNT_NOATIME
    | MNT_SYMPERM
    | MNT_NODEVMTIME
    | MNT_SOFTDEP
    | MNT_EXRDONLY
    | MNT_EXPORTED
    | MNT_DEFEXPORTED
    | MNT_EXPORTANON
    | MNT_EXKERB
    | MNT_EXNORESPORT
    | MNT_EXPUBLIC
    | MNT_LOCAL
    | MNT_QUOTA
    | MNT_ROOTFS
    | MNT_LOG
    | MNT_EXTATTR;

/// mount(8)'s words for the flags, in its order; `true` marks the ones
/// shown only with -v.
const FLAG_WORDS: &[(i32, bool, &str)] = &[
    (MNT_ASYNC, false, "asynchronous"),
    (MNT_DISCARD, false, "discard"),
    (MNT_EXTATTR, false, "extattr"),
    (MNT_IGNORE, false, "hidden"),
    (MNT_LOG, false, "log"),
    (MNT_NOATIME, false, "noatime"),
    (MNT_NOCOREDUMP, false, "nocoredump"),
    (MNT_NODEV, false, "nodev"),
    (MNT_NODEVMTIME, false, "nodevmtime"),
    (MNT_NOEXEC, false, "noexec"),
    (MNT_NOSUID, false, "nosuid"),
    (MNT_RDONLY, false, "read-only"),
    (MNT_RELATIME, false, "relatime"),
    (MNT_SOFTDEP, false, "soft dependencies"),
    (MNT_SYMPERM, false, "symperm"),
    (MNT_SYNCHRONOUS, false, "synchronous"),
    (MNT_UNION, false, "union"),
    (MNT_EXRDONLY, true, "exported read-only"),
    (MNT_EXPORTED, false, "NFS exported"),
    (MNT_DEFEXPORTED, true, "exported to the world"),
    (MNT_EXPORTANON, true, "anon uid mapping"),
    (MNT_EXKERB, true, "kerberos uid mapping"),
    (MNT_EXNORESPORT, false, "non-reserved ports"),
    (MNT_EXPUBLIC, false, "WebNFS exports"),
    (MNT_LOCAL, false, "local"),
    (MNT_QUOTA, false, "with quotas"),
    (MNT_ROOTFS, true, "root file system"),
];

/// An -o word that sets (or, `inverse`, clears) a flag; "no" in front
/// does the opposite, as getmntopts(3).
type OptWord = (&'static str, bool, i32);

const GENERIC_WORDS: &[OptWord] = &[
    ("async", false, MNT_ASYNC),
    ("sync", false, MNT_SYNCHRONOUS),
    ("rdonly", false, MNT_RDONLY),
    ("ro", false, MNT_RDONLY),
    ("rw", true, MNT_RDONLY),
    ("update", false, MNT_UPDATE),
    ("force", false, MNT_FORCE),
    ("reload", false, MNT_RELOAD),
    ("atime", true, MNT_NOATIME),
    ("dev", true, MNT_NODEV),
    ("exec", true, MNT_NOEXEC),
    ("suid", true, MNT_NOSUID),
    ("coredump", true, MNT_NOCOREDUMP),
    ("devmtime", true, MNT_NODEVMTIME),
    ("union", false, MNT_UNION),
    ("hidden", false, MNT_IGNORE),
    ("symperm", false, MNT_SYMPERM),
    ("log", false, MNT_LOG),
    ("relatime", false, MNT_RELATIME),
    ("softdep", false, MNT_SOFTDEP),
    ("extattr", false, MNT_EXTATTR),
    ("discard", false, MNT_DISCARD),
    ("auto", false, 0),
    ("rump", false, 0),
    ("userquota", false, 0),
    ("groupquota", false, 0),
];

const CD9660_WORDS: &[OptWord] = &[
    ("extatt", false, ISOFSMNT_EXTATT),
    ("gens", false, ISOFSMNT_GENS),
    ("maplcase", true, ISOFSMNT_NOCASETRANS),
    ("casetrans", true, ISOFSMNT_NOCASETRANS),
    ("joliet", true, ISOFSMNT_NOJOLIET),
    ("nrr", false, ISOFSMNT_NORRIP),
    ("rrip", true, ISOFSMNT_NORRIP),
    ("rrcaseins", false, ISOFSMNT_RRCASEINS),
];

const MSDOSFSMNT_SHORTNAME: i32 = 1;
const MSDOSFSMNT_LONGNAME: i32 = 2;
const MSDOSFSMNT_NOWIN95: i32 = 4;
const MSDOSFSMNT_GEMDOSFS: i32 = 8;
const MSDOSFSMNT_VERSIONED: i32 = 16;
const MSDOSFSMNT_UTF8: i32 = 32;

const MSDOS_WORDS: &[OptWord] = &[
    ("shortname", false, MSDOSFSMNT_SHORTNAME),
    ("shortnames", false, MSDOSFSMNT_SHORTNAME),
    ("longname", false, MSDOSFSMNT_LONGNAME),
    ("longnames", false, MSDOSFSMNT_LONGNAME),
    ("win95", true, MSDOSFSMNT_NOWIN95),
    ("gemdosfs", false, MSDOSFSMNT_GEMDOSFS),
    ("utf8", false, MSDOSFSMNT_UTF8),
];

/// What the -o words and switches asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct MountOpts {
    flags: i32,
    /// File-system-specific flag bits (cd9660, msdos).
    fs_flags: i32,
    /// key=value words, in order.
    values: Vec<(String, String)>,
}

/// The key=value words each type takes.
fn value_keys(fstype: &str) -> &'static [&'static str] {
    match fstype {
        "tmpfs" => &["size", "nodes", "mode", "uid", "gid"],
        "msdos" => &["uid", "gid", "mask", "dirmask", "gmtoff"],
        _ => &[],
    }
}

fn fs_words(fstype: &str) -> &'static [OptWord] {
    match fstype {
        "cd9660" => CD9660_WORDS,
        "msdos" => MSDOS_WORDS,
        _ => &[],
    }
}

/// Applies comma-separated -o words to `o`, as getmntopts(3) does.
fn parse_options(o: &mut MountOpts, words: &str, fstype: &str) -> Result<(), String> {
    for word in words.split(',').filter(|w| !w.is_empty()) {
        if let Some((k, v)) = word.split_once('=') {
            if value_keys(fstype).contains(&k) {
                o.values.push((k.to_string(), v.to_string()));
                continue;
            }
        }
        let (negative, name) = match word.strip_prefix("no") {
            Some(rest) => (true, rest),
            None => (false, word),
        };
        let name = name.split_once('=').map_or(name, |(n, _)| n);
        let find = |table: &[OptWord]| {
            table
                .iter()
                .find(|(w, _, _)| w.eq_ignore_ascii_case(name))
                .map(|&(_, inv, bit)| (inv, bit))
        };
        let (target, (inverse, bit)) = match (find(GENERIC_WORDS), find(fs_words(fstype))) {
            (Some(g), _) => (&mut o.flags, g),
            (None, Some(f)) => (&mut o.fs_flags, f),
            (None, None) => return Err(format!("-o {name}: option not supported")),
        };
        if negative == inverse {
            *target |= bit;
        } else {
            *target &= !bit;
        }
    }
    Ok(())
}

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!(
        "Usage: {prog} [-fruvw] [-t type]\n\t{prog} [-fruvw] special | node\n\t\
         {prog} [-fruvw] [-o options] [-t type] special node\n"
    );
    let (opts, operands) = match parse_args(prog, args, "fo:rt:uvw", &text) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let Some(m) = Mount::new(prog, opts) else {
        return 1;
    };
    if operands.len() > 2 || (operands.len() == 1 && m.fstype.is_some()) {
        return usage(&text);
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match operands.as_slice() {
        [] => m.list(&client),
        [one] => m.update(&client, one),
        [special, node] => {
            let fstype = m.fstype.clone().unwrap_or_else(|| "ffs".into());
            m.mount(&client, &fstype, special, node)
        }
        _ => usage(&text),
    }
}

struct Mount<'a> {
    prog: &'a str,
    flags: i32,
    words: Vec<String>,
    fstype: Option<String>,
    verbose: bool,
}

impl<'a> Mount<'a> {
    /// The switches; None (reported) if -t is given twice.
    fn new(prog: &'a str, opts: Vec<Opt>) -> Option<Mount<'a>> {
        let mut m = Mount {
            prog,
            flags: 0,
            words: Vec::new(),
            fstype: None,
            verbose: false,
        };
        for o in opts {
            match o {
                Opt::Flag('f') => m.flags |= MNT_FORCE,
                Opt::Flag('r') => m.flags |= MNT_RDONLY,
                Opt::Flag('w') => m.flags &= !MNT_RDONLY,
                Opt::Flag('u') => m.flags |= MNT_UPDATE,
                Opt::Flag('v') => m.verbose = true,
                Opt::Arg('o', w) => m.words.push(w),
                Opt::Arg('t', _) if m.fstype.is_some() => {
                    warnx(prog, "Only one -t option may be specified.");
                    return None;
                }
                Opt::Arg('t', t) => m.fstype = Some(t),
                _ => {}
            }
        }
        Some(m)
    }

    fn list(&self, client: &Client) -> i32 {
        let mounts = match client.getvfsstat() {
            Ok(m) => m,
            Err(e) => {
                warnx(self.prog, format!("getmntinfo: {e}"));
                return 1;
            }
        };
        let types = self.fstype.as_deref().map(TypeList::new);
        let mut out = Output::new();
        for sv in &mounts {
            if types.as_ref().is_none_or(|t| t.selects(&sv.fstypename)) {
                out.text(&mount_line(sv, self.verbose));
            }
        }
        i32::from(!out.finish(self.prog))
    }

    /// `mount -u node`: updates a mounted file system with new options.
    fn update(&self, client: &Client, name: &str) -> i32 {
        let found = (self.flags & MNT_UPDATE != 0)
            .then(|| client.getvfsstat().ok())
            .flatten()
            .and_then(|all| {
                let trimmed = show(trim_slashes(name.as_bytes())).into_owned();
                all.into_iter()
                    .rev()
                    .find(|s| s.mntonname == trimmed || s.mntfromname == name)
            });
        match found {
            Some(sv) => self.mount(client, &sv.fstypename, &sv.mntfromname, &sv.mntonname),
            None => {
                let msg = format!("Unknown special file or file system `{name}'");
                warnx(self.prog, msg);
                1
            }
        }
    }

    fn mount(&self, client: &Client, fstype: &str, special: &str, node: &str) -> i32 {
        let mut o = MountOpts {
            flags: self.flags,
            ..MountOpts::default()
        };
        for w in &self.words {
            if let Err(msg) = parse_options(&mut o, w, fstype) {
                warnx(self.prog, msg);
                return 1;
            }
        }
        let r = match fstype {
            "tmpfs" => self.mount_tmpfs(client, &o, node),
            "ffs" | "ext2fs" | "lfs" => mount_ufs(client, &o, fstype, special, node),
            "msdos" => match msdos_args(&o) {
                Ok(a) => mount_msdos(client, &o, a, special, node),
                Err(msg) => {
                    warnx(self.prog, msg);
                    return 1;
                }
            },
            "cd9660" => mount_cd9660(client, &o, special, node),
            _ => client
                .mount(fstype.as_bytes(), node.as_bytes(), o.flags, &mut [])
                .map_err(Failure::Errno),
        };
        match r {
            Ok(_) => {
                if self.verbose {
                    self.show_mount(client, node);
                }
                0
            }
            Err(Failure::Message(msg)) => {
                warnx(self.prog, msg);
                1
            }
            Err(Failure::Errno(e)) => {
                let what = if fstype == "tmpfs" { "tmpfs" } else { special };
                let cause = error_cause(fstype, o.flags, e);
                warnx(self.prog, format!("{what} on {node}: {cause}"));
                1
            }
        }
    }

    /// -v after mounting: the new mount's line.
    fn show_mount(&self, client: &Client, node: &str) {
        if let Ok(sv) = client.statvfs(node.as_bytes()) {
            let mut out = Output::new();
            out.text(&mount_line(&sv, false));
            out.finish(self.prog);
        }
    }

    fn mount_tmpfs(&self, client: &Client, o: &MountOpts, node: &str) -> Result<i64, Failure> {
        let st = client
            .stat(node.as_bytes())
            .map_err(|e| Failure::Message(format!("cannot stat `{node}': {e}")))?;
        let mut args = TmpfsArgs {
            version: TmpfsArgs::VERSION,
            root_uid: st.uid,
            root_gid: st.gid,
            root_mode: st.mode & ALLPERMS,
            ..TmpfsArgs::default()
        };
        tmpfs_values(&mut args, &o.values).map_err(Failure::Message)?;
        let mut data = args.encode();
        Ok(client.mount(b"tmpfs", node.as_bytes(), o.flags, &mut data)?)
    }
}

/// Why a mount failed: an errno, or a message of the tool's own.
enum Failure {
    Errno(Errno),
    Message(String),
}

impl From<Errno> for Failure {
    fn from(e: Errno) -> Self {
        Failure::Errno(e)
    }
}

/// mount_ffs(8)'s and mount_ext2fs(8)'s wording for some errors.
fn error_cause(fstype: &str, flags: i32, e: Errno) -> String {
    if !matches!(fstype, "ffs" | "ext2fs") {
        return e.to_string();
    }
    match e {
        Errno::EMFILE => "mount table full".into(),
        Errno::EINVAL if flags & MNT_UPDATE != 0 => {
            "specified device does not match mounted device".into()
        }
        Errno::EINVAL => "incorrect super block".into(),
        _ => e.to_string(),
    }
}

/// A mode in octal, as mount's -m options take it.
fn octal_mode(v: &str) -> Option<u32> {
    u32::from_str_radix(v, 8)
        .ok()
        .filter(|m| m & !ALLPERMS == 0)
}

fn tmpfs_values(a: &mut TmpfsArgs, values: &[(String, String)]) -> Result<(), String> {
    for (k, v) in values {
        let bad = || format!("failed to parse {k} `{v}'");
        match k.as_str() {
            "size" => a.size_max = dehumanize(v).filter(|&n| n >= 0).ok_or_else(bad)?,
            "nodes" => {
                let n = dehumanize(v).filter(|&n| n >= 0).ok_or_else(bad)?;
                a.nodes_max = n as u64;
            }
            "mode" => a.root_mode = octal_mode(v).ok_or_else(bad)?,
            "uid" => a.root_uid = user_id(v)?,
            "gid" => a.root_gid = group_id(v)?,
            _ => return Err(format!("-o {k}: option not supported")),
        }
    }
    Ok(())
}

/// msdosfs_args from the options: uid 0, gid 0, mask 0755 and dirmask =
/// mask unless given (each mask follows the other when only one is);
/// the host's UTC offset.
fn msdos_args(o: &MountOpts) -> Result<MsdosfsArgs, String> {
    let t = now();
    let mut a = MsdosfsArgs {
        flags: o.fs_flags | MSDOSFSMNT_VERSIONED,
        version: MsdosfsArgs::VERSION,
        gmtoff: i32::try_from(Zone::local().offset(t)).unwrap_or(0),
        ..MsdosfsArgs::default()
    };
    let (mut mask, mut dirmask) = (None, None);
    for (k, v) in &o.values {
        let bad = || format!("failed to parse {k} `{v}'");
        match k.as_str() {
            "uid" => a.uid = user_id(v)?,
            "gid" => a.gid = group_id(v)?,
            "mask" => mask = Some(octal_mode(v).ok_or_else(bad)? & 0o777),
            "dirmask" => dirmask = Some(octal_mode(v).ok_or_else(bad)? & 0o777),
            "gmtoff" => a.gmtoff = v.parse().map_err(|_| bad())?,
            _ => return Err(format!("-o {k}: option not supported")),
        }
    }
    a.mask = mask.or(dirmask).unwrap_or(0o755);
    a.dirmask = dirmask.unwrap_or(a.mask);
    Ok(a)
}

/// The 8-byte address of `s` for an argument block (a pointer field).
fn address_of(s: &[u8]) -> [u8; 8] {
    (s.as_ptr() as u64).to_le_bytes()
}

fn mount_ufs(
    client: &Client,
    o: &MountOpts,
    fstype: &str,
    special: &str,
    node: &str,
) -> Result<i64, Failure> {
    let spec = cstring(special.as_bytes());
    let mut data = address_of(&spec);
    Ok(client.mount_with(
        fstype.as_bytes(),
        node.as_bytes(),
        o.flags,
        &mut data,
        &[&spec],
    )?)
}

fn mount_msdos(
    client: &Client,
    o: &MountOpts,
    mut a: MsdosfsArgs,
    special: &str,
    node: &str,
) -> Result<i64, Failure> {
    let spec = cstring(special.as_bytes());
    a.fspec = spec.as_ptr() as u64;
    let mut data = a.encode();
    Ok(client.mount_with(b"msdos", node.as_bytes(), o.flags, &mut data, &[&spec])?)
}

/// cd9660 is always mounted read-only, as mount_cd9660(8) does.
fn mount_cd9660(client: &Client, o: &MountOpts, special: &str, node: &str) -> Result<i64, Failure> {
    let spec = cstring(special.as_bytes());
    let mut data = iso_args(&spec, o.fs_flags);
    let flags = o.flags | MNT_RDONLY;
    Ok(client.mount_with(b"cd9660", node.as_bytes(), flags, &mut data, &[&spec])?)
}

/// `struct iso_args` for a special path string and ISOFSMNT_* flags.
fn iso_args(spec: &[u8], flags: i32) -> [u8; IsoArgs::SIZE] {
    IsoArgs {
        fspec: spec.as_ptr() as u64,
        flags,
    }
    .encode()
}

/// A -t list: "ffs,tmpfs" selects those types, "noffs,tmpfs" all others.
struct TypeList {
    names: Vec<String>,
    exclude: bool,
}

impl TypeList {
    fn new(spec: &str) -> TypeList {
        let (exclude, list) = match spec.strip_prefix("no") {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        TypeList {
            names: list.split(',').map(str::to_string).collect(),
            exclude,
        }
    }

    fn selects(&self, fstype: &str) -> bool {
        self.names.iter().any(|n| n == fstype) != self.exclude
    }
}

/// One line of mount(8)'s listing:
/// "from on dir type fstype (flag, flag, ...)".
fn mount_line(sv: &StatVfs, verbose: bool) -> String {
    let mut s = format!(
        "{} on {} type {}",
        sv.mntfromname, sv.mntonname, sv.fstypename
    );
    let mut words: Vec<String> = Vec::new();
    let mut flags = (sv.flag as i32) & VISIBLE;
    for &(bit, silent, word) in FLAG_WORDS {
        if flags & bit != 0 {
            if !silent || verbose {
                words.push(word.into());
            }
            flags &= !bit;
        }
    }
    if flags != 0 {
        let plural = if flags & (flags - 1) != 0 { "s" } else { "" };
        words.push(format!("unknown flag{plural} {flags:#x}"));
    }
    if sv.owner != 0 {
        words.push(format!("mounted by {}", user_name(sv.owner)));
    }
    if verbose {
        words.push(format!("fsid: {:#x}/{:#x}", sv.fsidx[0], sv.fsidx[1]));
        words.push(format!(
            "reads: sync {} async {}, writes: sync {} async {}",
            sv.syncreads, sv.asyncreads, sv.syncwrites, sv.asyncwrites
        ));
    }
    if !words.is_empty() {
        s += &format!(" ({})", words.join(", "));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(words: &str, fstype: &str, flags: i32) -> Result<MountOpts, String> {
        let mut o = MountOpts {
            flags,
            ..MountOpts::default()
        };
        parse_options(&mut o, words, fstype).map(|()| o)
    }

    #[test]
    fn option_words() {
        let o = opts("ro,noatime,nodev,nosuid,noexec", "ffs", 0).unwrap();
        assert_eq!(
            o.flags,
            MNT_RDONLY | MNT_NOATIME | MNT_NODEV | MNT_NOSUID | MNT_NOEXEC
        );
        assert_eq!(opts("rw", "ffs", MNT_RDONLY).unwrap().flags, 0);
        assert_eq!(opts("noro", "ffs", MNT_RDONLY).unwrap().flags, 0);
        assert_eq!(
            opts("update,force", "ffs", 0).unwrap().flags,
            MNT_UPDATE | MNT_FORCE
        );
        assert_eq!(opts("async", "ffs", 0).unwrap().flags, MNT_ASYNC);
        assert_eq!(opts("sync", "ffs", 0).unwrap().flags, MNT_SYNCHRONOUS);
        assert_eq!(opts("atime", "ffs", MNT_NOATIME).unwrap().flags, 0);
        assert_eq!(
            opts("bogus", "ffs", 0).unwrap_err(),
            "-o bogus: option not supported"
        );
        assert_eq!(
            opts("size=1m", "ffs", 0).unwrap_err(),
            "-o size: option not supported"
        );
    }

    #[test]
    fn tmpfs_option_values() {
        let o = opts("size=2m,nodes=100,mode=1777,uid=5,gid=wheel,ro", "tmpfs", 0).unwrap();
        assert_eq!(o.flags, MNT_RDONLY);
        let mut a = TmpfsArgs::default();
        tmpfs_values(&mut a, &o.values).unwrap();
        assert_eq!(
            (a.size_max, a.nodes_max, a.root_mode, a.root_uid, a.root_gid),
            (2 << 20, 100, 0o1777, 5, 0)
        );
        let o = opts("size=lots", "tmpfs", 0).unwrap();
        assert_eq!(
            tmpfs_values(&mut a, &o.values).unwrap_err(),
            "failed to parse size `lots'"
        );
        let o = opts("mode=999", "tmpfs", 0).unwrap();
        assert!(tmpfs_values(&mut a, &o.values).is_err());
    }

    #[test]
    fn msdos_and_cd9660_options() {
        let a = msdos_args(&opts("", "msdos", 0).unwrap()).unwrap();
        assert_eq!((a.uid, a.gid, a.mask, a.dirmask), (0, 0, 0o755, 0o755));
        assert_eq!((a.version, a.flags), (3, MSDOSFSMNT_VERSIONED));
        let o = opts("uid=1000,gid=10,mask=644,longnames,nowin95", "msdos", 0).unwrap();
        let a = msdos_args(&o).unwrap();
        assert_eq!((a.uid, a.gid, a.mask, a.dirmask), (1000, 10, 0o644, 0o644));
        assert_eq!(
            a.flags,
            MSDOSFSMNT_VERSIONED | MSDOSFSMNT_LONGNAME | MSDOSFSMNT_NOWIN95
        );
        let a = msdos_args(&opts("dirmask=700", "msdos", 0).unwrap()).unwrap();
        assert_eq!((a.mask, a.dirmask), (0o700, 0o700));
        let o = opts("norrip,nojoliet,gens", "cd9660", 0).unwrap();
        assert_eq!(
            o.fs_flags,
            ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET | ISOFSMNT_GENS
        );
        assert_eq!(
            opts("nocasetrans", "cd9660", 0).unwrap().fs_flags,
            ISOFSMNT_NOCASETRANS
        );
        assert_eq!(opts("nrr", "cd9660", 0).unwrap().fs_flags, ISOFSMNT_NORRIP);
        let spec = cstring(b"/dev/cd0a");
        let b = iso_args(&spec, ISOFSMNT_NORRIP);
        assert_eq!(b.len(), 144);
        assert_eq!(
            u64::from_le_bytes(b[..8].try_into().unwrap()),
            spec.as_ptr() as u64
        );
        assert_eq!(&b[136..140], &[1, 0, 0, 0]);
    }

    #[test]
    fn listing_lines() {
        let mut sv = StatVfs {
            flag: (MNT_LOCAL | MNT_ROOTFS) as u64,
            fstypename: "tmpfs".into(),
            mntonname: "/".into(),
            mntfromname: "tmpfs".into(),
            ..StatVfs::default()
        };
        assert_eq!(mount_line(&sv, false), "tmpfs on / type tmpfs (local)\n");
        sv.flag = (MNT_RDONLY | MNT_NOSUID | MNT_LOCAL) as u64;
        assert_eq!(
            mount_line(&sv, false),
            "tmpfs on / type tmpfs (nosuid, read-only, local)\n"
        );
        sv.flag = 0;
        assert_eq!(mount_line(&sv, false), "tmpfs on / type tmpfs\n");
        sv.owner = 1000;
        assert_eq!(
            mount_line(&sv, false),
            "tmpfs on / type tmpfs (mounted by 1000)\n"
        );
        sv.owner = 0;
        sv.flag = (MNT_ROOTFS) as u64;
        sv.fsidx = [0xab02, 0x1a];
        assert_eq!(
            mount_line(&sv, true),
            "tmpfs on / type tmpfs (root file system, fsid: 0xab02/0x1a, \
             reads: sync 0 async 0, writes: sync 0 async 0)\n"
        );
        let t = TypeList::new("tmpfs,ffs");
        assert!(t.selects("ffs") && !t.selects("msdos"));
        let t = TypeList::new("notmpfs");
        assert!(!t.selects("tmpfs") && t.selects("ffs"));
    }

    #[test]
    fn ffs_error_words() {
        assert_eq!(
            error_cause("ffs", 0, Errno::EINVAL),
            "incorrect super block"
        );
        assert_eq!(
            error_cause("ffs", MNT_UPDATE, Errno::EINVAL),
            "specified device does not match mounted device"
        );
        assert_eq!(error_cause("tmpfs", 0, Errno::EINVAL), "Invalid argument");
        assert_eq!(error_cause("ext2fs", 0, Errno::EMFILE), "mount table full");
    }
}
