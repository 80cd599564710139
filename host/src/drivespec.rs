//! `-d drivespec`: `key=...,hostpath=...[,size=...][,offset=...]
//! [,disklabel=X][,type=blk|chr|reg]`, parsed and checked as NetBSD's
//! rump_allserver does, with its messages.

use crate::cli::CliError;

/// How a key appears inside the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtfsType {
    /// A block device (the default).
    Blk,
    /// A character device.
    Chr,
    /// A regular file.
    Reg,
}

/// The size of the mapped window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// This many bytes (0: not given).
    Bytes(u64),
    /// `size=host`: the host file's current size.
    Host,
}

/// One parsed `-d` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveSpec {
    pub key: String,
    pub hostpath: String,
    pub size: Size,
    pub offset: u64,
    /// `disklabel=X` as a partition index (a = 0).
    pub partition: Option<u8>,
    pub ftype: EtfsType,
}

fn usage_err(msg: &str) -> CliError {
    CliError {
        message: format!("{msg}\n"),
        usage: true,
    }
}

/// Parses one drivespec.
pub fn parse(prog: &str, spec: &str) -> Result<DriveSpec, CliError> {
    let mut key = None;
    let mut hostpath = None;
    let mut size = Size::Bytes(0);
    let mut offset = 0u64;
    let mut partition = None;
    let mut ftype = None;
    for token in spec.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        let (name, value) = match token.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (token, None),
        };
        let known = ["key", "hostpath", "size", "offset", "disklabel", "type"];
        if !known.contains(&name) {
            return Err(usage_err("invalid dtoken"));
        }
        let Some(value) = value else {
            return Err(usage_err("incomplete drivespec"));
        };
        match name {
            "key" => {
                if key.replace(value.to_string()).is_some() {
                    return Err(usage_err("key already given"));
                }
            }
            "hostpath" => {
                if hostpath.replace(value.to_string()).is_some() {
                    return Err(usage_err("hostpath already given"));
                }
            }
            "size" => {
                if size != Size::Bytes(0) {
                    return Err(usage_err("size already given"));
                }
                if value == "host" {
                    if offset != 0 {
                        return Err(usage_err("cannot specify offset with size=host"));
                    }
                    size = Size::Host;
                } else {
                    size = Size::Bytes(suffixed_number(prog, "-d size", value)?);
                }
            }
            "offset" => {
                if offset != 0 {
                    return Err(usage_err("offset already given"));
                }
                if size == Size::Host {
                    return Err(usage_err("cannot specify offset with size=host"));
                }
                offset = suffixed_number(prog, "-d offset", value)?;
            }
            "disklabel" => {
                if offset != 0 || size != Size::Bytes(0) {
                    return Err(usage_err("disklabel needs to be used alone"));
                }
                match value.as_bytes() {
                    [c @ b'a'..=b'z'] => partition = Some(c - b'a'),
                    _ => return Err(usage_err("invalid label part")),
                }
            }
            _ => {
                if ftype.is_some() {
                    return Err(usage_err("type already specified"));
                }
                ftype = Some(match value {
                    "blk" => EtfsType::Blk,
                    "chr" => EtfsType::Chr,
                    "reg" => EtfsType::Reg,
                    other => return Err(usage_err(&format!("invalid type {other}"))),
                });
            }
        }
    }
    let ftype = ftype.unwrap_or(EtfsType::Blk);
    match (key, hostpath) {
        (Some(key), Some(hostpath))
            if size != Size::Bytes(0) || partition.is_some() || ftype == EtfsType::Reg =>
        {
            Ok(DriveSpec {
                key,
                hostpath,
                size,
                offset,
                partition,
                ftype,
            })
        }
        _ => Err(usage_err("incomplete drivespec")),
    }
}

/// A byte count in strsuftoll(3) syntax: a decimal number with an optional
/// suffix b (512), k, m, g, t (powers of 1024) or w (4), and products of
/// such terms joined by `x` or `*`. Errors exit without the usage text.
pub fn suffixed_number(prog: &str, desc: &str, value: &str) -> Result<u64, CliError> {
    let fail = |m: String| CliError {
        message: format!("{prog}: {m}\n"),
        usage: false,
    };
    let n = product(desc, value, 0).map_err(fail)?;
    if n < 0 {
        return Err(fail(format!("{desc} {n} is less than 0.")));
    }
    Ok(n as u64)
}

