//! rump.fsck_ffs [-fFn] [-b block] special ...: fsck_ffs -n's check of a
//! UFS1/UFS2 file system on a device (or image file) inside the kernel,
//! reading it through the client's syscalls and changing nothing. It
//! reports in fsck_ffs's phases and words, answers "no" to every repair
//! question, and exits 0 when the file system is consistent, 2 when
//! inconsistencies remain (as fsck_ffs -n does), 8 when it cannot be
//! checked at all and 1 on a usage error.
//!
//! Without -f a file system marked clean is not checked, as fsck_ffs
//! does; -F (an image file, not a device) is accepted and changes
//! nothing. The checker ([`check`]) works on any [`Disk`], so an image
//! can also be checked from the host side.

mod pass1;
mod pass1b;
mod pass2;
mod pass3;
mod pass4;
mod pass5;
mod report;
mod setup;
mod state;
mod walk;

use super::common::parse_args;
use super::getopt::Opt;
use super::ufs::disk::{Disk, KernelDisk};
use super::ufs::{FS_DOQUOTA2, FS_DOWAPBL, FS_ISCLEAN};
use netbsd_abi::fcntl::O_RDONLY;
use report::Report;
use state::Fsck;
use std::io::Write;

/// fsck_ffs's exit statuses.
pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 1;
pub const EXIT_UNRESOLVED: i32 = 2;
pub const EXIT_CHECK_FAILED: i32 = 8;

/// How to check.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// -f: check even a file system marked clean.
    pub force: bool,
    /// -b: the superblock's sector number, instead of the standard
    /// places (the comparison with a backup is then skipped).
    pub alternate: Option<u64>,
}

/// The final summary line's numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: u64,
    pub used: u64,
    pub free_frags: i64,
    pub free_blocks: i64,
}

/// What a check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub status: i32,
    /// None when the check stopped before the end (or was skipped).
    pub summary: Option<Summary>,
}

const USAGE: &str = "usage: rump.fsck_ffs [-fFn] [-b block] filesystem ...\n";

pub fn main(prog: &str, args: &[String]) -> i32 {
    let usage = USAGE.replace("rump.fsck_ffs", prog);
    let (opts, operands) = match parse_args(prog, args, "b:fFnpy", &usage) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let mut o = Options::default();
    for opt in &opts {
        match opt {
            Opt::Flag('f') => o.force = true,
            Opt::Flag('F') | Opt::Flag('n') => {}
            Opt::Flag(c @ ('y' | 'p')) => {
                eprintln!(
                    "{prog}: -{c} is not supported: this fsck_ffs only checks, as with -n, and repairs nothing"
                );
                return EXIT_USAGE;
            }
            Opt::Arg('b', v) => match v.parse::<u64>() {
                Ok(n) => {
                    super::common::say(&format!("Alternate super block location: {n}"));
                    o.alternate = Some(n);
                }
                Err(_) => {
                    eprintln!("{prog}: -b flag requires a number");
                    return EXIT_USAGE;
                }
            },
            _ => {}
        }
    }
    if operands.is_empty() {
        eprint!("{usage}");
        return EXIT_USAGE;
    }
    let client = match super::connect(prog) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut status = EXIT_OK;
    let stdout = std::io::stdout();
    for name in &operands {
        let mut out = stdout.lock();
        let s = match KernelDisk::open(&client, name.as_bytes(), O_RDONLY, 0) {
            Ok(disk) => check(&disk, name, &o, &mut out).status,
            Err(e) => {
                let _ = writeln!(out, "Can't open {name}: {e}");
                EXIT_CHECK_FAILED
            }
        };
        status = status.max(s);
    }
    status
}

/// Checks the file system on `disk` (called `name` in messages),
/// writing fsck_ffs's report to `out`.
pub fn check<'a>(
    disk: &'a dyn Disk,
    name: &str,
    opts: &Options,
    out: &'a mut dyn Write,
) -> Outcome {
    let mut r = Report::new(out);
    r.line(&format!("** {name} (NO WRITE)"));
    run(disk, opts, r)
}

fn run<'a>(disk: &'a dyn Disk, opts: &Options, mut r: Report<'a>) -> Outcome {
    let failed = Outcome {
        status: EXIT_CHECK_FAILED,
        summary: None,
    };
    let Ok(g) = setup::find(disk, &mut r, opts.alternate) else {
        return failed;
    };
    if opts.alternate.is_none() {
        setup::compare_backup(disk, &g, &mut r);
    }
    if g.sb.flags & FS_DOWAPBL != 0 {
        r.line("** File system is journaled; the journal is not replayed");
    }
    let clean = g.sb.clean & FS_ISCLEAN != 0;
    if clean && !opts.force && !r.unresolved {
        r.line("** File system is clean; not checking");
        return Outcome::default();
    }
    if clean {
        r.line("** File system is already clean");
    }
    setup::check_fields(&g, &mut r);
    let csums = setup::read_summaries(disk, &g, &mut r);
    let fsmnt = String::from_utf8_lossy(g.sb.fsmnt.text()).into_owned();
    let mut f = Fsck::new(disk, g, r, csums);
    f.r.line(&format!("** Last Mounted on {fsmnt}"));
    f.r.line("** Phase 1 - Check Blocks and Sizes");
    pass1::run(&mut f);
    if !f.dups.is_empty() {
        f.r.line("** Phase 1b - Rescan For More DUPS");
        pass1b::run(&mut f);
    }
    f.r.line("** Phase 2 - Check Pathnames");
    if pass2::run(&mut f).is_err() {
        return failed;
    }
    f.r.line("** Phase 3 - Check Connectivity");
    pass3::run(&mut f);
    f.r.line("** Phase 4 - Check Reference Counts");
    pass4::run(&mut f);
    f.r.line("** Phase 5 - Check Cyl groups");
    pass5::run(&mut f);
    if f.g.sb.flags & FS_DOQUOTA2 != 0 {
        f.r.line("** Quotas are not checked");
    }
    let summary = summarize(&mut f);
    let unresolved = f.r.unresolved;
    if unresolved {
        f.r.line("\n***** UNRESOLVED INCONSISTENCIES REMAIN *****");
    }
    Outcome {
        status: if unresolved { EXIT_UNRESOLVED } else { EXIT_OK },
        summary: Some(summary),
    }
}

/// "n files, n used, n free (n frags, n blocks, n.n% fragmentation)",
/// from the superblock's totals as they are on disk.
fn summarize(f: &mut Fsck<'_>) -> Summary {
    let t = f.g.sb.fs_cstotal();
    let (nffree, nbfree) = (t.nffree, t.nbfree);
    let frag = f.g.frag as i64;
    let dsize = f.g.dsize as i64;
    let (pct, tenth) = if dsize > 0 {
        (
            nffree.saturating_mul(100) / dsize,
            (nffree.saturating_mul(1000).saturating_add(dsize / 2) / dsize) % 10,
        )
    } else {
        (0, 0)
    };
    f.r.line(&format!(
        "{} files, {} used, {} free ({nffree} frags, {nbfree} blocks, {pct}.{tenth}% fragmentation)",
        f.n_files,
        f.n_blks,
        nffree.saturating_add(frag.saturating_mul(nbfree)),
    ));
    Summary {
        files: f.n_files,
        used: f.n_blks,
        free_frags: nffree,
        free_blocks: nbfree,
    }
}
