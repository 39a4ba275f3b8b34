//! The unwinder: `_Unwind_RaiseException`, `_Unwind_Resume`, `_Unwind_Backtrace` and
//! the rest of the Itanium C++ ABI's level-1 interface (as libgcc_eh provides it on
//! Linux), from the `unwinding` crate. Rust std's `panic_unwind` and its backtraces
//! call them; `catch_unwind`, destructors during a panic and `RUST_BACKTRACE` all
//! depend on them.
//!
//! Where the unwind tables are: the image is one statically linked ELF whose linker
//! script brackets `.eh_frame_hdr` (`__eh_frame_hdr_start`/`__eh_frame_hdr_end`,
//! sysroot/link/<target>.ld); the link of a Rust program passes `--eh-frame-hdr`, so
//! LLD writes the binary-search table there (LSB 5.0, "eh_frame_hdr"). The crate's
//! `fde-custom` finder is pointed at it by this component's init function, which the
//! program start runs before `main` whenever the component is linked.
#![cfg(not(test))]

use unwinding::custom_eh_frame_finder::{
    EhFrameFinder, FrameInfo, FrameInfoKind, set_custom_eh_frame_finder,
};

unsafe extern "C" {
    static __eh_frame_hdr_start: u8;
    static __eh_frame_hdr_end: u8;
}

/// The image's own `.eh_frame_hdr`.
struct ImageUnwindTables;

// SAFETY: `find` returns the address of this image's `.eh_frame_hdr`, which the linker
// wrote (with --eh-frame-hdr) and which stays mapped read-only for the whole run; an
// empty section (no --eh-frame-hdr) gives None, so nothing is parsed that is not there.
unsafe impl EhFrameFinder for ImageUnwindTables {
    fn find(&self, _pc: usize) -> Option<FrameInfo> {
        let start = unik_kernel::symbol_address!(__eh_frame_hdr_start) as usize;
        let end = unik_kernel::symbol_address!(__eh_frame_hdr_end) as usize;
        // version 1 + three encoding bytes + eh_frame_ptr at least (LSB 5.0).
        if end < start + 8 {
            return None;
        }
        Some(FrameInfo {
            // DW_EH_PE_textrel is not used by LLD's or rustc's tables.
            text_base: None,
            kind: FrameInfoKind::EhFrameHdr(start),
        })
    }
}

static TABLES: ImageUnwindTables = ImageUnwindTables;

/// The `unwind` component's init function.
#[unsafe(no_mangle)]
extern "C" fn __unik_init_unwind() {
    // Only the first call can set it; the init table runs each init once.
    let _ = set_custom_eh_frame_finder(&TABLES);
}

/// Keeps the crate's `_Unwind_*` exports in the archive (nothing in the runtime calls
/// them).
pub use unwinding::abi as level_one;
