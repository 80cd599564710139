//! Phase 5 - Check Cyl groups: each cylinder group block is rebuilt from
//! what phases 1-4 found (the inodes in use, the fragments in use) the
//! way fsck_ffs rebuilds it, and compared with the one on disk: header
//! and counts, inode map, fragment map, cluster map and counts; then
//! the summary area and the superblock's totals, and every backup
//! superblock against the primary.

use super::report::Details;
use super::state::{Fsck, State};
use crate::tools::ufs::bytes::{isset, setbit};
use crate::tools::ufs::cg::{cluster_sums, count_free_runs, CgHeader, CgLayout, CG_HEADER_SIZE};
use crate::tools::ufs::sb::{Csum, CsumTotal, Superblock};
use crate::tools::ufs::{Ufs, CG_MAGIC, ROOTINO};

/// The four findings fsck_ffs asks about once each.
#[derive(Default)]
struct Asked {
    counts: bool,
    maps: bool,
    summary: bool,
    backups: bool,
}

fn ask_once(f: &mut Fsck<'_>, flag: &mut bool, msg: &str) {
    if !*flag {
        *flag = true;
        f.r.problem(msg);
        f.r.ask("SALVAGE");
    }
}

pub(super) fn run(f: &mut Fsck<'_>) {
    let g = f.g.clone();
    let layout = g.cg_layout();
    let mut asked = Asked::default();
    let mut details = Details::default();
    let mut total = CsumTotal::default();
    // Fragments past the end, in the last partial block, count as used.
    for d in g.size..g.size.next_multiple_of(g.frag) {
        f.setbmap(d);
    }
    for c in 0..g.ncg {
        let cg = f.read_frags(g.cgtod(c), g.cgsize as usize);
        let old = CgHeader::decode(&cg);
        if old.magic != CG_MAGIC {
            f.r.problem(&format!("CG {c}: PASS5: BAD MAGIC NUMBER\n"));
        }
        check_backup(f, c, &mut asked);
        let new = rebuild(f, c, &layout, &old);
        let hdr = CgHeader::decode(&new);
        total.ndir += i64::from(hdr.cs.ndir);
        total.nbfree += i64::from(hdr.cs.nbfree);
        total.nifree += i64::from(hdr.cs.nifree);
        total.nffree += i64::from(hdr.cs.nffree);
        let recorded = f.csums.get(c as usize).copied().unwrap_or_default();
        if hdr.cs != recorded {
            for line in count_diffs(&format!("CG {c}: SUMMARY AREA"), &recorded, &hdr.cs) {
                details.add(&mut f.r, || line);
            }
            details.finish(&mut f.r);
            ask_once(f, &mut asked.counts, "FREE BLK COUNT(S) WRONG IN SUPERBLK");
        }
        let hlen = CG_HEADER_SIZE as usize;
        let tables = if f.g.sb.old_layout() {
            layout.btotoff as usize..layout.iusedoff as usize
        } else {
            0..0
        };
        if cg[..hlen] != new[..hlen] || cg[tables.clone()] != new[tables] {
            for line in header_diffs(c, &old, &hdr) {
                details.add(&mut f.r, || line);
            }
            details.finish(&mut f.r);
            ask_once(f, &mut asked.summary, "SUMMARY INFORMATION BAD");
        }
        let maps = layout.iusedoff as usize..layout.nextfreeoff as usize;
        if cg[maps.clone()] != new[maps] {
            for line in map_diffs(f, c, &layout, &cg, &new) {
                details.add(&mut f.r, || line);
            }
            details.finish(&mut f.r);
            ask_once(f, &mut asked.maps, "BLK(S) MISSING IN BIT MAPS");
        }
    }
    let recorded = f.g.sb.fs_cstotal();
    let short = |t: &CsumTotal| [t.ndir, t.nbfree, t.nifree, t.nffree];
    if short(&recorded) != short(&total) {
        let as_csum = |t: &CsumTotal| Csum {
            ndir: t.ndir as i32,
            nbfree: t.nbfree as i32,
            nifree: t.nifree as i32,
            nffree: t.nffree as i32,
        };
        let mut lines = count_diffs("SUPERBLOCK TOTAL", &as_csum(&recorded), &as_csum(&total));
        if lines.is_empty() {
            lines.push("SUPERBLOCK TOTALS WRONG".into());
        }
        for line in lines {
            details.add(&mut f.r, || line);
        }
        details.finish(&mut f.r);
        ask_once(f, &mut asked.counts, "FREE BLK COUNT(S) WRONG IN SUPERBLK");
    }
}

