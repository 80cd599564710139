//! Writing a new file system: clearing stale superblocks, each
//! cylinder group (backup superblock, group block with its maps, inode
//! table), the root directory (`.` and `..` only: lost+found is left to
//! fsck_ffs, as NetBSD's newfs does), the cylinder summary area and the
//! primary superblock.

use crate::tools::ufs::bytes::{clrbit, setbit};
use crate::tools::ufs::cg::{
    clrblock, cluster_sums, count_free_runs, isblock, setblock, CgHeader, CgLayout,
};
use crate::tools::ufs::dinode::Dinode;
use crate::tools::ufs::dir::Entry;
use crate::tools::ufs::disk::{Disk, DiskError};
use crate::tools::ufs::sb::{Csum, CsumTotal, Geometry, Superblock};
use crate::tools::ufs::{
    Ufs, CG_MAGIC, DEV_BSIZE, DIRBLKSIZ, DT_DIR, FS_UFS1_MAGIC, FS_UFS2_MAGIC, IFDIR, ROOTINO,
    SBLOCKSIZE, SBLOCK_SEARCH,
};

/// Inode table bytes written at once.
const CHUNK: u64 = 1 << 20;
/// Magic numbers of other file systems' superblocks that must not
/// survive under a new one: (32-bit word index, value, mask).
const OTHER_MAGICS: [(usize, u32, u32); 5] = [
    (1372 / 4, FS_UFS1_MAGIC as u32, !0),
    (1372 / 4, FS_UFS2_MAGIC as u32, !0),
    (0, 0x0007_0162, !0),
    (14, 0xef53, 0xffff),
    (14, 0xef53_0000, 0xffff_0000),
];
/// Where an ext2 superblock would be.
const EXT2FS_SBOFF: u64 = 1024;
/// An Apple UFS volume label: offset, size and magic ("LABL").
const APPLE_LABEL: (u64, usize, &[u8; 4]) = (7168, 1024, b"LABL");

/// Why writing stopped: newfs's message and exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: i32,
}

/// Owner and time of the root directory.
pub struct Root {
    pub uid: u32,
    pub gid: u32,
    pub time: i64,
    pub nsec: i32,
}

/// Inode generation numbers: a xorshift generator seeded from the
/// system's randomness.
pub struct Gens(u64);

impl Gens {
    pub fn new() -> Gens {
        let seed = getrandom::u64().unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
        Gens(seed | 1)
    }

    /// A positive 31-bit number.
    pub fn next(&mut self) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 33) as i32 & i32::MAX
    }
}

/// newfs's message for a failed transfer at `off`.
fn io_failure(what: &str, status: i32, off: u64, e: DiskError) -> Failure {
    let why = e
        .errno
        .map_or("end of device".to_string(), |e| e.to_string());
    Failure {
        message: format!("{what} error for sector {}: {why}", off / DEV_BSIZE),
        status,
    }
}

fn wtfs(disk: &dyn Disk, off: u64, buf: &[u8]) -> Result<(), Failure> {
    disk.write_at(off, buf)
        .map_err(|e| io_failure("wtfs: write", 36, off, e))
}

fn rdfs(disk: &dyn Disk, off: u64, buf: &mut [u8]) -> Result<(), Failure> {
    disk.read_at(off, buf)
        .map_err(|e| io_failure("rdfs: read", 34, off, e))
}

/// Writes the file system `g` describes on `disk` (`sectors` long).
pub fn write(
    disk: &dyn Disk,
    g: &Geometry,
    sectors: u64,
    root: &Root,
    gens: &mut Gens,
) -> Result<(), Failure> {
    // The last sector must be writable.
    wtfs(disk, (sectors - 1) * DEV_BSIZE, &[0u8; DEV_BSIZE as usize])?;
    clear_old_superblocks(disk, g, sectors)?;
    let layout = g.cg_layout();
    let mut sums = Vec::with_capacity(g.ncg as usize);
    for c in 0..g.ncg {
        let mut cg = init_cg(g, &layout, c)?;
        let mut inodes = first_inodes(g, gens);
        if c == 0 {
            make_root(disk, g, &layout, &mut cg, &mut inodes, root, gens)?;
        }
        let h = finish_cg(g, &layout, &mut cg);
        sums.push(h.cs);
        let mut block = cg;
        block.resize(g.bsize as usize, 0);
        wtfs(disk, g.frag_bytes(g.cgtod(c)), &block)?;
        write_inodes(disk, g, c, &inodes, gens)?;
    }
    let sb = final_superblock(g, &sums, root);
    let mut area = vec![0u8; g.cssize as usize];
    for (c, s) in sums.iter().enumerate() {
        s.encode(&mut area[c * Csum::SIZE..]);
    }
    wtfs(disk, g.frag_bytes(g.csaddr), &area)?;
    let sbbytes = sb.to_bytes();
    let mut copy = vec![0u8; ((g.cblkno - g.sblkno) * g.fsize) as usize];
    copy[..sbbytes.len()].copy_from_slice(&sbbytes);
    for c in 0..g.ncg {
        wtfs(disk, g.frag_bytes(g.cgsblock(c)), &copy)?;
    }
    let mut primary = vec![0u8; (g.frag_bytes(g.cgsblock(0)) - g.sblockloc) as usize];
    primary[..sbbytes.len()].copy_from_slice(&sbbytes);
    wtfs(disk, g.sblockloc, &primary)
}

