//! GDT, TSS and IDT: every CPU exception (vectors 0 to 31) enters its handler on an
//! Interrupt Stack Table stack, never on the interrupted one (Intel SDM vol. 3A 7.14.5
//! "Interrupt Stack Table"). The Linux x86_64 ABI lets code use 128 bytes below RSP
//! (the red zone), and a stack overflow leaves no stack at all.

use ::x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use ::x86_64::instructions::tables::{lgdt, load_tss};
use ::x86_64::structures::DescriptorTablePointer;
use ::x86_64::structures::gdt::SegmentSelector;
use ::x86_64::structures::tss::TaskStateSegment;
use ::x86_64::{PrivilegeLevel, VirtAddr};

use super::{entry, interrupts};
use crate::boot_cell::BootCell;
use crate::symbol_address;

/// IST slot (0-based here and in the TSS's array; the gate holds it 1-based) of the
/// stack all exceptions but the double fault use.
const EXCEPTION_STACK_INDEX: u16 = 0;
/// The double fault gets its own stack: it happens when an exception could not be
/// delivered, possibly because the exception stack itself is the problem.
const DOUBLE_FAULT_STACK_INDEX: u16 = 1;
/// Hardware interrupts (the LAPIC timer) enter on IST 3: never on the interrupted stack,
/// whose red zone may hold data (interrupts.rs explains the entry).
const INTERRUPT_STACK_INDEX: u16 = 2;
const DOUBLE_FAULT_VECTOR: usize = 8;
/// The GDT's slots: null, kernel code, kernel data, and the TSS's 16-byte descriptor.
const CODE_INDEX: u16 = 1;
const DATA_INDEX: u16 = 2;
const TASK_STATE_INDEX: u16 = 3;
/// The kernel code segment's selector (index 1, GDT, ring 0), which the IDT gates name.
const CODE_SELECTOR: u64 = (CODE_INDEX as u64) << 3;

/// The IDT: 256 gates of 16 bytes (SDM vol. 3A 7.14.1, figure 7-8), two words each.
/// All zero: not present, so a vector without a handler ends in a #GP and its report.
#[repr(C, align(16))]
struct InterruptDescriptorTable([[u64; 2]; 256]);

static TASK_STATE_SEGMENT: BootCell<TaskStateSegment> = BootCell::new(TaskStateSegment::new());
/// The GDT (SDM vol. 3A 3.4.5 "Segment Descriptors", 8.2.3 "TSS Descriptor in 64-bit
/// Mode"): flat 64-bit code (L = 1; present, ring 0, execute/read, accessed) and data
/// (present, ring 0, read/write, accessed) descriptors, then the TSS descriptor that
/// `initialize` writes (its base is a run address: ASLR).
static GLOBAL_DESCRIPTOR_TABLE: BootCell<[u64; 5]> =
    BootCell::new([0, 0x00af_9b00_0000_ffff, 0x00cf_9300_0000_ffff, 0, 0]);
static INTERRUPT_DESCRIPTOR_TABLE: BootCell<InterruptDescriptorTable> =
    BootCell::new(InterruptDescriptorTable([[0; 2]; 256]));

/// Points IDT gate `vector` at `handler` as a 64-bit interrupt gate (interrupts stay
/// off in the handler; type 0xE, DPL 0, present) entered on IST slot `stack_index`
/// (SDM vol. 3A 7.14.1: offset bits 15:0 | selector | IST | type | P | offset 31:16,
/// then offset 63:32). One out-of-line writer serves every gate.
///
/// # Safety
/// Boot only, before `lidt` (or interrupts off): `handler` must be entry code made for
/// this vector (it saves what it uses and ends in `iretq`, or never returns), and the
/// IST slot must hold a valid stack.
#[inline(never)]
pub(super) unsafe fn set_gate(vector: usize, handler: u64, stack_index: u16) {
    let low = (handler & 0xffff)
        | (CODE_SELECTOR << 16)
        | (u64::from(stack_index + 1) << 32)
        | (0x8e << 40)
        | ((handler & 0xffff_0000) << 32);
    // SAFETY: boot is the only writer (the caller's contract); the CPU reads the table
    // only on an interrupt, which cannot come before `lidt` with interrupts off.
    let table = unsafe { INTERRUPT_DESCRIPTOR_TABLE.get_mut() };
    table.0[vector] = [low, handler >> 32];
}

