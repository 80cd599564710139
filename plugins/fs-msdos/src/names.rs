//! FAT names: 8.3 short names made from Unix names the way Windows and
//! NetBSD make them (upper case, invalid characters dropped, `~N` tails
//! when something was lost), short names shown as Unix names, long names
//! as UTF-16, their checksum, and case-insensitive comparison.

/// Characters of a long name held by one long-name slot.
pub const WIN_CHARS: usize = 13;
/// The longest long name, in UTF-16 units.
pub const WIN_MAXLEN: usize = 255;
/// A short name: 8 name and 3 extension bytes, blank-padded.
pub type ShortName = [u8; 11];

/// How well a Unix name fits a short name (NetBSD's unix2dosfn results).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The short name is the name itself: no long name is needed.
    Exact,
    /// The short name is the name in another case: a long name keeps it.
    Converted,
    /// Characters were dropped or the name was cut: the short name needs
    /// a `~N` tail to be unique.
    Lossy,
}

/// The short-name form of one byte of a Unix name: the byte itself, in
/// upper case, or None for bytes a short name cannot hold.
fn short_byte(c: u8) -> Option<u8> {
    match c {
        b'a'..=b'z' => Some(c - 32),
        b'A'..=b'Z' | b'0'..=b'9' => Some(c),
        b'$' | b'%' | b'\'' | b'-' | b'_' | b'@' | b'~' | b'`' | b'!' | b'(' | b')' | b'{'
        | b'}' | b'^' | b'#' | b'&' => Some(c),
        _ => None,
    }
}

/// A Unix name without the trailing dots and blanks Windows drops.
pub fn trimmed(name: &[u8]) -> &[u8] {
    let mut n = name.len();
    while n > 0 && (name[n - 1] == b'.' || name[n - 1] == b' ') {
        n -= 1;
    }
    &name[..n]
}

/// The short name for `name` with generation number `gen` (0: none), and
/// how well it fits; None if the name has nothing a short name can use
/// (only dots and blanks), or `gen` does not fit.
pub fn short_name(name: &[u8], gen: u32) -> Option<(ShortName, Fit)> {
    let mut out = [b' '; 11];
    let name = trimmed(name);
    if name.is_empty() {
        return None;
    }
    // The extension follows the last dot; a leading dot starts none.
    let dot = name.iter().rposition(|&c| c == b'.').filter(|&i| i > 0);
    let (base, ext) = match dot {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => (name, &name[..0]),
    };
    let mut fit = Fit::Exact;
    let mut put = |src: &[u8], dst: &mut [u8]| -> usize {
        let mut n = 0;
        for &c in src {
            match short_byte(c) {
                Some(u) if n < dst.len() => {
                    if u != c && fit == Fit::Exact {
                        fit = Fit::Converted;
                    }
                    dst[n] = u;
                    n += 1;
                }
                _ => fit = Fit::Lossy,
            }
        }
        n
    };
    let (b, e) = out.split_at_mut(8);
    let mut blen = put(base, b);
    put(ext, e);
    if blen == 0 {
        b[0] = b'_';
        blen = 1;
        fit = Fit::Lossy;
    }
    if gen == 0 {
        return Some((out, fit));
    }
    let digits = gen.to_string();
    if digits.len() > 6 {
        return None;
    }
    let keep = blen.min(8 - 1 - digits.len());
    out[keep] = b'~';
    out[keep + 1..keep + 1 + digits.len()].copy_from_slice(digits.as_bytes());
    for c in &mut out[keep + 1 + digits.len()..8] {
        *c = b' ';
    }
    Some((out, Fit::Lossy))
}

/// The Unix name a short name shows: trailing blanks dropped, a dot
/// before a non-empty extension, each part in lower case when `lower_base`
/// or `lower_ext`. Bytes that cannot be in a Unix name become `_`.
pub fn short_to_unix(s: &ShortName, lower_base: bool, lower_ext: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    let fix = |c: u8, lower: bool| -> u8 {
        match c {
            0 | b'/' => b'_',
            b'A'..=b'Z' if lower => c + 32,
            _ => c,
        }
    };
    let blen = s[..8].iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    for (i, &c) in s[..blen].iter().enumerate() {
        // 0x05 stands for a leading 0xe5, which marks free slots.
        let c = if i == 0 && c == 0x05 { 0xe5 } else { c };
        out.push(fix(c, lower_base));
    }
    let elen = s[8..].iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    if elen > 0 {
        out.push(b'.');
        for &c in &s[8..8 + elen] {
            out.push(fix(c, lower_ext));
        }
    }
    if out.is_empty() {
        out.push(b'_');
    }
    out
}

