//! `getauxval`: the ELF auxiliary vector a Linux program is started with, answered
//! from what the image knows about itself (there is no kernel to build a vector).
//! compiler-rt's aarch64 start-up code (outline atomics, CPU feature detection) and
//! Rust std call it.

/// Auxiliary vector entry types (Linux `include/uapi/linux/auxvec.h`).
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_HWCAP: u64 = 16;
pub const AT_HWCAP2: u64 = 26;
/// The address of 16 random bytes (answered by the export: it is an address in the
/// image, not a fact about it).
pub const AT_RANDOM: u64 = 25;

/// The page size the runtime maps with.
pub const PAGE_SIZE: u64 = 4096;

/// What the image's own ELF header says about its program headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeaders {
    pub address: u64,
    pub entry_size: u64,
    pub count: u64,
}

/// The value of entry `kind`, or `None` when the vector has no such entry (the
/// caller then returns 0 with errno ENOENT, as glibc does).
///
/// AT_HWCAP and AT_HWCAP2 are present and 0: no optional CPU feature is promised,
/// so code that checks them takes its baseline path (on aarch64, LL/SC atomics
/// instead of LSE), which is correct on every CPU.
pub fn lookup(kind: u64, headers: ProgramHeaders) -> Option<u64> {
    match kind {
        AT_PHDR => Some(headers.address),
        AT_PHENT => Some(headers.entry_size),
        AT_PHNUM => Some(headers.count),
        AT_PAGESZ => Some(PAGE_SIZE),
        AT_HWCAP | AT_HWCAP2 => Some(0),
        _ => None,
    }
}

#[cfg(not(test))]
pub(crate) mod exports {
    use super::*;
    use crate::errno;
    use core::ffi::c_ulong;
    use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

    unsafe extern "C" {
        /// The image's ELF header: the linker scripts load it at the start of the
        /// read-only segment (runtime/kernel/README.md).
        static __ehdr_start: [u8; 64];
    }

    pub(crate) fn program_headers() -> ProgramHeaders {
        // SAFETY: `__ehdr_start` is the loaded, never written ELF header of this image.
        let header: &[u8; 64] =
            unsafe { &*(unik_kernel::symbol_address!(__ehdr_start) as *const [u8; 64]) };
        let base = header.as_ptr() as u64;
        let word = |offset: usize| {
            u64::from_le_bytes(header[offset..offset + 8].try_into().unwrap_or([0; 8]))
        };
        let half =
            |offset: usize| u64::from(u16::from_le_bytes([header[offset], header[offset + 1]]));
        // ELF64: e_phoff at 32, e_phentsize at 54, e_phnum at 56.
        ProgramHeaders {
            address: base + word(32),
            entry_size: half(54),
            count: half(56),
        }
    }

    /// AT_RANDOM's 16 bytes, drawn on first use straight from the CPU's random
    /// instruction (Linux fills them at exec; here nothing asks before `main`). Not
    /// from the ChaCha20 generator: compiler-rt's aarch64 start-up code calls
    /// `getauxval` in every image, which would then carry the generator.
    static RANDOM_BYTES: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
    /// 0: not drawn, 1: being drawn, 2: drawn, 3: no hardware random source.
    static RANDOM_STATE: AtomicU8 = AtomicU8::new(0);
    const DRAWN: u8 = 2;
    const UNAVAILABLE: u8 = 3;

    /// The address of the 16 bytes, or `None` without a hardware random source (fail
    /// closed: no predictable bytes are handed out as random).
    fn random_bytes() -> Option<u64> {
        if RANDOM_STATE
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire)
            .is_ok()
        {
            let draw = crate::kernel::random::hardware_u64;
            let state = if let (Some(first), Some(second)) = (draw(), draw()) {
                RANDOM_BYTES[0].store(first, Ordering::Relaxed);
                RANDOM_BYTES[1].store(second, Ordering::Relaxed);
                DRAWN
            } else {
                UNAVAILABLE
            };
            RANDOM_STATE.store(state, Ordering::Release);
        }
        loop {
            match RANDOM_STATE.load(Ordering::Acquire) {
                DRAWN => return Some(RANDOM_BYTES.as_ptr() as u64),
                UNAVAILABLE => return None,
                _ => core::hint::spin_loop(),
            }
        }
    }

    /// glibc `getauxval`.
    #[unsafe(export_name = "__unik_getauxval")]
    pub extern "C" fn getauxval(kind: c_ulong) -> c_ulong {
        if kind == AT_RANDOM {
            // Without a hardware random source: 0 and ENOENT, as for an absent entry.
            return random_bytes().unwrap_or_else(|| {
                errno::set(errno::ENOENT);
                0
            });
        }
        match lookup(kind, program_headers()) {
            Some(value) => value,
            None => {
                errno::set(errno::ENOENT);
                0
            }
        }
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(getauxval);

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: ProgramHeaders = ProgramHeaders {
        address: 0x10_0040,
        entry_size: 56,
        count: 5,
    };

    #[test]
    fn known_entries_come_from_the_image() {
        assert_eq!(lookup(AT_PAGESZ, HEADERS), Some(4096));
        assert_eq!(lookup(AT_PHDR, HEADERS), Some(0x10_0040));
        assert_eq!(lookup(AT_PHENT, HEADERS), Some(56));
        assert_eq!(lookup(AT_PHNUM, HEADERS), Some(5));
        assert_eq!(lookup(AT_HWCAP, HEADERS), Some(0));
        assert_eq!(lookup(AT_HWCAP2, HEADERS), Some(0));
    }

    #[test]
    fn unknown_entries_are_absent() {
        assert_eq!(lookup(0, HEADERS), None);
        assert_eq!(lookup(AT_RANDOM, HEADERS), None); // an address: the export's
        assert_eq!(lookup(u64::MAX, HEADERS), None);
    }
}