/// Bytes newfs writes at a group's start in one go: superblock copy,
/// group block and two inode blocks.
fn iobufsize(g: &Geometry) -> u64 {
    if g.bsize < SBLOCKSIZE as u64 {
        SBLOCKSIZE as u64 + 3 * g.bsize
    } else {
        4 * g.bsize
    }
}

/// Leaves nothing that looks like another superblock where one could be
/// searched for: at the standard places and where their first backups
/// would be, and an ext2 one.
fn clear_old_superblocks(disk: &dyn Disk, g: &Geometry, sectors: u64) -> Result<(), Failure> {
    let cg0_data = g.frag_bytes(g.cgsblock(0)) + iobufsize(g);
    let zap = |off: u64| -> Result<(), Failure> {
        if off == 0 || (off + SBLOCKSIZE as u64) / DEV_BSIZE >= sectors {
            return Ok(());
        }
        if off >= g.sblockloc {
            if off >= cg0_data {
                let n = (Superblock::SIZE as u64).next_multiple_of(DEV_BSIZE) as usize;
                wtfs(disk, off, &vec![0u8; n])?;
            }
            return Ok(());
        }
        let mut old = vec![0u8; SBLOCKSIZE];
        rdfs(disk, off, &mut old)?;
        let word =
            |i: usize| u32::from_le_bytes(old[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4]));
        let hit = OTHER_MAGICS.iter().find(|&&(i, magic, mask)| {
            word(i) & mask == magic || word(i).swap_bytes() & mask == magic
        });
        if let Some(&(i, _, _)) = hit {
            old[i * 4..i * 4 + 4].fill(0);
            wtfs(disk, off, &old)?;
        }
        Ok(())
    };
    for &loc in &SBLOCK_SEARCH {
        zap(loc)?;
        let next = loc + SBLOCKSIZE as u64;
        let mut sz = SBLOCKSIZE as u64;
        while sz <= 0x10000 {
            zap(next.next_multiple_of(sz))?;
            sz <<= 1;
        }
    }
    zap(EXT2FS_SBOFF)?;
    let (at, len, magic) = APPLE_LABEL;
    let mut label = vec![0u8; len];
    if at + len as u64 <= sectors * DEV_BSIZE {
        rdfs(disk, at, &mut label)?;
        if &label[..4] == magic {
            wtfs(disk, at, &vec![0u8; len])?;
        }
    }
    Ok(())
}

