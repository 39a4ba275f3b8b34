//! ASLR, the x86_64 part (the arch-neutral part and the design: `crate::aslr`).
//!
//! Before any other Rust code, while the image runs at its link address under the
//! entry code's bootstrap tables: pick a random 2 MiB-aligned base in the lower half of
//! the address space, map the image's 2 MiB blocks there too (two more bootstrap
//! tables), write the RELATIVE relocations for that base, and continue at the new
//! addresses on the boot stack's new alias, moved down by a random amount. The final
//! page tables (paging.rs) map the image only at the new base.
//!
//! Entropy: the base is level-4 index 4..=255 (0 holds the identity map of RAM and
//! devices, 2 and 3 the threads' stacks) × level-3 index 0..=511 × level-2 index 0..=(512 − the image's 2 MiB
//! blocks): about 26 bits for a small image. Formats: Intel SDM vol. 3A 5.5.

use ::x86_64::registers::control::Cr3;

use super::{cpu, entry, image};
use crate::aslr::{self, BLOCK_SIZE, Disabled, Layout, TABLE_ENTRIES};

/// `R_X86_64_RELATIVE` (System V AMD64 psABI, "Relocation Types").
const RELATIVE_RELOCATION: u32 = 8;
/// The first usable level-4 index, and how many there are (up to the upper half):
/// above entry 0 (the identity map of RAM and devices) and entries 2 and 3 (the
/// threads' stacks, `threading::STACK_REGION`).
const FIRST_LEVEL_4_INDEX: u64 = 4;
const LEVEL_4_CHOICES: u64 = 252;
/// Table entry bits: present | writable, and | page size for a 2 MiB page.
const TABLE_POINTER: u64 = 0x3;
const LARGE_PAGE: u64 = 0x83;

/// Chooses the image's random base, maps the image there in the bootstrap tables and
/// relocates it; `Err` says why the image stays where it is.
///
/// # Safety
/// Called once, first thing in Rust, on the boot stack, with the entry code's bootstrap
/// tables active and the image at its link address (identity mapped, writable).
pub unsafe fn choose(command_line: &[u8]) -> Result<Layout, Disabled> {
    let placement = aslr::place(
        command_line,
        cpu::hardware_random,
        RELATIVE_RELOCATION,
        image::whole(),
    )?;
    let random = placement.base_random;
    let level_4_index = FIRST_LEVEL_4_INDEX + random % LEVEL_4_CHOICES;
    let rest = random / LEVEL_4_CHOICES;
    let level_3_index = rest % TABLE_ENTRIES;
    let level_2_index = (rest / TABLE_ENTRIES) % (TABLE_ENTRIES - placement.blocks + 1);
    let base = (level_4_index << 39) | (level_3_index << 30) | (level_2_index << 21);

    let level_4_address = Cr3::read().0.start_address().as_u64();
    // SAFETY: before relocation the image runs at its link address = its physical
    // address, so these symbols' addresses are the tables' physical addresses, which
    // is what table entries hold. The two tables are the entry code's, zeroed with
    // .bss and used by nothing else; the level-4 table is the active one, identity
    // mapped, and entry `level_4_index` is empty (the entry code fills only entry 0).
    // Entries that become present need no TLB flush (SDM 5.10.4.1).
    unsafe {
        let directory = crate::symbol_address!(entry::unik_boot_random_pd) as *mut u64;
        let pointer_table = crate::symbol_address!(entry::unik_boot_random_pdpt) as *mut u64;
        for block in 0..placement.blocks {
            directory
                .add((level_2_index + block) as usize)
                .write_volatile((placement.first_block + block * BLOCK_SIZE) | LARGE_PAGE);
        }
        pointer_table
            .add(level_3_index as usize)
            .write_volatile(directory as u64 | TABLE_POINTER);
        (level_4_address as *mut u64)
            .add(level_4_index as usize)
            .write_volatile(pointer_table as u64 | TABLE_POINTER);
    }
    // SAFETY: the image still runs at its link address, writable under the bootstrap
    // map, and is now mapped at `base` too; nothing else runs.
    Ok(unsafe { placement.finish(base) })
}

// The jump (`crate::aslr`, "The jump"): `unik_x86_64_aslr_enter(start_info address,
// offset, heap random bits, disabled reason or 0, offset, stack shift)` continues in
// `boot::boot(the first four)` at its new alias, on the boot stack's (`stack shift`
// below its top); RIP-relative `lea`s compute both addresses. Assembly without unwind
// information, so an unwinder (a Rust backtrace) stops at `boot`'s caller.
core::arch::global_asm!(
    ".pushsection .text.unik_aslr_enter, \"ax\", @progbits",
    ".globl unik_x86_64_aslr_enter",
    // A typed, sized function: backtraces name the frame that called `boot`.
    ".type unik_x86_64_aslr_enter, @function",
    "unik_x86_64_aslr_enter:",
    "lea rax, [rip + {continuation}]",
    "add rax, r8",
    "lea r10, [rip + unik_boot_stack_top]",
    "add r10, r8",
    "sub r10, r9",
    "and r10, -16",
    "mov rsp, r10",
    // A zero frame pointer ends every frame-pointer backtrace here, as in the entry
    // code; `call` leaves the stack as the ABI wants it at a function's entry.
    "xor ebp, ebp",
    "call rax",
    "ud2",
    ".size unik_x86_64_aslr_enter, . - unik_x86_64_aslr_enter",
    ".popsection",
    continuation = sym super::boot::boot,
);

unsafe extern "C" {
    fn unik_x86_64_aslr_enter(
        start_info: u64,
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
/// stack is dead.
pub unsafe fn enter(offset: u64, stack_shift: u64, arguments: [u64; 4]) -> ! {
    // SAFETY: the caller's contract: the target code and the stack exist at the new
    // addresses. A `jmp` to the symbol is PC-relative, so it reaches the trampoline
    // where it runs now (a call from compiled code may load the address from the GOT,
    // which the relocation has already moved).
    unsafe {
        core::arch::asm!(
            "jmp {trampoline}",
            trampoline = sym unik_x86_64_aslr_enter,
            in("rdi") arguments[0],
            in("rsi") arguments[1],
            in("rdx") arguments[2],
            in("rcx") arguments[3],
            in("r8") offset,
            in("r9") stack_shift,
            options(noreturn),
        )
    }
}
