//! File names without Rock Ridge: ISO 9660 identifiers and Joliet's UCS-2
//! names, as NetBSD shows them and matches them.
//!
//! Shown (readdir): a version suffix `;N` is dropped with a `.` just
//! before it, upper case letters become lower case unless the mount says
//! `nocasetrans` (plain ISO names only), associated files get a leading
//! `=`, and Joliet names become UTF-8. With `gens` the version stays.
//! Names are at most 255 bytes; a longer one ends in `?`.
//!
//! Matched (lookup): the name asked for is compared with the recorded
//! identifier as NetBSD's `isofncmp` does: a recorded upper case letter
//! also matches its lower case form, and the version may be left out or
//! given (`readme.txt;1`).
//!
//! Joliet names are UTF-16 big-endian here: a surrogate pair becomes one
//! character (NetBSD encodes each half on its own) and a lone half
//! becomes U+FFFD.

/// The longest name shown.
pub const NAME_MAX: usize = 255;
/// The prefix of an associated file's name.
pub const ASSOC_CHAR: u8 = b'=';

/// How names are shown on a mount without Rock Ridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Joliet level (0: plain ISO 9660).
    pub joliet: u8,
    /// Keep `;N` (the `gens` option).
    pub keep_version: bool,
    /// Map upper case to lower case (plain ISO names only).
    pub lower_case: bool,
}

/// The characters of a recorded identifier.
pub fn chars(raw: &[u8], joliet: bool) -> Vec<u32> {
    if !joliet {
        return raw.iter().map(|&b| u32::from(b)).collect();
    }
    let mut units = Vec::with_capacity(raw.len() / 2 + 1);
    let mut i = 0;
    while i < raw.len() {
        if i + 1 == raw.len() {
            // A single trailing byte (such as the 0 and 1 of `.` and
            // `..`) is one character.
            units.push(u16::from(raw[i]));
            i += 1;
        } else {
            units.push(u16::from_be_bytes([raw[i], raw[i + 1]]));
            i += 2;
        }
    }
    char::decode_utf16(units)
        .map(|r| u32::from(r.unwrap_or(char::REPLACEMENT_CHARACTER)))
        .collect()
}

/// The characters of a name asked for: UTF-8 on Joliet mounts (bytes
/// that are not UTF-8 count one each), bytes otherwise.
fn asked_chars(name: &[u8], joliet: bool) -> Vec<u32> {
    if !joliet {
        return name.iter().map(|&b| u32::from(b)).collect();
    }
    let mut out = Vec::with_capacity(name.len());
    let mut rest = name;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.extend(s.chars().map(u32::from));
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.extend(
                    std::str::from_utf8(good)
                        .unwrap_or_default()
                        .chars()
                        .map(u32::from),
                );
                out.push(u32::from(bad[0]));
                rest = &bad[1..];
            }
        }
    }
    out
}

/// Appends `c` to `out` as UTF-8 (Joliet) or as a byte; false if it does
/// not fit in [`NAME_MAX`].
fn put(out: &mut Vec<u8>, c: u32, joliet: bool) -> bool {
    let mut buf = [0u8; 4];
    let bytes: &[u8] = if joliet {
        char::from_u32(c)
            .unwrap_or(char::REPLACEMENT_CHARACTER)
            .encode_utf8(&mut buf)
            .as_bytes()
    } else {
        buf[0] = c as u8;
        &buf[..1]
    };
    if out.len() + bytes.len() > NAME_MAX {
        return false;
    }
    out.extend_from_slice(bytes);
    true
}

/// The name shown for a recorded identifier (not `.` or `..`).
pub fn shown(raw: &[u8], assoc: bool, style: Style) -> Vec<u8> {
    let joliet = style.joliet > 0;
    let mut out = Vec::with_capacity(raw.len() + 1);
    if assoc {
        out.push(ASSOC_CHAR);
    }
    for c in chars(raw, joliet) {
        let c = if style.lower_case && !joliet && (u32::from(b'A')..=u32::from(b'Z')).contains(&c) {
            c + 32
        } else if !style.keep_version && c == u32::from(b';') {
            if out.last() == Some(&b'.') {
                out.pop();
            }
            break;
        } else {
            c
        };
        if !put(&mut out, c, joliet) {
            if out.len() < NAME_MAX {
                out.push(b'?');
            }
            break;
        }
    }
    out
}

