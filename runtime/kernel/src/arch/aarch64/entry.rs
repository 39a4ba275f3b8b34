//! The machine code that runs before Rust can: the ELF entry point, the drop from EL2
//! to EL1, FP/SIMD access, `.bss`, the bootstrap identity map with the MMU and caches
//! on, the stacks, and the exception vector table. Plus the memory they use (bootstrap
//! translation table, stacks), reserved in `.bss`.
//!
//! Specs: Arm ARM (DDI 0487) D1.3 "Exception levels", D8 "The AArch64 Virtual Memory
//! System Architecture" (translation table formats, TCR_EL1, MAIR_EL1), D1.10
//! "Exception entry" and the vector table layout (VBAR_EL1 + 0x000/0x200/0x400/0x600),
//! D19 register descriptions (HCR_EL2, CPTR_EL2, CNTHCTL_EL2, CPACR_EL1, SCTLR_EL1).
//!
//! Entry state (QEMU `virt`, ELF image given with `-kernel`): the CPU starts at the
//! ELF entry point at EL1, or at EL2 with `-M virt,virtualization=on`; MMU and caches
//! off, interrupts masked. QEMU 10 does not put the device tree address in x0 for an
//! ELF image that is not a Linux kernel (hw/arm/boot.c only sets up the Linux boot
//! registers for Linux images); it places the blob at the start of RAM instead. x0 is
//! still handed to Rust: a loader that follows the Linux arm64 boot protocol passes
//! the address there, and boot.rs checks it before falling back to the start of RAM.

use crate::memory::PAGE_SIZE;

/// The bootstrap map covers the first 4 GiB in level 1 blocks of 1 GiB: the GiB that
/// holds the image is normal memory, the others device memory (UARTs, GIC, and on the
/// Raspberry Pi 4 the peripherals at 0xfc000000-0xffffffff). QEMU `virt`: RAM starts
/// at 1 GiB and the image is linked at 0x40200000; Raspberry Pi 4: RAM starts at 0 and
/// the image at 0x81000. Everything the boot path touches before the final tables
/// (image, device tree, the early allocator's page tables) must lie inside the image's
/// GiB: [`bootstrap_normal`].
pub const BOOTSTRAP_BLOCK_SIZE: u64 = 1 << 30;
const BOOTSTRAP_BLOCKS: u64 = 4;

/// The normal-memory GiB of the bootstrap map: the one the image is (physically) in.
pub fn bootstrap_normal() -> crate::memory::PhysicalRange {
    // Before the move (aslr.rs) the offset is 0 and the image runs where it lies.
    let image_start = super::image::whole().start - crate::aslr::image_offset();
    let start = image_start & !(BOOTSTRAP_BLOCK_SIZE - 1);
    crate::memory::PhysicalRange {
        start,
        end: start + BOOTSTRAP_BLOCK_SIZE,
    }
}

/// The stack `main` runs on (SP_EL0). C programs put big arrays on the stack; Linux
/// gives 8 MiB, we give 2 MiB of .bss (it costs no bytes in the image). A guard page
/// sits below it.
pub const BOOT_STACK_SIZE: u64 = 2 * 1024 * 1024;
/// The stack every exception handler starts on (SP_EL1): separate from the program's,
/// so that an overflow of the program's stack into its guard page still gets a report.
pub const EXCEPTION_STACK_SIZE: u64 = 32 * 1024;
/// The stack of an exception taken while handling one (the x86_64 double-fault stack's
/// counterpart): the vector resets SP to its top, since SP_EL1 itself may be bad.
pub const NESTED_EXCEPTION_STACK_SIZE: u64 = 16 * 1024;

/// Bytes the vector code saves on the exception stack: an `ExceptionFrame`.
pub const EXCEPTION_FRAME_SIZE: u64 = 36 * 8;

// MAIR_EL1 attribute indexes (Arm ARM D19.2 MAIR_EL1): 0 = Device-nGnRnE, 1 = Normal
// memory, inner and outer write-back, read- and write-allocate, non-transient.
pub const MEMORY_ATTRIBUTES: u64 = 0xff << 8;
pub const ATTRIBUTE_INDEX_DEVICE: u64 = 0;
pub const ATTRIBUTE_INDEX_NORMAL: u64 = 1;

/// TCR_EL1 (Arm ARM D19.2): T0SZ = 25 (39-bit virtual addresses, so translation starts
/// at level 1 with 4 KiB pages: 512 GiB, more than QEMU `virt`'s RAM and devices),
/// IRGN0 = ORGN0 = write-back write-allocate, SH0 = inner shareable, TG0 = 4 KiB,
/// EPD1 = no walks through TTBR1 (the kernel uses only the lower half). IPS is filled
/// in from ID_AA64MMFR0_EL1.PARange by the entry code.
pub const TRANSLATION_CONTROL: u64 = 25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23);

