//! The machine code that runs before Rust can: the PVH entry note, the Multiboot2
//! header, the two 32-bit entries (one shared path after the first instructions), the
//! switch to long mode, and the exception entry stubs. Plus the memory they use (boot
//! page tables, stacks), reserved in `.bss`.
//!
//! Specs: Xen `docs/misc/pvh.pandoc` (PVH boot ABI), Xen `public/elfnote.h`
//! (XEN_ELFNOTE_PHYS32_ENTRY), the Multiboot2 specification 2.0 (3.1 "OS image
//! format", 3.3 "I386 machine state"), Intel SDM vol. 3A 10.8.5 "Initializing IA-32e Mode",
//! vol. 1 13.3 "Enabling the XSAVE Feature Set", vol. 3A 7.12 "Exception and Interrupt
//! Handling in 64-bit Mode".

use crate::memory::PAGE_SIZE;

/// End of the bootstrap identity map the entry code builds (the first GiB): until the
/// final page tables are active, only memory below this is accessible.
pub const BOOTSTRAP_MAP_END: u64 = 1 << 30;

/// The stack `main` runs on. C programs put big arrays on the stack; Linux gives 8 MiB,
/// we give 2 MiB of .bss (it costs no bytes in the image). A guard page sits below it.
pub const BOOT_STACK_SIZE: u64 = 2 * 1024 * 1024;
/// The stack every exception handler runs on (IST 1), so a fault never uses the
/// interrupted stack (the Linux x86_64 ABI's red zone, a blown stack).
pub const EXCEPTION_STACK_SIZE: u64 = 32 * 1024;
/// The double-fault handler's own stack (IST 2).
pub const DOUBLE_FAULT_STACK_SIZE: u64 = 16 * 1024;

unsafe extern "C" {
    /// Unmapped page under the boot stack.
    pub static unik_boot_stack_guard: u8;
    pub static unik_boot_stack_top: u8;
    /// Unmapped page under the exception stack.
    pub static unik_exception_stack_guard: u8;
    pub static unik_exception_stack_top: u8;
    /// Unmapped page under the double-fault stack.
    pub static unik_double_fault_stack_guard: u8;
    pub static unik_double_fault_stack_top: u8;
    /// 32 addresses: the entry stub of each exception vector.
    pub static unik_exception_stub_table: [u64; 32];
    /// The bootstrap level-3 table: its first entry maps the first GiB (2 MiB pages).
    pub static unik_boot_pdpt: [u64; 512];
    /// Bootstrap tables for the image's randomized mapping (aslr.rs).
    pub static mut unik_boot_random_pdpt: [u64; 512];
    pub static mut unik_boot_random_pd: [u64; 512];
}

