//! GDT, TSS and IDT: every CPU exception (vectors 0 to 31) enters its handler on an
//! Interrupt Stack Table stack, never on the interrupted one (Intel SDM vol. 3A 7.14.5
//! "Interrupt Stack Table"). The Linux x86_64 ABI lets code use 128 bytes below RSP
//! (the red zone), and a stack overflow leaves no stack at all.

use ::x86_64::VirtAddr;
use ::x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use ::x86_64::instructions::tables::load_tss;
use ::x86_64::structures::DescriptorTablePointer;
use ::x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use ::x86_64::structures::tss::TaskStateSegment;

use super::image::symbol_address;
use super::{entry, interrupts};
use crate::boot_cell::BootCell;

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
/// The kernel code segment's selector: the first descriptor `initialize` appends.
const CODE_SELECTOR: u64 = 0x08;

/// The IDT: 256 gates of 16 bytes (SDM vol. 3A 7.14.1, figure 7-8), two words each.
/// All zero: not present, so a vector without a handler ends in a #GP and its report.
#[repr(C, align(16))]
struct InterruptDescriptorTable([[u64; 2]; 256]);

static TASK_STATE_SEGMENT: BootCell<TaskStateSegment> = BootCell::new(TaskStateSegment::new());
static GLOBAL_DESCRIPTOR_TABLE: BootCell<GlobalDescriptorTable> =
    BootCell::new(GlobalDescriptorTable::new());
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

    // SAFETY: boot runs this once; the CPU reads the table only after `load_unsafe`.
    let global_descriptor_table = unsafe { GLOBAL_DESCRIPTOR_TABLE.get_mut() };
    let code_selector = global_descriptor_table.append(Descriptor::kernel_code_segment());
    let data_selector = global_descriptor_table.append(Descriptor::kernel_data_segment());
    // SAFETY: the TSS is a static that lives for the whole run and is not moved.
    let task_state_selector = global_descriptor_table
        .append(unsafe { Descriptor::tss_segment_unchecked(TASK_STATE_SEGMENT.as_ptr()) });

    // SAFETY: the GDT is a static, never changed after this point; the selectors come
    // from it; the data selector is valid for DS/ES/SS and the TSS selector points at
    // an available 64-bit TSS (loaded once).
    unsafe {
        global_descriptor_table.load_unsafe();
        CS::set_reg(code_selector);
        DS::set_reg(data_selector);
        ES::set_reg(data_selector);
        SS::set_reg(data_selector);
        load_tss(task_state_selector);
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
