//! The compatibility rule between a kernel's API version and a library's.

use semver::Version;

/// Whether a library built against API `plugin` may be loaded by a kernel
/// that provides API `host`: the same major version, and before 1.0 the
/// same minor version too. The error is one line naming both versions.
pub fn check(host: &str, plugin: &str) -> Result<(), String> {
    let parse = |v: &str| Version::parse(v).map_err(|e| format!("bad API version `{v}`: {e}"));
    let (h, p) = (parse(host)?, parse(plugin)?);
    let compatible = h.major == p.major && (h.major > 0 || h.minor == p.minor);
    if compatible {
        Ok(())
    } else {
        Err(format!(
            "built against plugin-api {p}, but this kernel provides plugin-api {h}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn caret_rule() {
        assert!(check("0.1.0", "0.1.7").is_ok());
        assert!(check("0.1.3", "0.1.0").is_ok());
        assert!(check("1.2.0", "1.0.0").is_ok());
        assert_eq!(
            check("0.1.0", "0.2.0").unwrap_err(),
            "built against plugin-api 0.2.0, but this kernel provides plugin-api 0.1.0"
        );
        assert!(check("1.0.0", "2.0.0").is_err());
        assert!(check("0.1.0", "x").is_err());
    }
}
