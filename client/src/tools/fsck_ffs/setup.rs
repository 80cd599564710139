//! Before the phases: finding the superblock, checking its geometry
//! (fatal when impossible) and its other fields (findings), comparing
//! it with the backup in the last cylinder group, and reading the
//! cylinder summary area.

use super::report::Report;
use crate::tools::ufs::disk::Disk;
use crate::tools::ufs::sb::{max_file_size, Csum, Geometry, Superblock};
use crate::tools::ufs::{
    Ufs, CSUM_SIZE, DEV_BSIZE, FS_44INODEFMT, FS_DYNAMICPOSTBLFMT, FS_KNOWN_FLAGS, FS_OPTSPACE,
    FS_OPTTIME, SBLOCKSIZE, SBLOCK_SEARCH, SBLOCK_UFS2,
};

/// Why the check cannot go on.
pub(super) struct Fatal;

/// Reads the superblock at `loc` (None if unreadable).
fn read_sb(disk: &dyn Disk, loc: u64) -> Option<Superblock> {
    let mut b = vec![0u8; SBLOCKSIZE];
    disk.read_at(loc, &mut b).ok()?;
    Some(Superblock::decode(&b))
}

/// Finds the superblock: at `alternate` (a sector number) if given,
/// else at the standard places, where it must say it belongs (as the
/// kernel insists) unless nothing else is found.
pub(super) fn find(
    disk: &dyn Disk,
    r: &mut Report<'_>,
    alternate: Option<u64>,
) -> Result<Geometry, Fatal> {
    let size = disk.size();
    if let Some(sector) = alternate {
        let loc = sector.saturating_mul(DEV_BSIZE);
        let sb = read_sb(disk, loc).filter(|s| s.ufs().is_some());
        let Some(sb) = sb else {
            r.problem("BAD SUPER BLOCK: MAGIC NUMBER WRONG\n");
            return Err(Fatal);
        };
        return Geometry::new(&sb, loc, true, size).map_err(|why| {
            r.problem(&format!("BAD SUPER BLOCK: {why}\n"));
            Fatal
        });
    }
    let candidates: Vec<(u64, Superblock)> = SBLOCK_SEARCH
        .iter()
        .filter_map(|&loc| read_sb(disk, loc).map(|sb| (loc, sb)))
        .filter(|(loc, sb)| {
            // A UFS1 superblock at UFS2's place is a 64k-block file
            // system's first backup.
            sb.ufs() == Some(Ufs::V2) || (sb.ufs() == Some(Ufs::V1) && *loc != SBLOCK_UFS2)
        })
        .collect();
    let placed = candidates
        .iter()
        .find(|(loc, sb)| sb.old_layout() || u64::try_from(sb.sblockloc) == Ok(*loc));
    let (loc, sb) = match (placed, candidates.first()) {
        (Some(c), _) => *c,
        (None, Some(c)) => {
            r.problem(&format!(
                "BAD SUPER BLOCK: SUPERBLOCK AT {} SAYS IT BELONGS AT {}\n",
                c.0, c.1.sblockloc
            ));
            *c
        }
        (None, None) => {
            r.problem("BAD SUPER BLOCK: CAN'T FIND SUPERBLOCK\n");
            backup_hint(disk, r);
            return Err(Fatal);
        }
    };
    Geometry::new(&sb, loc, false, size).map_err(|why| {
        r.problem(&format!("BAD SUPER BLOCK: {why}\n"));
        backup_hint(disk, r);
        Fatal
    })
}

/// Points at a backup superblock, found where the damaged primary's own
/// numbers say the backups are, for -b.
fn backup_hint(disk: &dyn Disk, r: &mut Report<'_>) {
    let found = SBLOCK_SEARCH.iter().find_map(|&loc| {
        let raw = read_sb(disk, loc)?;
        let fsize = u64::try_from(raw.fsize).ok()?;
        let (fpg, sblkno) = (
            u64::try_from(raw.fpg).ok()?,
            u64::try_from(raw.sblkno).ok()?,
        );
        let ncg = u64::try_from(raw.ncg).ok()?;
        if !fsize.is_power_of_two() || !(512..=65_536).contains(&fsize) || sblkno == 0 {
            return None;
        }
        [1, ncg.saturating_sub(1), 0].into_iter().find_map(|c| {
            let at = c
                .checked_mul(fpg)?
                .checked_add(sblkno)?
                .checked_mul(fsize)?;
            let alt = read_sb(disk, at).filter(|a| a.ufs().is_some())?;
            Geometry::new(&alt, at, true, disk.size()).ok()?;
            Some(at / DEV_BSIZE)
        })
    });
    match found {
        Some(sector) => r.line(&format!(
            "(a backup superblock is at sector {sector}: use -b {sector})"
        )),
        None => r.line("(use -b with the sector number of a backup superblock)"),
    }
}