/// Group `c`'s block as fsck_ffs would write it.
fn rebuild(f: &Fsck<'_>, c: u64, l: &CgLayout, old: &CgHeader) -> Vec<u8> {
    let g = &f.g;
    let mut new = vec![0u8; g.cgsize as usize];
    let dbase = g.cgbase(c);
    let dmax = (dbase + g.fpg).min(g.size);
    let ndblk = dmax - dbase;
    let mut h = CgHeader {
        magic: CG_MAGIC,
        old_time: old.old_time,
        cgx: c as i32,
        ndblk: ndblk as i32,
        iusedoff: l.iusedoff as i32,
        freeoff: l.freeoff as i32,
        nextfreeoff: l.nextfreeoff as i32,
        clustersumoff: l.clustersumoff as i32,
        clusteroff: l.clusteroff as i32,
        ..CgHeader::default()
    };
    if g.ufs == Ufs::V2 || !g.sb.old_layout() {
        h.time = old.time;
    }
    match g.ufs {
        Ufs::V1 => {
            h.old_btotoff = l.btotoff as i32;
            h.old_boff = l.boff as i32;
            h.old_ncyl = if c == g.ncg - 1 {
                if g.sb.old_layout() {
                    if g.old_cpg > 0 {
                        (i64::from(g.sb.old_ncyl) % g.old_cpg as i64) as i16
                    } else {
                        0
                    }
                } else {
                    let per = (g.fpg / g.old_cpg.max(1)).max(1);
                    ndblk.div_ceil(per) as i16
                }
            } else {
                g.old_cpg as i16
            };
            h.old_niblk = g.ipg as i16;
        }
        Ufs::V2 => {
            h.niblk = g.ipg as i32;
            h.initediblk = (old.initediblk as u32).min(g.ipg as u32) as i32;
        }
    }
    if g.contigsumsize > 0 {
        h.nclusterblks = (ndblk / g.frag) as i32;
    }
    let in_range = |v: i32, lim: u64| if v >= 0 && (v as u64) < lim { v } else { 0 };
    h.rotor = in_range(old.rotor, ndblk);
    h.frotor = in_range(old.frotor, ndblk);
    h.irotor = in_range(old.irotor, g.ipg);
    h.cs.nifree = g.ipg as i32;
    // Inodes.
    let iused = l.iusedoff as usize;
    for i in 0..g.ipg {
        let ino = c * g.ipg + i;
        let in_use = match f.state(ino) {
            State::Unused => c == 0 && ino < ROOTINO,
            s => {
                if s.is_dir() {
                    h.cs.ndir += 1;
                }
                true
            }
        };
        if in_use {
            h.cs.nifree -= 1;
            setbit(&mut new[iused..], i);
        }
    }
    // Fragments and clusters.
    let (free, clusters) = (l.freeoff as usize, l.clusteroff as usize);
    let mut i = 0;
    while dbase + i < dmax {
        let mut frags = 0;
        for j in 0..g.frag {
            if !f.testbmap(dbase + i + j) {
                setbit(&mut new[free..], i + j);
                frags += 1;
            }
        }
        if frags == g.frag {
            h.cs.nbfree += 1;
            if g.contigsumsize > 0 {
                setbit(&mut new[clusters..], i / g.frag);
            }
        } else if frags > 0 {
            h.cs.nffree += frags as i32;
            count_free_runs(&new[free..], g.frag, i, &mut h.frsum);
        }
        i += g.frag;
    }
    if g.ufs == Ufs::V1 && g.sb.old_layout() {
        old_tables(f, &mut new, l, ndblk);
    }
    h.encode(&mut new);
    if g.contigsumsize > 0 {
        let sums = cluster_sums(&new[clusters..], h.nclusterblks as u64, g.contigsumsize);
        let at = l.clustersumoff as usize;
        for (k, s) in sums.iter().enumerate().skip(1) {
            let o = at + k * 4;
            new[o..o + 4].copy_from_slice(&s.to_le_bytes());
        }
    }
    new
}

