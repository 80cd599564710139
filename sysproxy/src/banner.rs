//! The text banner a server sends first on every connection.

/// Protocol major version.
pub const PROTO_MAJOR: u32 = 0;
/// Protocol minor version.
pub const PROTO_MINOR: u32 = 4;
/// Longest banner a client accepts, newline included (MAXBANNER - 1).
pub const MAX_BANNER: usize = 95;

/// Formats the banner for a kernel: `RUMPSP-0.4-<ostype>-<osrelease>/<machine>\n`.
pub fn banner(ostype: &str, osrelease: &str, machine: &str) -> String {
    format!("RUMPSP-{PROTO_MAJOR}.{PROTO_MINOR}-{ostype}-{osrelease}/{machine}\n")
}

/// Checks a banner the way librumpclient does: it must end in a newline
/// and fit in one read of [`MAX_BANNER`] bytes. The contents are not
/// interpreted.
pub fn is_valid(b: &[u8]) -> bool {
    !b.is_empty() && b.len() <= MAX_BANNER && b.last() == Some(&b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netbsd_banner() {
        let b = banner("NetBSD", "7.99.34", "amd64");
        assert_eq!(b, "RUMPSP-0.4-NetBSD-7.99.34/amd64\n");
        assert_eq!(b.len(), 32);
        assert!(is_valid(b.as_bytes()));
        assert!(!is_valid(b"RUMPSP"));
    }
}
