//! fsck_ffs's way of talking: phase headers, findings, the questions it
//! would ask (answered "no", as with -n, except CONTINUE) and the inode
//! descriptions that go with them. It remembers whether anything was
//! left unresolved.

use super::super::clock::{stat_date, Zone};
use crate::tools::ufs::dinode::Dinode;
use std::io::Write;

/// How many detail lines one kind of finding prints before it only
/// counts.
pub(super) const DETAIL_LIMIT: usize = 20;

/// The output of one check and its verdict so far.
pub(super) struct Report<'a> {
    out: &'a mut dyn Write,
    zone: Zone,
    /// A question was answered "no": the file system is not clean.
    pub unresolved: bool,
}

impl<'a> Report<'a> {
    pub(super) fn new(out: &'a mut dyn Write) -> Report<'a> {
        Report {
            out,
            zone: Zone::local(),
            unresolved: false,
        }
    }

    /// Text as is (a closed output is not worth stopping a check for).
    pub(super) fn put(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
    }

    /// A line.
    pub(super) fn line(&mut self, s: &str) {
        self.put(s);
        self.put("\n");
    }

    /// Asks `question`; with -n the answer is no, except to CONTINUE.
    pub(super) fn ask(&mut self, question: &str) -> bool {
        if question == "CONTINUE" {
            self.put(&format!("\n{question}? yes\n\n"));
            return true;
        }
        self.put(&format!("\n{question}? no\n\n"));
        self.unresolved = true;
        false
    }

    /// A finding that needs no question but still leaves the file
    /// system unclean.
    pub(super) fn problem(&mut self, s: &str) {
        self.put(s);
        self.unresolved = true;
    }

    /// " I=n " and, for an inode that exists, its owner, mode, size and
    /// modification time (pinode).
    pub(super) fn pinode(&mut self, ino: u64, d: Option<&Dinode>) {
        self.put(&format!(" I={ino} "));
        let Some(d) = d else { return };
        // Years 1 to 9999 as ctime's "Mmm dd hh:mm" and year, as
        // fsck_ffs prints them; other times as a number, as it does when
        // ctime fails.
        if !(-62_135_596_800..=253_402_300_799).contains(&d.mtime) {
            self.put(&format!(
                " OWNER={} MODE={:o}\nSIZE={} MTIME={} ",
                d.uid, d.mode, d.size, d.mtime
            ));
            return;
        }
        let date = stat_date(&self.zone, d.mtime);
        let year = date.rsplit(' ').next().unwrap_or_default();
        let head: String = date.chars().take(12).collect();
        self.put(&format!(
            " OWNER={} MODE={:o}\nSIZE={} MTIME={head} {year} ",
            d.uid, d.mode, d.size
        ));
    }
}

impl Drop for Report<'_> {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// Prints at most [`DETAIL_LIMIT`] lines of one kind, then how many
/// more there were.
#[derive(Default)]
pub(super) struct Details {
    shown: usize,
    hidden: usize,
}

impl Details {
    pub(super) fn add(&mut self, r: &mut Report<'_>, line: impl FnOnce() -> String) {
        if self.shown < DETAIL_LIMIT {
            self.shown += 1;
            r.line(&line());
        } else {
            self.hidden += 1;
        }
    }

    /// The count of lines not shown, if any.
    pub(super) fn finish(&mut self, r: &mut Report<'_>) {
        if self.hidden > 0 {
            r.line(&format!("({} MORE NOT SHOWN)", self.hidden));
        }
        self.hidden = 0;
    }
}