/// The rotational tables of superblocks from before UFS2: free blocks
/// per cylinder and per rotational position.
fn old_tables(f: &Fsck<'_>, new: &mut [u8], l: &CgLayout, ndblk: u64) {
    let g = &f.g;
    let sb = &g.sb;
    let (spc, nsect, npsect) = (sb.old_spc as i64, sb.old_nsect as i64, sb.old_npsect as i64);
    if spc <= 0 || nsect <= 0 || npsect <= 0 {
        return;
    }
    let nrpos = g.old_nrpos.max(1) as i64;
    let free = l.freeoff as usize;
    let mut i = 0;
    while i < ndblk {
        if (0..g.frag).all(|j| isset(&new[free..], i + j)) {
            let db = (i << g.fsbtodb) as i64;
            let cyl = db / spc;
            let rpos = if nrpos <= 1 {
                0
            } else {
                ((db % spc / nsect * i64::from(sb.old_trackskew)
                    + db % spc % nsect * i64::from(sb.old_interleave))
                    % nsect
                    * nrpos
                    / npsect)
                    .clamp(0, nrpos - 1)
            };
            if cyl >= 0 && (cyl as u64) < g.old_cpg {
                let t = l.btotoff as usize + cyl as usize * 4;
                let v = i32::from_le_bytes(new[t..t + 4].try_into().unwrap_or([0; 4])) + 1;
                new[t..t + 4].copy_from_slice(&v.to_le_bytes());
                let b = l.boff as usize + (cyl * nrpos + rpos) as usize * 2;
                let v = i16::from_le_bytes(new[b..b + 2].try_into().unwrap_or([0; 2])) + 1;
                new[b..b + 2].copy_from_slice(&v.to_le_bytes());
            }
        }
        i += g.frag;
    }
}

/// Group `c`'s backup superblock must agree with the primary.
fn check_backup(f: &mut Fsck<'_>, c: u64, asked: &mut Asked) {
    let at = f.g.frag_bytes(f.g.cgsblock(c));
    let mut b = vec![0u8; Superblock::SIZE];
    let why = match f.disk.read_at(at, &mut b) {
        Err(_) => Some("UNREADABLE".to_string()),
        Ok(()) => {
            let alt = Superblock::decode(&b);
            let fields = f.g.sb.differs_from_backup(&alt);
            (!fields.is_empty()).then(|| format!("DIFFERS IN {}", fields.join(", ")))
        }
    };
    if let Some(why) = why {
        f.r.line(&format!("CG {c}: BACKUP SUPERBLOCK {why}"));
        ask_once(f, &mut asked.backups, "ALTERNATE SUPERBLK(S) ARE INCORRECT");
    }
}

/// One line per count that differs.
fn count_diffs(what: &str, found: &Csum, want: &Csum) -> Vec<String> {
    [
        ("DIRECTORIES", found.ndir, want.ndir),
        ("FREE BLOCKS", found.nbfree, want.nbfree),
        ("FREE INODES", found.nifree, want.nifree),
        ("FREE FRAGS", found.nffree, want.nffree),
    ]
    .iter()
    .filter(|(_, a, b)| a != b)
    .map(|(name, a, b)| format!("{what}: {name} {a} SHOULD BE {b}"))
    .collect()
}

