//! The image's own layout, from the symbols `sysroot/link/aarch64.ld` defines.

use super::entry;
use crate::memory::{PAGE_SIZE, PhysicalRange};

unsafe extern "C" {
    static __image_start: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __bss_end: u8;
    static __image_end: u8;
    static __tdata_start: u8;
    static __tdata_end: u8;
    /// Absolute symbols: their addresses are the values.
    static __tls_memory_size: u8;
    static __tls_alignment: u8;
}

/// The run-time address of a linker-script or assembly symbol (or any static), by
/// `adrp` + `add`: `&raw const` of an extern static loads the address from a GOT slot
/// instead, one 8-byte slot and a relocation per symbol. Not for absolute symbols
/// (their value is no address in the image): read those with `&raw const`.
#[macro_export]
macro_rules! symbol_address {
    ($symbol:path) => {{
        // The expansion may sit inside an unsafe block of its own.
        #[allow(unused_unsafe)]
        // SAFETY: `adrp` + `add` compute an address; they read and write nothing.
        let address: u64 = unsafe {
            let address: u64;
            ::core::arch::asm!(
                "adrp {address}, {symbol}",
                "add {address}, {address}, :lo12:{symbol}",
                address = out(reg) address,
                symbol = sym $symbol,
                options(pure, nomem, nostack, preserves_flags),
            );
            address
        };
        address
    }};
}

fn range(start: u64, end: u64) -> PhysicalRange {
    PhysicalRange { start, end }
}

/// The whole image in memory, from the first loaded byte to the end of .bss.
pub fn whole() -> PhysicalRange {
    range(symbol_address!(__image_start), symbol_address!(__image_end))
}

/// Machine code: read + execute.
pub fn text() -> PhysicalRange {
    range(symbol_address!(__text_start), symbol_address!(__text_end))
}

/// Constants, unwind tables, constructor tables, the TLS template: read only.
pub fn rodata() -> PhysicalRange {
    range(
        symbol_address!(__rodata_start),
        symbol_address!(__rodata_end),
    )
}

/// .data, .bss and the stacks after them: read + write.
pub fn data() -> PhysicalRange {
    range(symbol_address!(__data_start), symbol_address!(__image_end))
}

/// The pages left unmapped inside .bss: one under each stack.
pub fn guard_pages() -> [GuardPage; 3] {
    [
        GuardPage {
            start: symbol_address!(entry::unik_boot_stack_guard),
            stack: Stack::Boot,
        },
        GuardPage {
            start: symbol_address!(entry::unik_exception_stack_guard),
            stack: Stack::Exception,
        },
        GuardPage {
            start: symbol_address!(entry::unik_nested_exception_stack_guard),
            stack: Stack::NestedException,
        },
    ]
}

/// The kernel's stacks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// The stack `main` runs on (SP_EL0).
    Boot,
    /// SP_EL1: every exception taken from the program.
    Exception,
    /// An exception taken while handling one.
    NestedException,
}

/// An unmapped page under a stack.
pub struct GuardPage {
    pub start: u64,
    pub stack: Stack,
}

impl GuardPage {
    pub fn range(&self) -> PhysicalRange {
        range(self.start, self.start + PAGE_SIZE)
    }
}

/// The stack `main` runs on (between its guard page and its top).
pub fn boot_stack() -> PhysicalRange {
    range(
        symbol_address!(entry::unik_boot_stack_guard) + PAGE_SIZE,
        symbol_address!(entry::unik_boot_stack_top),
    )
}

/// The PT_TLS template: initialised bytes, total size in memory, alignment.
pub struct TlsTemplate {
    pub initialized: &'static [u8],
    pub memory_size: u64,
    pub alignment: u64,
}

pub fn tls_template() -> TlsTemplate {
    let start = symbol_address!(__tdata_start);
    let end = symbol_address!(__tdata_end);
    let length = usize::try_from(end - start).unwrap_or(0);
    // SAFETY: [__tdata_start, __tdata_end) is the .tdata output section, loaded with the
    // read-only segment and never written.
    let initialized = unsafe { core::slice::from_raw_parts(start as *const u8, length) };
    TlsTemplate {
        initialized,
        memory_size: (&raw const __tls_memory_size) as u64,
        alignment: ((&raw const __tls_alignment) as u64).max(1),
    }
}