/// Loads the GDT (code, data, TSS), the TSS with the IST stacks, and the IDT.
///
/// # Safety
/// Called once, early in boot, on the boot CPU with interrupts off.
pub unsafe fn initialize() {
    // SAFETY: boot runs this once, before anything else uses the TSS.
    let task_state_segment = unsafe { TASK_STATE_SEGMENT.get_mut() };
    task_state_segment.interrupt_stack_table[usize::from(EXCEPTION_STACK_INDEX)] =
        VirtAddr::new_truncate(symbol_address!(entry::unik_exception_stack_top));
    task_state_segment.interrupt_stack_table[usize::from(DOUBLE_FAULT_STACK_INDEX)] =
        VirtAddr::new_truncate(symbol_address!(entry::unik_double_fault_stack_top));
    task_state_segment.interrupt_stack_table[usize::from(INTERRUPT_STACK_INDEX)] =
        VirtAddr::new_truncate(symbol_address!(interrupts::unik_interrupt_stack_top));

    // The TSS descriptor: limit 15:0, base 23:0, type 9 (available 64-bit TSS), present,
    // base 31:24; then base 63:32.
    let base = TASK_STATE_SEGMENT.as_ptr() as u64;
    let limit = size_of::<TaskStateSegment>() as u64 - 1;
    // SAFETY: boot runs this once; the CPU reads the table only after `lgdt`.
    let global_descriptor_table = unsafe { GLOBAL_DESCRIPTOR_TABLE.get_mut() };
    global_descriptor_table[usize::from(TASK_STATE_INDEX)] =
        limit | (base & 0xff_ffff) << 16 | 0x89 << 40 | (base >> 24 & 0xff) << 56;
    global_descriptor_table[usize::from(TASK_STATE_INDEX) + 1] = base >> 32;
    let pointer = DescriptorTablePointer {
        limit: (size_of::<[u64; 5]>() - 1) as u16,
        base: VirtAddr::new_truncate(global_descriptor_table.as_ptr() as u64),
    };
    let data_selector = SegmentSelector::new(DATA_INDEX, PrivilegeLevel::Ring0);
    // SAFETY: the GDT is a static, not changed after this point; the code selector
    // names its 64-bit code descriptor, the data selector its data descriptor (valid
    // for DS/ES/SS), the TSS selector an available 64-bit TSS (loaded once) that lives
    // for the whole run.
    unsafe {
        lgdt(&pointer);
        CS::set_reg(SegmentSelector::new(CODE_INDEX, PrivilegeLevel::Ring0));
        DS::set_reg(data_selector);
        ES::set_reg(data_selector);
        SS::set_reg(data_selector);
        load_tss(SegmentSelector::new(
            TASK_STATE_INDEX,
            PrivilegeLevel::Ring0,
        ));
    }

    // SAFETY: the stub table is 32 constant addresses emitted by entry.rs.
    let stubs = unsafe { &entry::unik_exception_stub_table };
    // Vector 9 (coprocessor segment overrun) and the reserved vectors (15, 22 to 27,
    // 31) are never raised by a 64-bit CPU; their gates stay not-present, which would
    // end in a #GP and its report if one ever were.
    const NOT_RAISED: u32 = 1 << 9 | 1 << 15 | 0xfc << 20 | 1 << 31;
    for (vector, &stub) in stubs.iter().enumerate() {
        if NOT_RAISED & (1 << vector) != 0 {
            continue;
        }
        let stack_index = if vector == DOUBLE_FAULT_VECTOR {
            DOUBLE_FAULT_STACK_INDEX
        } else {
            EXCEPTION_STACK_INDEX
        };
        // SAFETY: the stub is exception entry code for this vector (it pushes the frame
        // `exceptions::ExceptionFrame` expects and never returns); the IST slots hold
        // the exception and double-fault stacks (above).
        unsafe { set_gate(vector, stub, stack_index) };
    }

    // SAFETY: once, before the IDT is loaded; IST 3 holds the interrupt stack (above).
    unsafe { interrupts::route(INTERRUPT_STACK_INDEX) };

    let pointer = DescriptorTablePointer {
        limit: (size_of::<InterruptDescriptorTable>() - 1) as u16,
        base: VirtAddr::new_truncate(INTERRUPT_DESCRIPTOR_TABLE.as_ptr() as u64),
    };
    // SAFETY: the IDT is a static, complete and not changed after this point.
    unsafe { ::x86_64::instructions::tables::lidt(&pointer) };
}

/// Resets the CPU with a triple fault: an empty IDT (limit 0) leaves the breakpoint no
/// handler, nor the double fault that follows (Intel SDM vol. 3A 7.15, "Interrupt 8:
/// Double Fault": a fault while delivering it shuts the processor down, which the
/// chipset turns into a reset).
///
/// # Safety
/// Nothing after this call runs: the machine resets (or, where a shutdown does not
/// reset it, stops).
pub unsafe fn triple_fault() {
    let empty = DescriptorTablePointer {
        limit: 0,
        base: VirtAddr::zero(),
    };
    // SAFETY: the caller's contract: loading an IDT no vector fits is the point.
    unsafe {
        ::x86_64::instructions::tables::lidt(&empty);
        core::arch::asm!("int3", options(nomem, nostack));
    }
}
