//! Panic guards for every entry point that the kernel calls across the
//! library boundary.
//!
//! A panic must never unwind into the caller's copy of the Rust runtime:
//! abi_stable would abort the whole server. Each entry point runs its body
//! under [`guard`], which turns a panic into EIO and a log line naming what
//! panicked.

use crate::kernel;
use crate::{Errno, KResult};
use abi_stable::std_types::RResult;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs `f`; a panic becomes EIO and an error in the kernel log that
/// names `what`.
pub fn guard<T>(what: &str, f: impl FnOnce() -> KResult<T>) -> RResult<T, Errno> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.into(),
        Err(p) => {
            report(what, &panic_text(p.as_ref()));
            RResult::RErr(Errno::EIO)
        }
    }
}

/// Like [`guard`] for entries whose errors are messages.
pub fn guard_msg<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let text = panic_text(p.as_ref());
            report(what, &text);
            Err(format!("panicked: {text}"))
        }
    }
}

/// Like [`guard`] for entries that cannot fail: a panic yields `fallback`.
pub fn guard_or<T>(what: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            report(what, &panic_text(p.as_ref()));
            fallback
        }
    }
}

fn report(what: &str, text: &str) {
    let msg = format!("{what} panicked: {text}; the call failed with EIO");
    match kernel::try_kernel() {
        Some(k) => k.error(&msg),
        None => eprintln!("{msg}"),
    }
}