/// One line per header field that differs.
fn header_diffs(c: u64, found: &CgHeader, want: &CgHeader) -> Vec<String> {
    let mut out: Vec<String> = count_diffs(&format!("CG {c}"), &found.cs, &want.cs);
    let fields: [(&str, i64, i64); 20] = [
        ("MAGIC", found.magic.into(), want.magic.into()),
        ("GROUP NUMBER", found.cgx.into(), want.cgx.into()),
        ("FRAGMENTS", found.ndblk.into(), want.ndblk.into()),
        ("OLD CYLINDERS", found.old_ncyl.into(), want.old_ncyl.into()),
        ("OLD INODES", found.old_niblk.into(), want.old_niblk.into()),
        ("INODES", found.niblk.into(), want.niblk.into()),
        (
            "INITIALIZED INODES",
            found.initediblk.into(),
            want.initediblk.into(),
        ),
        (
            "CLUSTERS",
            found.nclusterblks.into(),
            want.nclusterblks.into(),
        ),
        ("BLOCK ROTOR", found.rotor.into(), want.rotor.into()),
        ("FRAG ROTOR", found.frotor.into(), want.frotor.into()),
        ("INODE ROTOR", found.irotor.into(), want.irotor.into()),
        (
            "OLD BLOCK TOTALS OFFSET",
            found.old_btotoff.into(),
            want.old_btotoff.into(),
        ),
        (
            "OLD POSITIONS OFFSET",
            found.old_boff.into(),
            want.old_boff.into(),
        ),
        (
            "INODE MAP OFFSET",
            found.iusedoff.into(),
            want.iusedoff.into(),
        ),
        ("FRAG MAP OFFSET", found.freeoff.into(), want.freeoff.into()),
        (
            "MAPS END OFFSET",
            found.nextfreeoff.into(),
            want.nextfreeoff.into(),
        ),
        (
            "CLUSTER SUMMARY OFFSET",
            found.clustersumoff.into(),
            want.clustersumoff.into(),
        ),
        (
            "CLUSTER MAP OFFSET",
            found.clusteroff.into(),
            want.clusteroff.into(),
        ),
        (
            "FIRST FIELD",
            found.firstfield.into(),
            want.firstfield.into(),
        ),
        ("TIME", found.time, want.time),
    ];
    for (name, a, b) in fields {
        if a == b {
            continue;
        }
        out.push(if name == "MAGIC" {
            format!("CG {c}: {name} {a:#x} SHOULD BE {b:#x}")
        } else {
            format!("CG {c}: {name} {a} SHOULD BE {b}")
        });
    }
    for k in 0..8 {
        if found.frsum[k] != want.frsum[k] {
            out.push(format!(
                "CG {c}: FREE RUNS OF {k} FRAGS {} SHOULD BE {}",
                found.frsum[k], want.frsum[k]
            ));
        }
    }
    if found.sparecon32 != want.sparecon32 || found.sparecon64 != want.sparecon64 {
        out.push(format!("CG {c}: RESERVED FIELDS NOT ZERO"));
    }
    if out.is_empty() {
        out.push(format!("CG {c}: ROTATIONAL TABLES WRONG"));
    }
    out
}

/// One line per inode or fragment whose map bit is wrong, and for the
/// cluster map and counts.
fn map_diffs(f: &Fsck<'_>, c: u64, l: &CgLayout, cg: &[u8], new: &[u8]) -> Vec<String> {
    let g = &f.g;
    let mut out = Vec::new();
    let (iu, fr) = (l.iusedoff as usize, l.freeoff as usize);
    for i in 0..g.ipg {
        let (want, found) = (isset(&new[iu..fr], i), isset(&cg[iu..fr], i));
        if want != found {
            let ino = c * g.ipg + i;
            out.push(if want {
                format!("CG {c}: ALLOCATED INODE {ino} MARKED FREE")
            } else {
                format!("CG {c}: UNALLOCATED INODE {ino} MARKED IN USE")
            });
        }
    }
    let fend = fr + g.fpg.div_ceil(8) as usize;
    for i in 0..g.fpg {
        let (want_free, found_free) = (isset(&new[fr..fend], i), isset(&cg[fr..fend], i));
        if want_free != found_free {
            let frag = g.cgbase(c) + i;
            out.push(if want_free {
                format!("CG {c}: FREE FRAG {frag} MARKED IN USE")
            } else {
                format!("CG {c}: ALLOCATED FRAG {frag} MARKED FREE")
            });
        }
    }
    if g.contigsumsize > 0 {
        let sums = l.clustersumoff as usize + 4..l.clusteroff as usize;
        let map = l.clusteroff as usize..l.nextfreeoff as usize;
        if cg[sums.clone()] != new[sums] {
            out.push(format!("CG {c}: CLUSTER COUNTS WRONG"));
        }
        if cg[map.clone()] != new[map] {
            out.push(format!("CG {c}: CLUSTER MAP WRONG"));
        }
    }
    if out.is_empty() {
        out.push(format!("CG {c}: MAP BYTES WRONG"));
    }
    out
}
