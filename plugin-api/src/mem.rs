//! Charging what a component keeps in memory to the kernel's memory
//! accountant (the `-r` limit), from anywhere in the component. Before a
//! component of the library is initialised (in unit tests, say) nothing
//! is charged and every charge succeeds.

use crate::kernel::try_kernel;
use crate::{Errno, KResult};

/// Charges `bytes` to the kernel; ENOMEM when it has no more.
pub fn reserve(bytes: u64) -> KResult<()> {
    match try_kernel() {
        Some(k) => k.mem_reserve(bytes).map_err(|_| Errno::ENOMEM),
        None => Ok(()),
    }
}

/// Returns `bytes` charged earlier.
pub fn release(bytes: u64) {
    if let Some(k) = try_kernel() {
        k.mem_release(bytes);
    }
}

/// Where a component's charges go: the kernel ([`KernelMem`]), or a
/// test's stand-in that counts them.
pub trait MemSink: Send + Sync {
    /// Charges `bytes`; an error when there is no more.
    fn reserve(&self, bytes: u64) -> KResult<()>;

    /// Returns `bytes` charged earlier.
    fn release(&self, bytes: u64);
}

/// The kernel's accountant, as a [`MemSink`].
pub struct KernelMem;

impl MemSink for KernelMem {
    fn reserve(&self, bytes: u64) -> KResult<()> {
        reserve(bytes)
    }

    fn release(&self, bytes: u64) {
        release(bytes)
    }
}

/// Bytes charged to the kernel, returned when this is dropped.
#[derive(Debug)]
pub struct Charge {
    bytes: u64,
}

impl Charge {
    /// Charges `bytes`, or fails with ENOMEM and charges nothing.
    pub fn new(bytes: u64) -> KResult<Charge> {
        reserve(bytes)?;
        Ok(Charge { bytes })
    }

    /// Charges `more` bytes on top, or fails with ENOMEM and charges
    /// nothing more.
    pub fn grow(&mut self, more: u64) -> KResult<()> {
        reserve(more)?;
        self.bytes += more;
        Ok(())
    }

    /// Returns `less` bytes (at most all of them) now.
    pub fn shrink(&mut self, less: u64) {
        let less = less.min(self.bytes);
        release(less);
        self.bytes -= less;
    }

    /// Bytes charged now.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        release(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_kernel_charges_count_and_always_succeed() {
        let mut c = Charge::new(100).unwrap();
        c.grow(50).unwrap();
        assert_eq!(c.bytes(), 150);
        c.shrink(500);
        assert_eq!(c.bytes(), 0);
        assert!(KernelMem.reserve(u64::MAX).is_ok());
    }
}
