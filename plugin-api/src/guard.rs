//! Panic guards for every entry point that the kernel calls across the
//! library boundary.
//!
//! A panic must never unwind into the caller's copy of the Rust runtime:
//! abi_stable would abort the whole server. Each entry point runs its body
//! under [`guard`], which turns a panic into EIO and a log line naming
//! what panicked and where.

use crate::kernel::{self, Kernel};
use crate::{Errno, KResult};
use abi_stable::std_types::RResult;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// Where the last panic on this thread happened, for the report.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces this library's panic message on stderr with a note of the
/// location, which the guard then reports through the kernel log.
pub(crate) fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let loc = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        LOCATION.with(|l| *l.borrow_mut() = loc);
    }));
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs `f`; a panic comes back as its message, after a log line
/// (through `kernel`, or this library's first handle).
fn catch<T>(what: &str, kernel: Option<&Kernel>, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let text = panic_text(p.as_ref());
        let at = LOCATION
            .with(|l| l.borrow_mut().take())
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let msg = format!("{what} panicked{at}: {text}; the call fails");
        match kernel {
            Some(k) => k.error(&msg),
            None => match kernel::try_kernel() {
                Some(k) => k.error(&msg),
                None => eprintln!("{msg}"),
            },
        }
        text
    })
}

/// Runs `f`; a panic becomes EIO and an error in the kernel log.
pub fn guard<T>(what: &str, f: impl FnOnce() -> KResult<T>) -> RResult<T, Errno> {
    catch(what, None, f).unwrap_or(Err(Errno::EIO)).into()
}

/// Like [`guard`] for entries whose errors are messages, logging through
/// `kernel`.
pub fn guard_msg<T>(
    what: &str,
    kernel: &Kernel,
    f: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    catch(what, Some(kernel), f).unwrap_or_else(|text| Err(format!("panicked: {text}")))
}

/// Like [`guard`] for entries that cannot fail: a panic yields `fallback`.
pub fn guard_or<T>(what: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    catch(what, None, f).unwrap_or(fallback)
}
