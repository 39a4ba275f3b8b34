//! ASLR, the aarch64 part (the arch-neutral part and the design: `crate::aslr`).
//!
//! Before any other Rust code, while the image runs at its link address under the
//! entry code's bootstrap map (MMU on, 39-bit addresses): pick a random 2 MiB-aligned
//! base, map the image's 2 MiB blocks there too (one more level 2 table), write the
//! RELATIVE relocations for that base, and continue at the new addresses: vector table
//! (VBAR_EL1), exception stack (SP_EL1) and boot stack (SP_EL0, moved down by a random
//! amount) all on their new aliases. The final tables (paging.rs) map the image only
//! at the new base.
//!
//! Entropy: the base is level 1 index 4..=255 (0-3 hold the bootstrap map of the
//! devices and RAM, 256..=511 the threads' stacks, `threading::STACK_REGION`) × level 2
//! index 0..=(512 − the image's 2 MiB blocks): about 17 bits for a small image.
//! Formats: Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats".

use super::entry::{self, BOOTSTRAP_NORMAL_BLOCK};
use super::{cpu, image};
use crate::aslr::{self, BLOCK_SIZE, Disabled, Layout, TABLE_ENTRIES};

/// `R_AARCH64_RELATIVE` (ELF for the Arm 64-bit Architecture, "Dynamic relocations").
const RELATIVE_RELOCATION: u32 = 1027;
/// Level 1 indexes 4..=255: above the bootstrap map's first 4 GiB (entry.rs) and below
/// the threads' stacks (`threading::STACK_REGION`, 256 GiB up).
const FIRST_LEVEL_1_INDEX: u64 = 4;
const LEVEL_1_CHOICES: u64 = 252;
/// Descriptor bits 1:0 = 0b11: a table (at levels 0-2).
const TABLE_DESCRIPTOR: u64 = 0x3;

/// Chooses the image's random base, maps the image there in the bootstrap map and
/// relocates it; `Err` says why the image stays where it is.
///
/// # Safety
/// Called once, first thing in Rust, on the boot stack, with the entry code's bootstrap
/// map active and the image at its link address (mapped read-write-execute).
pub unsafe fn choose(command_line: &[u8]) -> Result<Layout, Disabled> {
    let placement = aslr::place(
        command_line,
        cpu::hardware_random,
        RELATIVE_RELOCATION,
        image::whole(),
    )?;
    let random = placement.base_random;
    let level_1_index = FIRST_LEVEL_1_INDEX + random % LEVEL_1_CHOICES;
    let level_2_index = (random / LEVEL_1_CHOICES) % (TABLE_ENTRIES - placement.blocks + 1);
    let base = (level_1_index << 30) | (level_2_index << 21);

    let level_1_address: u64;
    // SAFETY: reading TTBR0_EL1 has no side effect.
    unsafe {
        core::arch::asm!("mrs {}, ttbr0_el1", out(reg) level_1_address, options(nomem, nostack));
    }
    let level_1_address = level_1_address & 0x0000_ffff_ffff_f000;
    // SAFETY: before relocation the image runs at its link address = its physical
    // address, so the symbol's address is the table's physical address, which is what a
    // table descriptor holds. The table is the entry code's, zeroed with .bss and used
    // by nothing else; the level 1 table is the active one (identity mapped) and entry
    // `level_1_index` is invalid (the entry code fills entries 0 and 1). Invalid
    // entries are never cached in TLBs, so making them valid needs only the barriers.
    unsafe {
        let table = crate::symbol_address!(entry::unik_boot_random_level_2_table) as *mut u64;
        for block in 0..placement.blocks {
            table.add((level_2_index + block) as usize).write_volatile(
                (placement.first_block + block * BLOCK_SIZE) | BOOTSTRAP_NORMAL_BLOCK,
            );
        }
        (level_1_address as *mut u64)
            .add(level_1_index as usize)
            .write_volatile(table as u64 | TABLE_DESCRIPTOR);
        core::arch::asm!("dsb ishst", "isb", options(nostack));
    }
    // SAFETY: the image still runs at its link address, writable under the bootstrap
    // map, and is now mapped at `base` too; nothing else runs.
    Ok(unsafe { placement.finish(base) })
}

// The jump (`crate::aslr`, "The jump"): `unik_aarch64_aslr_enter(x0 at entry, entry
// level, offset, heap random bits, disabled reason or 0, offset, stack shift)`
// continues in `boot::boot(the first five)` at its new alias, with VBAR_EL1, SP_EL1
// and SP_EL0 (`stack shift` below the boot stack's top) moved too; `adrp`/`add`
// compute every address. Assembly without unwind information, so an unwinder (a Rust
// backtrace) stops at `boot`'s caller. Interrupts are masked (entry code); an
// exception between the stack switches lands on the new exception stack.
core::arch::global_asm!(
    ".pushsection .text.unik_aslr_enter, \"ax\", %progbits",
    ".globl unik_aarch64_aslr_enter",
    // A typed, sized function: backtraces name the frame that called `boot`.
    ".type unik_aarch64_aslr_enter, %function",
    "unik_aarch64_aslr_enter:",
    "adrp x9, unik_exception_vectors",
    "add x9, x9, :lo12:unik_exception_vectors",
    "add x9, x9, x5",
    "msr vbar_el1, x9",
    "isb",
    "msr spsel, #1",
    "adrp x9, unik_exception_stack_top",
    "add x9, x9, :lo12:unik_exception_stack_top",
    "add x9, x9, x5",
    "mov sp, x9",
    "msr spsel, #0",
    "adrp x9, unik_boot_stack_top",
    "add x9, x9, :lo12:unik_boot_stack_top",
    "add x9, x9, x5",
    "sub x9, x9, x6",
    "and x9, x9, #~15",
    "mov sp, x9",
    "adrp x9, {continuation}",
    "add x9, x9, :lo12:{continuation}",
    "add x9, x9, x5",
    // Zero frame pointer and link register end every frame-record backtrace here.
    "mov x29, xzr",
    "mov x30, xzr",
    "blr x9",
    "brk #0",
    ".size unik_aarch64_aslr_enter, . - unik_aarch64_aslr_enter",
    ".popsection",
    continuation = sym super::boot::boot,
);

unsafe extern "C" {
    fn unik_aarch64_aslr_enter(
        entry_register: u64,
        entry_level: u64,
        offset_argument: u64,
        heap_random: u64,
        disabled: u64,
        offset: u64,
        stack_shift: u64,
    ) -> !;
}

/// Continues the boot at the image's new addresses (the jump above).
///
/// # Safety
/// The image is mapped and relocated at `offset` (or `offset` is 0); the current
/// stacks are dead.
pub unsafe fn enter(offset: u64, stack_shift: u64, arguments: [u64; 5]) -> ! {
    // SAFETY: the caller's contract: the code, vectors and stacks exist at the new
    // addresses. The call is PC-relative, so it reaches the trampoline where it runs.
    unsafe {
        unik_aarch64_aslr_enter(
            arguments[0],
            arguments[1],
            arguments[2],
            arguments[3],
            arguments[4],
            offset,
            stack_shift,
        )
    }
}