fn product(desc: &str, val: &str, depth: usize) -> Result<i64, String> {
    if depth > 16 {
        return Err(format!("{desc}: Recursion limit exceeded"));
    }
    let s = val.trim_start();
    let bad = || format!("{desc} `{s}': illegal number");
    let too_large = || format!("{desc}: Result too large");
    let sign = usize::from(s.starts_with(['-', '+']));
    let digits = s[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad());
    }
    let (num, mut rest) = s.split_at(sign + digits);
    let mut n: i64 = num.parse().map_err(|_| too_large())?;
    let mult = match rest.as_bytes().first() {
        Some(b'b') => 512,
        Some(b'k') => 1 << 10,
        Some(b'm') => 1 << 20,
        Some(b'g') => 1 << 30,
        Some(b't') => 1 << 40,
        Some(b'w') => 4,
        _ => 1,
    };
    if mult != 1 {
        n = n.checked_mul(mult).ok_or_else(too_large)?;
        rest = &rest[1..];
    }
    match rest.as_bytes().first() {
        None => Ok(n),
        Some(b'x' | b'*') => {
            let m = product(desc, &rest[1..], depth + 1)?;
            n.checked_mul(m).ok_or_else(too_large)
        }
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(spec: &str) -> DriveSpec {
        parse("rump_server", spec).unwrap()
    }

    fn msg(spec: &str) -> String {
        parse("rump_server", spec).unwrap_err().message
    }

    #[test]
    fn complete_specs() {
        let d = ok("key=/dev/dk,hostpath=dk.img,size=1g");
        assert_eq!(d.key, "/dev/dk");
        assert_eq!(d.hostpath, "dk.img");
        assert_eq!(d.size, Size::Bytes(1 << 30));
        assert_eq!(d.ftype, EtfsType::Blk);
        let d = ok("key=/f,hostpath=/tmp/f,type=reg");
        assert_eq!((d.size, d.ftype), (Size::Bytes(0), EtfsType::Reg));
        let d = ok("key=/d,hostpath=img,disklabel=e");
        assert_eq!(d.partition, Some(4));
        let d = ok("key=/d,hostpath=img,size=host,type=chr");
        assert_eq!((d.size, d.ftype), (Size::Host, EtfsType::Chr));
        assert_eq!(
            ok("key=/d,hostpath=i,size=2x1m,offset=1b").size,
            Size::Bytes(2 << 20)
        );
        assert_eq!(ok("key=/d,hostpath=i,size=2x1m,offset=1b").offset, 512);
        assert_eq!(ok("key=/d,hostpath=i,size=0,size=5").size, Size::Bytes(5));
    }

    #[test]
    fn netbsd_messages() {
        assert_eq!(msg("key=/a,key=/b"), "key already given\n");
        assert_eq!(msg("hostpath=a,hostpath=b"), "hostpath already given\n");
        assert_eq!(msg("size=1,size=2"), "size already given\n");
        assert_eq!(
            msg("offset=1,size=host"),
            "cannot specify offset with size=host\n"
        );
        assert_eq!(
            msg("size=host,offset=1"),
            "cannot specify offset with size=host\n"
        );
        assert_eq!(msg("offset=1,offset=2"), "offset already given\n");
        assert_eq!(
            msg("size=1m,disklabel=a"),
            "disklabel needs to be used alone\n"
        );
        assert_eq!(msg("disklabel=A"), "invalid label part\n");
        assert_eq!(msg("disklabel=ab"), "invalid label part\n");
        assert_eq!(msg("type=blk,type=reg"), "type already specified\n");
        assert_eq!(msg("type=fifo"), "invalid type fifo\n");
        assert_eq!(msg("colour=blue"), "invalid dtoken\n");
        assert_eq!(msg("key=/a,hostpath=b"), "incomplete drivespec\n");
        assert_eq!(msg("hostpath=b,size=1"), "incomplete drivespec\n");
        assert_eq!(msg("key=/a,hostpath=b,size"), "incomplete drivespec\n");
        assert!(parse("p", "key=/a").unwrap_err().usage);
    }

    #[test]
    fn number_errors_exit_without_usage() {
        let e = parse("rump_server", "key=/a,hostpath=b,size=1G").unwrap_err();
        assert_eq!(e.message, "rump_server: -d size `1G': illegal number\n");
        assert!(!e.usage);
        assert_eq!(msg("size=-5"), "rump_server: -d size -5 is less than 0.\n");
        assert_eq!(
            msg("size=99999999999t"),
            "rump_server: -d size: Result too large\n"
        );
        assert_eq!(
            msg("offset=x"),
            "rump_server: -d offset `x': illegal number\n"
        );
    }
}