// SCTLR_EL1 bits (Arm ARM D19.2 SCTLR_EL1).
pub const SCTLR_MMU: u64 = 1 << 0;
pub const SCTLR_ALIGNMENT_CHECK: u64 = 1 << 1;
pub const SCTLR_DATA_CACHE: u64 = 1 << 2;
pub const SCTLR_STACK_ALIGNMENT_CHECK: u64 = 1 << 3;
pub const SCTLR_INSTRUCTION_CACHE: u64 = 1 << 12;
pub const SCTLR_WRITE_EXECUTE_NEVER: u64 = 1 << 19;
/// The bits that are RES1 in ARMv8.0 (11, 20, 22, 23, 28, 29): later extensions give
/// them meanings whose value 1 is the ARMv8.0 behaviour.
const SCTLR_RESERVED_ONES: u64 = 0x30d0_0800;

// Bootstrap block descriptors (Arm ARM D8.3 "Translation table descriptor formats"):
// level 1 blocks of 1 GiB, the output address ORed in by the entry code. Bits: 0 valid,
// 1 = 0 block, [4:2] attribute index, [9:8] shareability, 10 access flag, 53 PXN, 54 UXN.
/// Device memory (UART, GIC), never executable.
const BOOTSTRAP_DEVICE_BLOCK: u64 = 0x1 | (ATTRIBUTE_INDEX_DEVICE << 2) | (1 << 10) | (3 << 53);
/// The image's GiB: normal memory, read-write-execute for EL1 (replaced by the final
/// tables, which split it by section), not accessible at EL0. Also the attributes of
/// the image's randomized bootstrap blocks (aslr.rs).
pub const BOOTSTRAP_NORMAL_BLOCK: u64 =
    0x1 | (ATTRIBUTE_INDEX_NORMAL << 2) | (3 << 8) | (1 << 10) | (1 << 54);

unsafe extern "C" {
    /// Unmapped page under the boot stack.
    pub static unik_boot_stack_guard: u8;
    pub static unik_boot_stack_top: u8;
    /// Unmapped page under the exception stack (its top is only used by the assembly).
    pub static unik_exception_stack_guard: u8;
    /// Unmapped page under the nested-exception stack.
    pub static unik_nested_exception_stack_guard: u8;
    /// Bootstrap level 2 table for the image's randomized mapping (aslr.rs).
    pub static mut unik_boot_random_level_2_table: [u64; 512];
}