// The PVH entry note, the Multiboot2 header and the 32-bit entries.
//
// Entry state, both protocols (pvh.pandoc; Multiboot2 3.3): 32-bit protected mode,
// paging off, flat segments, %ebx = physical address of the boot information
// (hvm_start_info / the Multiboot2 information structure), interrupts off, no usable
// stack. Multiboot2 also has %eax = 0x36d76289; PVH leaves %eax undefined, so the PVH
// entry puts the start_info magic in its place. The magic travels in %ebp (which
// nothing on the way touches) to `unik_x86_64_boot`, which reads the information that
// way.
core::arch::global_asm!(
    r#"
    /* Multiboot2 header (3.1.1): 8-byte aligned within the first 32 KiB of the file
       (the linker script puts its section first). GRUB loads the PT_LOAD segments at
       their physical addresses (no address tag: the ELF headers say where) and jumps
       to the entry address tag's address in 32-bit protected mode. */
    .pushsection .multiboot2, "a", @progbits
    .p2align 3
unik_multiboot2_header:
    .long {multiboot2_header_magic}
    .long 0                 /* architecture: i386 (32-bit protected mode) */
    .long unik_multiboot2_header_end - unik_multiboot2_header
    .long 0x100000000 - ({multiboot2_header_magic} + (unik_multiboot2_header_end - unik_multiboot2_header))
    /* Entry address tag (type 3): the 32-bit entry below, not the ELF's PVH-era e_entry. */
    .word 3, 0
    .long 12
    .long unik_multiboot2_entry_physical   /* linker script: absolute */
    .p2align 3
    /* Framebuffer tag (type 5, 3.1.10), optional (flags bit 0): width, height, depth 0
       = no preference. GRUB then hands over the screen it set up (EGA text, or a linear
       RGB framebuffer under UEFI) in a framebuffer info tag. */
    .word 5, 1
    .long 20
    .long 0, 0, 0
    .p2align 3
    /* End tag. */
    .word 0, 0
    .long 8
unik_multiboot2_header_end:
    .popsection

    .pushsection .note.Xen, "a", @note
    .p2align 2
    .long 4                 /* namesz: "Xen\0" */
    .long 4                 /* descsz: a 32-bit physical address */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long unik_pvh_entry_physical   /* linker script: the entry's link address, absolute */
    .popsection

    .pushsection .bss.unik_boot_page_tables, "aw", @nobits
    .p2align 12
unik_boot_pml4:
    .skip 4096
    /* Global: the ACPI reader borrows its identity map of the first GiB again
       (paging.rs `with_bootstrap_identity_map`). */
    .globl unik_boot_pdpt
unik_boot_pdpt:
    .skip 4096
unik_boot_pd:
    .skip 4096
    /* The image's randomized bootstrap mapping (aslr.rs): one PDPT and one PD. */
    .globl unik_boot_random_pdpt
unik_boot_random_pdpt:
    .skip 4096
    .globl unik_boot_random_pd
unik_boot_random_pd:
    .skip 4096
    .popsection

    .pushsection .unik_stacks, "aw", @nobits
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
    .globl unik_double_fault_stack_guard
unik_double_fault_stack_guard:
    .skip {page_size}
    .skip {double_fault_stack_size}
    .globl unik_double_fault_stack_top
unik_double_fault_stack_top:
    .popsection

    /* Flat GDT for the switch: null, 64-bit code (0x08), data (0x10). The kernel loads
       its final GDT (with the TSS) from Rust. */
    .pushsection .rodata.unik_boot_gdt, "a", @progbits
    .p2align 3
unik_boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* present, ring 0, code, execute/read, L=1 */
    .quad 0x00cf92000000ffff    /* present, ring 0, data, read/write */
unik_boot_gdt_end:
    .popsection

    .pushsection .text.unik_boot, "ax", @progbits
    .code32
    .globl unik_multiboot2_entry
    .type unik_multiboot2_entry, @function
unik_multiboot2_entry:
    /* %eax holds the bootloader magic (0x36d76289): Rust checks it. */
    movl %eax, %ebp
    jmp unik_entry_32
    .size unik_multiboot2_entry, . - unik_multiboot2_entry

    .globl unik_pvh_entry
    .type unik_pvh_entry, @function
unik_pvh_entry:
    movl ${pvh_start_info_magic}, %ebp
unik_entry_32:
    cli
    cld
    /* Position independent: the loader puts the image at its link address, but no
       code before the relocation (aslr.rs) may depend on that. The run address comes
       from a call; with no stack at entry (pvh.pandoc, Multiboot2), the first word of
       the boot information serves as one, saved and put back. The loader magic waits
       in %edx until the boot stack holds it. Keep the information's address in %esi:
       the code below clobbers %ebx (cpuid). */
    movl %ebp, %edx
    movl (%ebx), %eax
    leal 4(%ebx), %esp
    call 0f
0:
    popl %ebp                 /* %ebp = the run address of 0b */
    movl %eax, (%ebx)
    movl %ebx, %esi

    /* Zero .bss (the loader may not have): the boot page tables and stacks are in it. */
    leal (__bss_start - 0b)(%ebp), %edi
    leal (__bss_end - 0b)(%ebp), %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    leal (unik_boot_stack_top - 0b)(%ebp), %esp
    pushl %edx                /* the loader magic, read back before the call below */

    /* Bootstrap page tables: identity map of the first GiB with 2 MiB pages, enough for
       the image, the boot data after it and the PVH structures. Rust adds the image's
       randomized mapping (aslr.rs) and then replaces them. */
    leal (unik_boot_pdpt + 0x3 - 0b)(%ebp), %eax      /* present | writable */
    movl %eax, (unik_boot_pml4 - 0b)(%ebp)
    leal (unik_boot_pd + 0x3 - 0b)(%ebp), %eax
    movl %eax, (unik_boot_pdpt - 0b)(%ebp)
    leal (unik_boot_pd - 0b)(%ebp), %edi
    movl $0x83, %eax                      /* present | writable | page size (2 MiB) */
    movl $512, %ecx
1:
    movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    decl %ecx
    jnz 1b

    /* CR4.PAE (bit 5), then the tables. */
    movl %cr4, %eax
    orl $(1 << 5), %eax
    movl %eax, %cr4
    leal (unik_boot_pml4 - 0b)(%ebp), %eax
    movl %eax, %cr3

    /* EFER (MSR 0xc0000080): LME (bit 8), and NXE (bit 11) when CPUID 0x80000001
       EDX bit 20 says the CPU has execute-disable (setting it otherwise faults). */
    xorl %edi, %edi
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb 2f
    movl $0x80000001, %eax
    cpuid
    btl $20, %edx
    jnc 2f
    movl $(1 << 11), %edi
2:
    movl $0xc0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    orl %edi, %eax
    wrmsr

    /* CR0: PG (31) | WP (16) | MP (1) | PE (0); EM (2) off so SSE instructions run. */
    movl %cr0, %eax
    orl $0x80010003, %eax
    andl $~(1 << 2), %eax
    movl %eax, %cr0

    /* The GDT pointer (16-bit limit, 32-bit base) built on the stack, from the run
       address; then a far return into 64-bit code (lret pops EIP, then CS). */
    leal (unik_boot_gdt - 0b)(%ebp), %eax
    pushl %eax
    pushw $(unik_boot_gdt_end - unik_boot_gdt - 1)
    lgdt (%esp)
    addl $6, %esp
    leal (unik_long_mode_entry - 0b)(%ebp), %eax
    pushl $0x08
    pushl %eax
    lret

    .code64
unik_long_mode_entry:
    movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorl %eax, %eax
    movw %ax, %fs
    movw %ax, %gs

    /* SSE: CR4.OSFXSR (bit 9) | CR4.OSXMMEXCPT (bit 10). Rust and C code for this
       target use SSE registers anywhere, so this comes before any of it. */
    movq %cr4, %rax
    orq $0x600, %rax
    movq %rax, %cr4

    /* XSAVE and AVX state when the CPU has them (CPUID.1:ECX bits 26 and 28): set
       CR4.OSXSAVE (bit 18), then XCR0 = x87 | SSE (| AVX). */
    movl $1, %eax
    cpuid
    btl $26, %ecx
    jnc 4f
    movl %ecx, %r8d
    movq %cr4, %rax
    orq $(1 << 18), %rax
    movq %rax, %cr4
    movl $0x3, %eax
    btl $28, %r8d
    jnc 3f
    orl $0x4, %eax
3:
    xorl %edx, %edx
    xorl %ecx, %ecx
    xsetbv
4:
    /* x87 control word 0x37f and MXCSR 0x1f80, the System V ABI's initial state. */
    fninit
    pushq $0x1f80
    ldmxcsr (%rsp)
    addq $8, %rsp

    /* unik_x86_64_boot(boot information address, loader magic). A zero frame pointer
       ends every backtrace here. */
    movl %esi, %edi
    movl (%rsp), %esi         /* the loader magic pushed above */
    addq $4, %rsp             /* the stack's top again: 16-byte aligned for the call */
    xorl %ebp, %ebp
    call unik_x86_64_boot
    ud2
    .size unik_pvh_entry, . - unik_pvh_entry
    .popsection
"#,
    page_size = const PAGE_SIZE,
    boot_stack_size = const BOOT_STACK_SIZE,
    exception_stack_size = const EXCEPTION_STACK_SIZE,
    double_fault_stack_size = const DOUBLE_FAULT_STACK_SIZE,
    multiboot2_header_magic = const super::multiboot2::HEADER_MAGIC,
    pvh_start_info_magic = const super::pvh::START_INFO_MAGIC,
    options(att_syntax)
);