/// The superblock must agree with the backup in the last group.
pub(super) fn compare_backup(disk: &dyn Disk, g: &Geometry, r: &mut Report<'_>) {
    let at = g.frag_bytes(g.cgsblock(g.ncg - 1));
    let differs = match read_sb(disk, at) {
        None => vec!["(unreadable)"],
        Some(alt) => g.sb.differs_from_backup(&alt),
    };
    if !differs.is_empty() {
        r.problem(
            "BAD SUPER BLOCK: VALUES IN SUPER BLOCK DISAGREE WITH THOSE IN FIRST ALTERNATE\n",
        );
        r.line(&format!("(differing: {})", differs.join(", ")));
    }
}

/// fsck_ffs's checks of the superblock's tunable and derived fields.
pub(super) fn check_fields(g: &Geometry, r: &mut Report<'_>) {
    let sb = &g.sb;
    if sb.flags & !FS_KNOWN_FLAGS != 0 {
        r.problem(&format!("UNKNOWN FLAGS=0x{:08x} IN SUPERBLOCK", sb.flags));
        r.ask("CLEAR");
    }
    if sb.optim != FS_OPTTIME && sb.optim != FS_OPTSPACE {
        r.problem("UNDEFINED OPTIMIZATION IN SUPERBLOCK");
        r.ask("SET TO DEFAULT");
    }
    if !(0..=99).contains(&sb.minfree) {
        r.problem(&format!("IMPOSSIBLE MINFREE={} IN SUPERBLOCK", sb.minfree));
        r.ask("SET TO DEFAULT");
    }
    if sb.maxbpg <= 0 {
        r.problem(&format!("IMPOSSIBLE MAXBPG={} IN SUPERBLOCK", sb.maxbpg));
        r.ask("SET TO DEFAULT");
    }
    if g.ufs == Ufs::V1 && sb.old_postblformat == FS_DYNAMICPOSTBLFMT {
        if sb.old_interleave < 1 || sb.old_interleave > sb.old_nsect {
            r.problem(&format!(
                "IMPOSSIBLE INTERLEAVE={} IN SUPERBLOCK",
                sb.old_interleave
            ));
            r.ask("SET TO DEFAULT");
        }
        if sb.old_npsect < sb.old_nsect || i64::from(sb.old_npsect) > 2 * i64::from(sb.old_nsect) {
            r.problem(&format!(
                "IMPOSSIBLE NPSECT={} IN SUPERBLOCK",
                sb.old_npsect
            ));
            r.ask("SET TO DEFAULT");
        }
    }
    if sb.bmask != !(g.bsize as i32 - 1) {
        r.problem(&format!("INCORRECT BMASK=0x{:x} IN SUPERBLOCK", sb.bmask));
        r.ask("FIX");
    }
    if sb.fmask != !(g.fsize as i32 - 1) {
        r.problem(&format!("INCORRECT FMASK=0x{:x} IN SUPERBLOCK", sb.fmask));
        r.ask("FIX");
    }
    if g.ufs == Ufs::V2 || sb.old_inodefmt >= FS_44INODEFMT {
        if sb.maxfilesize != max_file_size(g.bsize, g.nindir) {
            r.problem(&format!(
                "INCORRECT MAXFILESIZE={} IN SUPERBLOCK",
                sb.maxfilesize
            ));
            r.ask("FIX");
        }
        if sb.maxsymlinklen != g.ufs.maxsymlinklen() {
            r.problem(&format!(
                "INCORRECT MAXSYMLINKLEN={} IN SUPERBLOCK",
                sb.maxsymlinklen
            ));
            r.ask("FIX");
        }
        if sb.qbmask != !i64::from(sb.bmask) {
            r.problem(&format!("INCORRECT QBMASK={:#x} IN SUPERBLOCK", sb.qbmask));
            r.ask("FIX");
        }
        if sb.qfmask != !i64::from(sb.fmask) {
            r.problem(&format!("INCORRECT QFMASK={:#x} IN SUPERBLOCK", sb.qfmask));
            r.ask("FIX");
        }
    }
}

/// The cylinder summary area.
pub(super) fn read_summaries(disk: &dyn Disk, g: &Geometry, r: &mut Report<'_>) -> Vec<Csum> {
    let mut b = vec![0u8; g.cssize as usize];
    if disk.read_at(g.frag_bytes(g.csaddr), &mut b).is_err() {
        r.problem("BAD SUMMARY INFORMATION");
        r.ask("CONTINUE");
        b.fill(0);
    }
    (0..g.ncg)
        .map(|c| Csum::decode(&b[(c * CSUM_SIZE) as usize..]))
        .collect()
}
