//! A directory's entries and NetBSD tmpfs's readdir cookies.
//!
//! Entries are found by name through a hash map and listed in creation
//! order through an ordered map keyed by a per-directory sequence number,
//! so both stay fast with 100,000 entries. As in NetBSD's tmpfs, cookie 0
//! is `.`, 1 is `..`, 2 is the end of the directory, and entries get
//! sequence numbers from 3 on that are never reused while the directory
//! exists. The cookie after an entry is the sequence number of the entry
//! that follows it; a reader continues with the first entry at or after
//! its cookie, so removing entries (even the very next one) never makes it
//! skip or repeat another. An entry renamed within its directory keeps its
//! number and place; one moved in from elsewhere goes to the end.

use std::collections::{BTreeMap, HashMap};

/// Cookie of `.`.
pub const SEQ_DOT: i64 = 0;
/// Cookie of `..`.
pub const SEQ_DOTDOT: i64 = 1;
/// Cookie of the end of the directory.
pub const SEQ_EOF: i64 = 2;
/// First sequence number of a real entry.
pub const SEQ_START: u64 = 3;

/// How much an entry adds to a directory's `st_size`: the size of
/// NetBSD's `struct tmpfs_dirent` on amd64.
pub const DIRENT_SIZE: u64 = 48;

/// One entry: its name and what it holds.
pub struct Entry<T> {
    pub name: Box<[u8]>,
    pub value: T,
}

/// What readdir yields, before the caller fills in numbers and types.
pub enum Item<'a, T> {
    Dot,
    DotDot,
    Entry(&'a Entry<T>),
}

/// A directory's contents.
pub struct Dir<T> {
    by_name: HashMap<Box<[u8]>, u64>,
    by_seq: BTreeMap<u64, Entry<T>>,
    next_seq: u64,
    /// Removed (rmdir): it reads as empty and takes no new entries.
    pub unlinked: bool,
}

impl<T> Default for Dir<T> {
    fn default() -> Self {
        Dir {
            by_name: HashMap::new(),
            by_seq: BTreeMap::new(),
            next_seq: SEQ_START,
            unlinked: false,
        }
    }
}

impl<T> Dir<T> {
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    /// `st_size`.
    pub fn size(&self) -> u64 {
        self.len() as u64 * DIRENT_SIZE
    }

    pub fn get(&self, name: &[u8]) -> Option<&Entry<T>> {
        self.by_name.get(name).and_then(|seq| self.by_seq.get(seq))
    }

    pub fn get_mut(&mut self, name: &[u8]) -> Option<&mut Entry<T>> {
        match self.by_name.get(name) {
            Some(seq) => self.by_seq.get_mut(seq),
            None => None,
        }
    }

    pub fn contains(&self, name: &[u8]) -> bool {
        self.by_name.contains_key(name)
    }

    /// Adds an entry at the end; the caller made sure that the name is
    /// free. Returns its sequence number.
    pub fn insert(&mut self, name: Box<[u8]>, value: T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_name.insert(name.clone(), seq);
        self.by_seq.insert(seq, Entry { name, value });
        seq
    }

    /// Takes the entry `name` out.
    pub fn remove(&mut self, name: &[u8]) -> Option<Entry<T>> {
        let seq = self.by_name.remove(name)?;
        self.by_seq.remove(&seq)
    }

    /// Renames `old` to `new` in place (same sequence number); the caller
    /// made sure that `new` is free. Returns false if `old` is missing.
    pub fn rename(&mut self, old: &[u8], new: &[u8]) -> bool {
        let Some(seq) = self.by_name.remove(old) else {
            return false;
        };
        let new: Box<[u8]> = new.into();
        self.by_name.insert(new.clone(), seq);
        if let Some(e) = self.by_seq.get_mut(&seq) {
            e.name = new;
        }
        true
    }

    /// Takes every entry out, in order.
    pub fn drain(&mut self) -> Vec<Entry<T>> {
        self.by_name.clear();
        std::mem::take(&mut self.by_seq).into_values().collect()
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.by_seq.values()
    }

    /// The cookie of the first entry at or after `seq`, or the end.
    fn cookie_at(&self, seq: u64) -> i64 {
        self.by_seq
            .range(seq..)
            .next()
            .map_or(SEQ_EOF, |(&s, _)| s as i64)
    }