// Exception entry stubs. The CPU has switched to the IST stack and pushed SS, RSP,
// RFLAGS, CS, RIP and, for some vectors, an error code (SDM vol. 3A 7.14.2). Each stub
// pushes a zero error code where the CPU does not, then its vector, and the common
// part saves the general registers, so the stack holds an `ExceptionFrame`. The stubs'
// labels are assembler-local (.L): 32 names in every image's symbol table that no
// report needs (the stub table and the common part keep theirs).
core::arch::global_asm!(
    r#"
    .pushsection .text.unik_exceptions, "ax", @progbits
    .code64
    .irp vector, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
.Lunik_exception_\vector:
    pushq $0
    pushq $\vector
    jmp unik_exception_common
    .endr
    .irp vector, 8,10,11,12,13,14,17,21,29,30
.Lunik_exception_\vector:
    pushq $\vector
    jmp unik_exception_common
    .endr

unik_exception_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    andq $-16, %rsp
    call unik_x86_64_exception
    ud2
    .popsection

    .pushsection .data.rel.ro.unik_exception_stub_table, "aw", @progbits
    .p2align 3
    .globl unik_exception_stub_table
unik_exception_stub_table:
    .irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad .Lunik_exception_\vector
    .endr
    .popsection
"#,
    options(att_syntax)
);