// The entry point.
core::arch::global_asm!(
    r#"
    .pushsection .bss.unik_boot_translation_table, "aw", %nobits
    .p2align 12
unik_boot_level_1_table:
    .skip 4096
    /* The image's randomized bootstrap mapping (aslr.rs): one level 2 table. */
    .globl unik_boot_random_level_2_table
unik_boot_random_level_2_table:
    .skip 4096
    .popsection

    .pushsection .unik_stacks, "aw", %nobits
    .p2align 12
    .globl unik_boot_stack_guard
unik_boot_stack_guard:
    .skip {page_size}
    .skip {boot_stack_size}
    .globl unik_boot_stack_top
unik_boot_stack_top:
    .globl unik_exception_stack_guard
unik_exception_stack_guard:
    .skip {page_size}
    .skip {exception_stack_size}
    .globl unik_exception_stack_top
unik_exception_stack_top:
    .globl unik_nested_exception_stack_guard
unik_nested_exception_stack_guard:
    .skip {page_size}
    .skip {nested_exception_stack_size}
    .globl unik_nested_exception_stack_top
unik_nested_exception_stack_top:
    .popsection

    .pushsection .text.unik_boot, "ax", %progbits
    .globl unik_aarch64_entry
    .type unik_aarch64_entry, %function
unik_aarch64_entry:
    /* x19 keeps x0 (a device tree address under the Linux boot protocol) for Rust. */
    mov x19, x0
    msr daifset, #0xf
    mrs x0, CurrentEL
    ubfx x0, x0, #2, #2
    mov x20, x0                 /* the entry exception level, for the boot log */
    cmp x0, #1
    b.eq 3f
    cmp x0, #2
    b.ne unik_aarch64_park      /* EL3 (secure firmware boot): not supported */

    /* EL2: run the kernel at EL1 with nothing trapped to EL2.
       HCR_EL2: RW (bit 31) = EL1 is AArch64; no stage 2, no traps. */
    mov x0, #(1 << 31)
    msr hcr_el2, x0
    isb
    mrs x0, hcr_el2
    tbnz x0, #34, 1f            /* E2H stuck at 1 (no FEAT_E2H0): VHE register layouts */
    /* CPTR_EL2 (E2H = 0): TFP (bit 10) = 0, FP/SIMD not trapped; RES1 bits 13:12, 9:0. */
    mov x1, #0x33ff
    msr cptr_el2, x1
    /* CNTHCTL_EL2 (E2H = 0): EL1PCTEN | EL1PCEN, EL1 may use the physical counter and timer. */
    mrs x1, cnthctl_el2
    orr x1, x1, #3
    msr cnthctl_el2, x1
    b 2f
1:
    /* CPTR_EL2 (E2H = 1): FPEN (bits 21:20) = 0b11. CNTHCTL_EL2 (E2H = 1): EL1PCTEN
       (bit 10) | EL1PTEN (bit 11). */
    mov x1, #(3 << 20)
    msr cptr_el2, x1
    mrs x1, cnthctl_el2
    orr x1, x1, #(3 << 10)
    msr cnthctl_el2, x1
2:
    msr cntvoff_el2, xzr
    /* EL1 reads of MIDR/MPIDR return these: the real values. */
    mrs x1, midr_el1
    msr vpidr_el2, x1
    mrs x1, mpidr_el1
    msr vmpidr_el2, x1
    ldr x1, ={sctlr_reserved_ones}
    msr sctlr_el1, x1
    /* SPSR_EL2: D, A, I, F masked, AArch64 EL1 with SP_EL1 (EL1h). */
    mov x1, #0x3c5
    msr spsr_el2, x1
    adr x1, 3f
    msr elr_el2, x1
    eret

3:  /* EL1. FP/SIMD first: Rust and C code use the vector registers anywhere.
       CPACR_EL1.FPEN (bits 21:20) = 0b11: no trap at EL1 or EL0. */
    mov x0, #(3 << 20)
    msr cpacr_el1, x0
    isb

    adrp x0, unik_exception_vectors
    add x0, x0, :lo12:unik_exception_vectors
    msr vbar_el1, x0
    /* SP_EL1 (the current SP) = the exception stack, before anything can fault: an
       exception from here on lands on a usable stack. */
    adrp x0, unik_exception_stack_top
    add x0, x0, :lo12:unik_exception_stack_top
    mov sp, x0

    /* Zero .bss (QEMU's ELF loader does, another loader may not): the bootstrap table
       and the stacks are in it. Both ends are page aligned (linker script). */
    adrp x0, __bss_start
    add x0, x0, :lo12:__bss_start
    adrp x1, __bss_end
    add x1, x1, :lo12:__bss_end
4:
    cmp x0, x1
    b.hs 5f
    stp xzr, xzr, [x0], #16
    b 4b
5:
    /* Bootstrap identity map: level 1 blocks over the first 4 GiB, device memory but
       for the GiB that holds the image, normal memory. With the MMU off every data
       access is Device memory, where unaligned accesses fault; compiled code assumes
       normal memory, so the MMU goes on before Rust. */
    adrp x0, unik_boot_level_1_table
    add x0, x0, :lo12:unik_boot_level_1_table
    ldr x1, ={bootstrap_device_block}
    mov x2, xzr
6:
    orr x3, x1, x2, lsl #30
    str x3, [x0, x2, lsl #3]
    add x2, x2, #1
    cmp x2, #{bootstrap_blocks}
    b.lo 6b
    adr x2, unik_aarch64_entry
    lsr x2, x2, #30
    ldr x1, ={bootstrap_normal_block}
    orr x1, x1, x2, lsl #30
    str x1, [x0, x2, lsl #3]

    ldr x1, ={memory_attributes}
    msr mair_el1, x1
    /* TCR_EL1.IPS (bits 34:32) = the CPU's physical address size, at most 48 bits
       (52-bit output addresses would need TCR_EL1.DS with 4 KiB pages). */
    ldr x1, ={translation_control}
    mrs x2, id_aa64mmfr0_el1
    and x2, x2, #0xf
    cmp x2, #5
    mov x3, #5
    csel x2, x2, x3, ls
    bfi x1, x2, #32, #3
    msr tcr_el1, x1
    msr ttbr0_el1, x0
    /* The table writes (made with the MMU off, so uncached) reach memory before the
       walker reads them; stale TLB entries from before are dropped. QEMU's TCG does
       not model caches; on hardware the image would also need cleaning to the PoC. */
    dsb sy
    tlbi vmalle1
    dsb nsh
    isb
    mrs x0, sctlr_el1
    ldr x1, ={sctlr_on}
    orr x0, x0, x1
    bic x0, x0, #{sctlr_alignment_check}
    msr sctlr_el1, x0
    isb

    /* Stacks: exceptions run on SP_EL1 (set above), everything else on SP_EL0
       (SPSel = 0), so an overflow of the program's stack does not take the exception
       handler down too. */
    msr spsel, #0
    adrp x0, unik_boot_stack_top
    add x0, x0, :lo12:unik_boot_stack_top
    mov sp, x0
    /* SError (asynchronous aborts) reported from now on; IRQ and FIQ stay masked. */
    msr daifclr, #4

    /* A zero frame pointer and link register end every backtrace here. */
    mov x29, xzr
    mov x30, xzr
    mov x0, x19
    mov x1, x20
    bl unik_aarch64_boot

    /* Local: only the entry code branches here. */
unik_aarch64_park:
    msr daifset, #0xf
    wfe
    b unik_aarch64_park
    .ltorg
    .size unik_aarch64_entry, . - unik_aarch64_entry
    .popsection
"#,
    page_size = const PAGE_SIZE,
    boot_stack_size = const BOOT_STACK_SIZE,
    exception_stack_size = const EXCEPTION_STACK_SIZE,
    nested_exception_stack_size = const NESTED_EXCEPTION_STACK_SIZE,
    sctlr_reserved_ones = const SCTLR_RESERVED_ONES,
    bootstrap_device_block = const BOOTSTRAP_DEVICE_BLOCK,
    bootstrap_normal_block = const BOOTSTRAP_NORMAL_BLOCK,
    bootstrap_blocks = const BOOTSTRAP_BLOCKS,
    memory_attributes = const MEMORY_ATTRIBUTES,
    translation_control = const TRANSLATION_CONTROL,
    sctlr_on = const SCTLR_MMU | SCTLR_DATA_CACHE | SCTLR_INSTRUCTION_CACHE | SCTLR_STACK_ALIGNMENT_CHECK,
    sctlr_alignment_check = const SCTLR_ALIGNMENT_CHECK,
);

// The exception vector table (Arm ARM D1.10.2, table "Vector offsets from vector table
// base address"): 16 entries of 0x80 bytes, 2 KiB aligned, in four groups: current EL
// with SP_EL0, current EL with SP_ELx, lower EL AArch64, lower EL AArch32; each with
// synchronous, IRQ, FIQ and SError entries.
//
// Normal code runs at EL1 on SP_EL0, so every expected exception arrives in the first
// group, on SP_EL1 (the exception stack). The second group means an exception inside
// the handler (or an exception stack overflow): its entries first reset SP to the
// nested-exception stack, because SP_EL1 may be the problem. Each entry saves x0 and
// x1, puts its index (0-15) in x1 and jumps to the common part, which completes an
// `ExceptionFrame` and calls Rust. If Rust returns (only for the semihosting probe in
// exit.rs), the registers are restored and `eret` resumes the interrupted code.
core::arch::global_asm!(
    r#"
    .macro unik_vector index
    .balign 0x80
    sub sp, sp, #{frame_size}
    stp x0, x1, [sp]
    mov x1, #\index
    b unik_exception_common
    .endm

    .macro unik_nested_vector index
    .balign 0x80
    msr tpidr_el1, x0
    adrp x0, unik_nested_exception_stack_top
    add x0, x0, :lo12:unik_nested_exception_stack_top
    mov sp, x0
    mrs x0, tpidr_el1
    sub sp, sp, #{frame_size}
    stp x0, x1, [sp]
    mov x1, #\index
    b unik_exception_common
    .endm

    .pushsection .text.unik_exception_vectors, "ax", %progbits
    .balign 0x800
    .globl unik_exception_vectors
unik_exception_vectors:
    unik_vector 0
    /* IRQ from normal code: the scheduler's entry (threading.rs), which saves the
       interrupted state on the thread's own stack. */
    .balign 0x80
    b unik_aarch64_irq_entry
    unik_vector 2
    unik_vector 3
    unik_nested_vector 4
    unik_nested_vector 5
    unik_nested_vector 6
    unik_nested_vector 7
    unik_vector 8
    unik_vector 9
    unik_vector 10
    unik_vector 11
    unik_vector 12
    unik_vector 13
    unik_vector 14
    unik_vector 15

unik_exception_common:
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x2, sp_el0
    stp x30, x2, [sp, #240]
    mrs x2, elr_el1
    mrs x3, spsr_el1
    stp x2, x3, [sp, #256]
    mrs x2, esr_el1
    mrs x3, far_el1
    stp x2, x3, [sp, #272]
    mov x0, sp
    bl unik_aarch64_exception
    ldp x2, x3, [sp, #256]
    msr elr_el1, x2
    msr spsr_el1, x3
    ldp x0, x1, [sp]
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    ldr x30, [sp, #240]
    add sp, sp, #{frame_size}
    eret
    .popsection
"#,
    frame_size = const EXCEPTION_FRAME_SIZE,
);