/// Whether `asked` names the recorded identifier `raw` (NetBSD's
/// `isofncmp` returning 0).
pub fn matches(asked: &[u8], raw: &[u8], joliet: bool) -> bool {
    let f = asked_chars(asked, joliet);
    let iso = chars(raw, joliet);
    let (semi, dot) = (u32::from(b';'), u32::from(b'.'));
    let (mut i, mut j) = (0, 0);
    while i < f.len() {
        let fc = f[i];
        i += 1;
        if j == iso.len() {
            return fc == 0;
        }
        let ic = iso[j];
        j += 1;
        if ic == semi {
            if fc == 0 {
                return true;
            }
            if fc != semi {
                return false;
            }
            // Both give a version: compare the numbers.
            let mut want = 0i32;
            for &d in &f[i..] {
                if !(u32::from(b'0')..=u32::from(b'9')).contains(&d) {
                    return false;
                }
                want = want
                    .wrapping_mul(10)
                    .wrapping_add(d as i32 - i32::from(b'0'));
            }
            let mut have = 0i32;
            for &d in &iso[j..] {
                have = have
                    .wrapping_mul(10)
                    .wrapping_add((d as i32).wrapping_sub(i32::from(b'0')));
            }
            return want == have;
        }
        // A recorded upper case letter also matches its lower case form.
        let upper = (u32::from(b'A')..=u32::from(b'Z')).contains(&ic);
        if ic != fc && !(upper && ic + 32 == fc) {
            return false;
        }
    }
    if j < iso.len() {
        let ic = iso[j];
        j += 1;
        return if ic == semi {
            true
        } else if ic == dot {
            j < iso.len() && iso[j] == semi
        } else {
            false
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISO: Style = Style {
        joliet: 0,
        keep_version: false,
        lower_case: true,
    };

    fn joliet(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn plain_names_as_netbsd_shows_them() {
        assert_eq!(shown(b"README.TXT;1", false, ISO), b"readme.txt");
        assert_eq!(shown(b"NOEXT.;1", false, ISO), b"noext");
        assert_eq!(shown(b"DIR_A", false, ISO), b"dir_a");
        assert_eq!(shown(b"RES.;1", true, ISO), b"=res");
        let keep = Style {
            keep_version: true,
            ..ISO
        };
        assert_eq!(shown(b"README.TXT;1", false, keep), b"readme.txt;1");
        let upper = Style {
            lower_case: false,
            ..ISO
        };
        assert_eq!(shown(b"README.TXT;1", false, upper), b"README.TXT");
        assert_eq!(shown(&[b'A'; 300], false, ISO).len(), 255);
    }

    #[test]
    fn joliet_names() {
        let j = Style { joliet: 3, ..ISO };
        assert_eq!(
            shown(&joliet("Mixed Case.txt;1"), false, j),
            b"Mixed Case.txt"
        );
        assert_eq!(
            shown(&joliet("caf\u{e9} \u{1f600}"), false, j),
            "caf\u{e9} \u{1f600}".as_bytes()
        );
        // a lone surrogate half, and an odd trailing byte
        assert_eq!(
            shown(&[0xd8, 0x00, 0, b'a'], false, j),
            "\u{fffd}a".as_bytes()
        );
        assert_eq!(chars(&[0], true), vec![0]);
        let long: String = "\u{e9}".repeat(200);
        let s = shown(&joliet(&long), false, j);
        assert_eq!(s.len(), 255, "127 whole characters and a ?");
        assert_eq!(s.last(), Some(&b'?'));
        let s = shown(&joliet(&"\u{4e2d}".repeat(100)), false, j);
        assert_eq!(s.len(), 255, "85 whole characters");
    }

    #[test]
    fn lookups_as_netbsd_matches_them() {
        assert!(matches(b"readme.txt", b"README.TXT;1", false));
        assert!(matches(b"README.TXT", b"README.TXT;1", false));
        assert!(matches(b"ReadMe.txt", b"README.TXT;1", false));
        assert!(matches(b"readme.txt;1", b"README.TXT;1", false));
        assert!(!matches(b"readme.txt;2", b"README.TXT;1", false));
        assert!(!matches(b"readme.txt;x", b"README.TXT;1", false));
        assert!(matches(b"noext", b"NOEXT.;1", false));
        assert!(matches(b"noext.", b"NOEXT.;1", false));
        assert!(matches(b"dir", b"DIR", false));
        assert!(!matches(b"di", b"DIR", false));
        assert!(!matches(b"dirx", b"DIR", false));
        assert!(!matches(b"readme", b"README.TXT;1", false));
        assert!(
            !matches(b"README.txt", b"readme.txt;1", false),
            "only recorded upper case folds"
        );
        assert!(matches(b"caf\xc3\xa9", &joliet("caf\u{e9};1"), true));
        assert!(matches(b"Makefile", &joliet("Makefile"), true));
        assert!(
            matches(b"makefile", &joliet("Makefile"), true),
            "recorded upper case folds"
        );
        assert!(!matches(b"MAKEFILE", &joliet("Makefile"), true));
        assert!(matches(b"\xf0\x9f\x98\x80", &joliet("\u{1f600}"), true));
        assert!(!matches(b"\xff", &joliet("a"), true));
    }
}