    /// Up to `max` items from `cookie` on, each with the cookie that
    /// follows it. `None` for a cookie that no reader could hold
    /// (negative).
    pub fn read(&self, cookie: i64, max: usize) -> Option<Vec<(Item<'_, T>, i64)>> {
        if cookie < 0 {
            return None;
        }
        let mut out = Vec::new();
        if self.unlinked || cookie == SEQ_EOF {
            return Some(out);
        }
        if cookie == SEQ_DOT && out.len() < max {
            out.push((Item::Dot, SEQ_DOTDOT));
        }
        if cookie <= SEQ_DOTDOT && out.len() < max {
            out.push((Item::DotDot, self.cookie_at(SEQ_START)));
        }
        if out.len() >= max {
            return Some(out);
        }
        let start = (cookie as u64).max(SEQ_START);
        let mut it = self.by_seq.range(start..).peekable();
        while out.len() < max {
            let Some((_, e)) = it.next() else { break };
            let next = it.peek().map_or(SEQ_EOF, |(&s, _)| s as i64);
            out.push((Item::Entry(e), next));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(d: &Dir<u32>, mut cookie: i64, step: usize) -> (Vec<String>, Vec<i64>) {
        let mut names = Vec::new();
        let mut cookies = Vec::new();
        loop {
            let items = d.read(cookie, step).unwrap();
            if items.is_empty() {
                break;
            }
            for (item, next) in items {
                names.push(match item {
                    Item::Dot => ".".to_string(),
                    Item::DotDot => "..".to_string(),
                    Item::Entry(e) => String::from_utf8_lossy(&e.name).into_owned(),
                });
                cookies.push(next);
                cookie = next;
            }
        }
        (names, cookies)
    }

    #[test]
    fn cookies_follow_netbsd() {
        let mut d = Dir::<u32>::default();
        assert_eq!(
            names(&d, 0, 10),
            (vec![".".into(), "..".into()], vec![1, 2])
        );
        assert_eq!(d.insert(b"a"[..].into(), 1), 3);
        assert_eq!(d.insert(b"b"[..].into(), 2), 4);
        let (n, c) = names(&d, 0, 1);
        assert_eq!(n, [".", "..", "a", "b"]);
        assert_eq!(c, [1, 3, 4, 2]);
        assert!(d.read(2, 10).unwrap().is_empty());
        assert!(d.read(-1, 10).is_none());
        assert_eq!(d.size(), 2 * DIRENT_SIZE);
        assert!(d.read(0, 0).unwrap().is_empty());
    }

    #[test]
    fn removal_during_iteration_skips_and_repeats_nothing() {
        let mut d = Dir::<u32>::default();
        for i in 0..10 {
            d.insert(format!("f{i}").into_bytes().into(), i);
        }
        // Read ".", "..", f0, f1; the cookie now points at f2.
        let items = d.read(0, 4).unwrap();
        let cookie = items.last().unwrap().1;
        drop(items);
        // Remove the very next entry and one already read.
        d.remove(b"f2").unwrap();
        d.remove(b"f0").unwrap();
        let (n, _) = names(&d, cookie, 3);
        assert_eq!(n, ["f3", "f4", "f5", "f6", "f7", "f8", "f9"]);
    }

    #[test]
    fn rename_keeps_the_place_and_sequence_numbers_are_not_reused() {
        let mut d = Dir::<u32>::default();
        d.insert(b"a"[..].into(), 1);
        d.insert(b"b"[..].into(), 2);
        assert!(d.rename(b"a", b"z"));
        assert!(!d.rename(b"nope", b"y"));
        assert!(d.get(b"a").is_none());
        assert_eq!(d.get(b"z").unwrap().value, 1);
        let (n, _) = names(&d, 0, 10);
        assert_eq!(n, [".", "..", "z", "b"]);
        d.remove(b"b").unwrap();
        assert_eq!(d.insert(b"c"[..].into(), 3), 5);
        let all: Vec<_> = d.drain().into_iter().map(|e| e.value).collect();
        assert_eq!(all, [1, 3]);
        assert!(d.is_empty());
    }

    #[test]
    fn unlinked_directories_read_empty() {
        let mut d = Dir::<u32>::default();
        d.insert(b"a"[..].into(), 1);
        d.unlinked = true;
        assert!(d.read(0, 10).unwrap().is_empty());
    }

    #[test]
    fn hundred_thousand_entries() {
        let mut d = Dir::<u32>::default();
        for i in 0..100_000u32 {
            d.insert(format!("entry-{i}").into_bytes().into(), i);
        }
        for i in (0..100_000u32).step_by(7) {
            assert_eq!(d.get(format!("entry-{i}").as_bytes()).unwrap().value, i);
        }
        for i in (0..100_000u32).step_by(2) {
            d.remove(format!("entry-{i}").as_bytes()).unwrap();
        }
        let (n, _) = names(&d, 0, 1000);
        assert_eq!(n.len(), 2 + 50_000);
        assert_eq!(n[2], "entry-1");
        assert_eq!(n.last().unwrap(), "entry-99999");
    }
}