/// Group `c`'s block: header, free inodes, and every fragment free but
/// the superblock copy, group block and inode table (and in group 0 the
/// boot area and the summary area).
fn init_cg(g: &Geometry, l: &CgLayout, c: u64) -> Result<Vec<u8>, Failure> {
    let mut cg = vec![0u8; g.cgsize as usize];
    let cbase = g.cgbase(c);
    let ndblk = g.cg_ndblk(c);
    let dlower = g.cgsblock(c) - cbase;
    let mut dupper = g.cgdmin(c) - cbase;
    if c == 0 {
        dupper += g.csfrags();
        if dupper >= g.fpg.min(ndblk) {
            return Err(Failure {
                message:
                    "Too many cylinder groups to fit summary information into first cylinder group"
                        .into(),
                status: 40,
            });
        }
    }
    if l.nextfreeoff > g.cgsize {
        return Err(Failure {
            message: "Panic: cylinder group too big".into(),
            status: 37,
        });
    }
    let mut h = CgHeader {
        magic: CG_MAGIC,
        cgx: c as i32,
        ndblk: ndblk as i32,
        iusedoff: l.iusedoff as i32,
        freeoff: l.freeoff as i32,
        nextfreeoff: l.nextfreeoff as i32,
        clustersumoff: l.clustersumoff as i32,
        clusteroff: l.clusteroff as i32,
        ..CgHeader::default()
    };
    if g.contigsumsize > 0 {
        h.nclusterblks = (ndblk >> g.fragshift) as i32;
    }
    let now = g.sb.time;
    match g.ufs {
        Ufs::V2 => {
            h.time = now;
            h.niblk = g.ipg as i32;
            h.initediblk = g.ipg.min(2 * g.inopb) as i32;
        }
        Ufs::V1 => {
            h.old_ncyl = g.old_cpg as i16;
            h.old_time = now as i32;
            h.old_niblk = g.ipg as i16;
            h.old_btotoff = l.btotoff as i32;
            h.old_boff = l.boff as i32;
        }
    }
    h.cs.nifree = g.ipg as i32;
    let iused = l.iusedoff as usize;
    if c == 0 {
        for i in 0..ROOTINO {
            setbit(&mut cg[iused..], i);
            h.cs.nifree -= 1;
        }
    }
    let (free, clusters) = (l.freeoff as usize, l.clusteroff as usize);
    let free_block = |cg: &mut Vec<u8>, h: &mut CgHeader, d: u64| {
        setblock(&mut cg[free..], g.frag, d / g.frag);
        if g.contigsumsize > 0 {
            setbit(&mut cg[clusters..], d / g.frag);
        }
        h.cs.nbfree += 1;
    };
    if c > 0 {
        let mut d = 0;
        while d < dlower {
            free_block(&mut cg, &mut h, d);
            d += g.frag;
        }
    }
    let partial = dupper % g.frag;
    if partial != 0 {
        h.frsum[(g.frag - partial) as usize] += 1;
        let end = dupper + g.frag - partial;
        while dupper < end {
            setbit(&mut cg[free..], dupper);
            h.cs.nffree += 1;
            dupper += 1;
        }
    }
    let mut d = dupper;
    while d + g.frag <= ndblk {
        free_block(&mut cg, &mut h, d);
        d += g.frag;
    }
    if d < ndblk {
        h.frsum[(ndblk - d) as usize] += 1;
        while d < ndblk {
            setbit(&mut cg[free..], d);
            h.cs.nffree += 1;
            d += 1;
        }
    }
    h.encode(&mut cg);
    Ok(cg)
}

/// The group's header with the cluster counts and (UFS1) the
/// rotational tables brought up to date; written into the block.
fn finish_cg(g: &Geometry, l: &CgLayout, cg: &mut [u8]) -> CgHeader {
    let h = CgHeader::decode(cg);
    if g.contigsumsize > 0 {
        let sums = cluster_sums(
            &cg[l.clusteroff as usize..],
            h.nclusterblks as u64,
            g.contigsumsize,
        );
        for (k, s) in sums.iter().enumerate().skip(1) {
            let o = l.clustersumoff as usize + k * 4;
            cg[o..o + 4].copy_from_slice(&s.to_le_bytes());
        }
    }
    if g.ufs == Ufs::V1 {
        // One cylinder per group and one rotational position: every
        // free block counts in the first slot of both tables.
        let (t, b) = (l.btotoff as usize, l.boff as usize);
        cg[t..t + 4].copy_from_slice(&h.cs.nbfree.to_le_bytes());
        cg[b..b + 2].copy_from_slice(&(h.cs.nbfree as i16).to_le_bytes());
    }
    h
}

/// The inodes written with a group: all of UFS1's, the first two blocks
/// of UFS2's (the kernel initializes the rest as it needs them); zero
/// but for their generation numbers.
fn first_inodes(g: &Geometry, gens: &mut Gens) -> Vec<u8> {
    let n = match g.ufs {
        Ufs::V1 => g.inopb.min(g.ipg),
        Ufs::V2 => g.ipg.min(2 * g.inopb),
    };
    inode_run(g, n, gens)
}

/// `n` fresh inodes.
fn inode_run(g: &Geometry, n: u64, gens: &mut Gens) -> Vec<u8> {
    let isz = g.ufs.dinode_size();
    let mut b = vec![0u8; n as usize * isz];
    let gen_at = match g.ufs {
        Ufs::V1 => 108,
        Ufs::V2 => 80,
    };
    for i in 0..n as usize {
        let o = i * isz + gen_at;
        b[o..o + 4].copy_from_slice(&gens.next().to_le_bytes());
    }
    b
}

