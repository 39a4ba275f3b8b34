//! GDT, TSS and IDT: every CPU exception (vectors 0 to 31) enters its handler on an
//! Interrupt Stack Table stack, never on the interrupted one (Intel SDM vol. 3A 7.14.5
//! "Interrupt Stack Table"). The Linux x86_64 ABI lets code use 128 bytes below RSP
//! (the red zone), and a stack overflow leaves no stack at all.

use ::x86_64::VirtAddr;
use ::x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use ::x86_64::instructions::tables::load_tss;
use ::x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use ::x86_64::structures::idt::InterruptDescriptorTable;
use ::x86_64::structures::tss::TaskStateSegment;

use super::image::symbol_address;
use super::{entry, interrupts};
use crate::boot_cell::BootCell;

/// IST slot (1-based in the TSS, 0-based in the x86_64 crate) of the stack all
/// exceptions but the double fault use.
const EXCEPTION_STACK_INDEX: u16 = 0;
/// The double fault gets its own stack: it happens when an exception could not be
/// delivered, possibly because the exception stack itself is the problem.
const DOUBLE_FAULT_STACK_INDEX: u16 = 1;
/// Hardware interrupts (the LAPIC timer) enter on IST 3: never on the interrupted stack,
/// whose red zone may hold data (interrupts.rs explains the entry).
const INTERRUPT_STACK_INDEX: u16 = 2;
const DOUBLE_FAULT_VECTOR: usize = 8;

static TASK_STATE_SEGMENT: BootCell<TaskStateSegment> = BootCell::new(TaskStateSegment::new());
static GLOBAL_DESCRIPTOR_TABLE: BootCell<GlobalDescriptorTable> =
    BootCell::new(GlobalDescriptorTable::new());
static INTERRUPT_DESCRIPTOR_TABLE: BootCell<Option<InterruptDescriptorTable>> = BootCell::new(None);

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

    // SAFETY: boot runs this once, before the IDT is loaded.
    let slot = unsafe { INTERRUPT_DESCRIPTOR_TABLE.get_mut() };
    let interrupt_descriptor_table = slot.get_or_insert_with(InterruptDescriptorTable::new);
    // SAFETY: the stub table is 32 constant addresses emitted by entry.rs.
    let stubs = unsafe { &entry::unik_exception_stub_table };
    let stub = |vector: usize| VirtAddr::new_truncate(stubs[vector]);

    /// Points the named IDT entries at the stubs of their vectors, on the exception stack.
    macro_rules! route {
        ($($field:ident = $vector:expr),* $(,)?) => {$(
            // SAFETY: the stub is valid exception entry code for this vector (it pushes
            // the frame `exceptions::ExceptionFrame` expects and never returns), and the
            // IST slot holds a valid stack.
            unsafe {
                interrupt_descriptor_table
                    .$field
                    .set_handler_addr(stub($vector))
                    .set_stack_index(EXCEPTION_STACK_INDEX);
            }
        )*};
    }
    route!(
        divide_error = 0,
        debug = 1,
        non_maskable_interrupt = 2,
        breakpoint = 3,
        overflow = 4,
        bound_range_exceeded = 5,
        invalid_opcode = 6,
        device_not_available = 7,
        invalid_tss = 10,
        segment_not_present = 11,
        stack_segment_fault = 12,
        general_protection_fault = 13,
        page_fault = 14,
        x87_floating_point = 16,
        alignment_check = 17,
        machine_check = 18,
        simd_floating_point = 19,
        virtualization = 20,
        cp_protection_exception = 21,
        hv_injection_exception = 28,
        vmm_communication_exception = 29,
        security_exception = 30,
    );
    // SAFETY: as in `route!`, with the double fault's own stack.
    unsafe {
        interrupt_descriptor_table
            .double_fault
            .set_handler_addr(stub(DOUBLE_FAULT_VECTOR))
            .set_stack_index(DOUBLE_FAULT_STACK_INDEX);
    }
    // Vector 9 (coprocessor segment overrun) and the reserved vectors (15, 22 to 27,
    // 31) are never raised by a 64-bit CPU; their entries stay
    // not-present, which would end in a #GP and its report if one ever were.

    // SAFETY: once, before the IDT is loaded; IST 3 holds the interrupt stack (above).
    unsafe { interrupts::route(interrupt_descriptor_table, INTERRUPT_STACK_INDEX) };

    // SAFETY: the IDT is a static, complete and never changed after this point.
    unsafe { interrupt_descriptor_table.load_unsafe() };
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
    let empty = ::x86_64::structures::DescriptorTablePointer {
        limit: 0,
        base: VirtAddr::zero(),
    };
    // SAFETY: the caller's contract: loading an IDT no vector fits is the point.
    unsafe {
        ::x86_64::instructions::tables::lidt(&empty);
        core::arch::asm!("int3", options(nomem, nostack));
    }
}