/// The checksum of a short name that its long-name slots carry.
pub fn checksum(s: &ShortName) -> u8 {
    s.iter()
        .fold(0u8, |sum, &c| ((sum & 1) << 7 | sum >> 1).wrapping_add(c))
}

/// The UTF-16 form of a Unix name for long-name slots (UTF-8 names are
/// converted, other bytes are taken as Latin-1); None if it is longer
/// than a long name may be.
pub fn to_utf16(name: &[u8]) -> Option<Vec<u16>> {
    let name = trimmed(name);
    let units: Vec<u16> = match std::str::from_utf8(name) {
        Ok(s) => s.encode_utf16().collect(),
        Err(_) => name.iter().map(|&b| u16::from(b)).collect(),
    };
    (units.len() <= WIN_MAXLEN).then_some(units)
}

/// The Unix name of a long name; None if it holds `/` or NUL.
pub fn from_utf16(units: &[u16]) -> Option<Vec<u8>> {
    if units.iter().any(|&u| u == 0 || u == u16::from(b'/')) || units.is_empty() {
        return None;
    }
    Some(String::from_utf16_lossy(units).into_bytes())
}

/// The long-name slots a name needs.
pub fn slots_for(units: usize) -> usize {
    units.div_ceil(WIN_CHARS)
}

/// `name` folded for case-insensitive comparison.
pub fn fold(name: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(name) {
        Ok(s) => s.to_lowercase().into_bytes(),
        Err(_) => name.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sn(s: &str) -> ShortName {
        let mut o = [b' '; 11];
        o[..s.len()].copy_from_slice(s.as_bytes());
        o
    }

    #[test]
    fn short_names_as_windows_makes_them() {
        assert_eq!(
            short_name(b"FOO.TXT", 0),
            Some((sn("FOO     TXT"), Fit::Exact))
        );
        assert_eq!(
            short_name(b"foo.txt", 0),
            Some((sn("FOO     TXT"), Fit::Converted))
        );
        assert_eq!(short_name(b"README", 0), Some((sn("README"), Fit::Exact)));
        assert_eq!(
            short_name(b"Long File Name.html", 1),
            Some((sn("LONGFI~1HTM"), Fit::Lossy))
        );
        assert_eq!(short_name(b"Long File Name.html", 0).unwrap().1, Fit::Lossy);
        assert_eq!(
            short_name(b".bashrc", 2),
            Some((sn("BASHRC~2"), Fit::Lossy))
        );
        assert_eq!(short_name(b"a.b.c", 1), Some((sn("AB~1    C"), Fit::Lossy)));
        assert_eq!(short_name(b"x", 123456), Some((sn("X~123456"), Fit::Lossy)));
        assert_eq!(
            short_name(b"abcdefgh", 10),
            Some((sn("ABCDE~10"), Fit::Lossy))
        );
        assert_eq!(short_name(b"x", 1234567), None);
        assert_eq!(short_name(b"...", 0), None);
        assert_eq!(
            short_name(b"trailing.", 0),
            Some((sn("TRAILING"), Fit::Converted))
        );
        assert_eq!(
            short_name("é.txt".as_bytes(), 1),
            Some((sn("_~1     TXT"), Fit::Lossy))
        );
    }

    #[test]
    fn shown_names_and_checksums() {
        assert_eq!(short_to_unix(&sn("FOO     TXT"), false, false), b"FOO.TXT");
        assert_eq!(short_to_unix(&sn("FOO     TXT"), true, false), b"foo.TXT");
        assert_eq!(short_to_unix(&sn("README"), true, true), b"readme");
        let mut e5 = sn("XY");
        e5[0] = 0x05;
        assert_eq!(short_to_unix(&e5, false, false), [0xe5, b'Y']);
        assert_eq!(checksum(&sn("FOO     TXT")), 0x65);
        assert_eq!(checksum(&sn("LONGFI~1HTM")), checksum(&sn("LONGFI~1HTM")));
    }

    #[test]
    fn long_names() {
        let u = to_utf16("añb".as_bytes()).unwrap();
        assert_eq!(u, vec![0x61, 0xf1, 0x62]);
        assert_eq!(from_utf16(&u).unwrap(), "añb".as_bytes());
        assert!(to_utf16(&[b'n'; 255]).is_some());
        assert!(to_utf16(&[b'n'; 256]).is_none());
        assert_eq!(slots_for(13), 1);
        assert_eq!(slots_for(14), 2);
        assert_eq!(from_utf16(&[0x61, 0x2f]), None);
        assert_eq!(fold("ÄbC".as_bytes()), "äbc".as_bytes());
    }
}