/// Writes group `c`'s inode table: `first` at its start, then (UFS1)
/// the rest in chunks.
fn write_inodes(
    disk: &dyn Disk,
    g: &Geometry,
    c: u64,
    first: &[u8],
    gens: &mut Gens,
) -> Result<(), Failure> {
    let base = g.frag_bytes(g.cgimin(c));
    wtfs(disk, base, first)?;
    if g.ufs == Ufs::V2 {
        return Ok(());
    }
    let isz = g.ufs.dinode_size() as u64;
    let mut done = first.len() as u64 / isz;
    while done < g.ipg {
        let n = (CHUNK / isz).min(g.ipg - done);
        wtfs(disk, base + done * isz, &inode_run(g, n, gens))?;
        done += n;
    }
    Ok(())
}

/// Allocates and writes the root directory in group 0: one fragment of
/// the first free block, holding `.` and `..`.
fn make_root(
    disk: &dyn Disk,
    g: &Geometry,
    l: &CgLayout,
    cg: &mut [u8],
    inodes: &mut [u8],
    root: &Root,
    gens: &mut Gens,
) -> Result<(), Failure> {
    let mut h = CgHeader::decode(cg);
    let free = l.freeoff as usize;
    let ndblk = h.ndblk as u64;
    let blocks = ndblk / g.frag;
    let Some(blk) = (0..blocks).find(|&b| isblock(&cg[free..], g.frag, b)) else {
        return Err(Failure {
            message: "first cylinder group ran out of space".into(),
            status: 1,
        });
    };
    clrblock(&mut cg[free..], g.frag, blk);
    if g.contigsumsize > 0 {
        clrbit(&mut cg[l.clusteroff as usize..], blk);
    }
    h.cs.nbfree -= 1;
    h.cs.ndir += 1;
    let d = blk * g.frag;
    if g.frag > 1 {
        for i in 1..g.frag {
            setbit(&mut cg[free..], d + i);
        }
        h.cs.nffree += (g.frag - 1) as i32;
        let mut frsum = [0i32; 8];
        for b in 0..ndblk.div_ceil(g.frag) {
            count_free_runs(&cg[free..], g.frag, b * g.frag, &mut frsum);
        }
        h.frsum = frsum;
    }
    setbit(&mut cg[l.iusedoff as usize..], ROOTINO);
    h.cs.nifree -= 1;
    h.encode(cg);

    let mut dirblock = vec![0u8; g.fsize as usize];
    let dot = Entry {
        ino: ROOTINO as u32,
        reclen: 12,
        dtype: DT_DIR,
        namlen: 1,
        name: b".".to_vec(),
        terminated: true,
    };
    let dotdot = Entry {
        reclen: (DIRBLKSIZ - 12) as u16,
        namlen: 2,
        name: b"..".to_vec(),
        ..dot.clone()
    };
    dot.encode(&mut dirblock);
    dotdot.encode(&mut dirblock[12..]);
    wtfs(disk, g.frag_bytes(d), &dirblock)?;

    let mut ino = Dinode {
        mode: IFDIR | 0o755,
        nlink: 2,
        uid: root.uid,
        gid: root.gid,
        size: DIRBLKSIZ,
        blocks: g.fsize / DEV_BSIZE,
        atime: root.time,
        atimensec: root.nsec,
        mtime: root.time,
        mtimensec: root.nsec,
        ctime: root.time,
        ctimensec: root.nsec,
        birthtime: if g.ufs == Ufs::V2 { root.time } else { 0 },
        birthnsec: if g.ufs == Ufs::V2 { root.nsec } else { 0 },
        gen: gens.next(),
        ..Dinode::default()
    };
    ino.db[0] = d as i64;
    let isz = g.ufs.dinode_size();
    let at = ROOTINO as usize * isz;
    ino.encode(g.ufs, &mut inodes[at..at + isz]);
    Ok(())
}

/// The superblock with the totals of the groups.
fn final_superblock(g: &Geometry, sums: &[Csum], root: &Root) -> Superblock {
    let mut sb = g.sb;
    let mut t = CsumTotal::default();
    for s in sums {
        t.ndir += i64::from(s.ndir);
        t.nbfree += i64::from(s.nbfree);
        t.nifree += i64::from(s.nifree);
        t.nffree += i64::from(s.nffree);
    }
    sb.cstotal = t;
    sb.time = root.time;
    if g.ufs == Ufs::V1 {
        sb.old_time = root.time as i32;
        sb.old_cstotal = Csum {
            ndir: t.ndir as i32,
            nbfree: t.nbfree as i32,
            nifree: t.nifree as i32,
            nffree: t.nffree as i32,
        };
    }
    sb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_numbers_are_positive_and_vary() {
        let mut g = Gens(12345);
        let a: Vec<i32> = (0..100).map(|_| g.next()).collect();
        assert!(a.iter().all(|&v| v >= 0));
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 90);
    }
}
