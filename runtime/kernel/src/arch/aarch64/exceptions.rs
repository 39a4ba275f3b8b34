//! Crash reports: every exception taken to EL1 ends the run with a report on the error
//! console and the status a shell shows for the signal Linux would send for it
//! (runtime/README.md, "Exit statuses"; Linux `arch/arm64/mm/fault.c` and `traps.c`
//! pick the signals).
//!
//! Exception classes and fault status codes: Arm ARM (DDI 0487) D19.2 "ESR_EL1,
//! Exception Syndrome Register (EL1)": EC is bits 31:26, ISS bits 24:0; for aborts
//! the fault status code (DFSC/IFSC) is ISS bits 5:0 and WnR is ISS bit 6.
//!
//! One exception is not an error: the `hlt` of the semihosting probe (exit.rs) traps as
//! an undefined instruction when QEMU's semihosting is off; the handler notes that and
//! resumes after it.

use core::sync::atomic::{AtomicBool, Ordering};

use super::{exit, image, paging};
use crate::memory::PAGE_SIZE;
use crate::report::{self, ErrorConsole, Write};

/// What the vector code leaves on the exception stack (entry.rs), lowest address first.
#[repr(C)]
pub struct ExceptionFrame {
    /// x0 – x30 at the time of the exception (x29 = frame pointer, x30 = link register).
    registers: [u64; 31],
    /// SP_EL0: the stack pointer of the interrupted code (it runs on SP_EL0).
    stack_pointer: u64,
    /// ELR_EL1: where the exception happened (for SVC/HVC/SMC: the next instruction).
    exception_link: u64,
    /// SPSR_EL1: the interrupted PSTATE.
    saved_program_status: u64,
    /// ESR_EL1: exception class and syndrome.
    syndrome: u64,
    /// FAR_EL1: the faulting virtual address (aborts, alignment and watchpoints).
    fault_address: u64,
}

const _: () =
    assert!(core::mem::size_of::<ExceptionFrame>() as u64 == super::entry::EXCEPTION_FRAME_SIZE);

// Exit statuses: 128 + the Linux signal number (signal(7)).
const STATUS_SIGILL: i32 = 128 + 4;
const STATUS_SIGTRAP: i32 = 128 + 5;
const STATUS_SIGBUS: i32 = 128 + 7;
const STATUS_SIGFPE: i32 = 128 + 8;
const STATUS_SIGSEGV: i32 = 128 + 11;

/// ESR_EL1.EC values (Arm ARM D19.2, table "ESR_ELx.EC").
mod exception_class {
    pub const UNKNOWN: u64 = 0x00;
    pub const BRANCH_TARGET: u64 = 0x0d;
    pub const ILLEGAL_EXECUTION_STATE: u64 = 0x0e;
    pub const INSTRUCTION_ABORT_LOWER: u64 = 0x20;
    pub const INSTRUCTION_ABORT_SAME: u64 = 0x21;
    pub const PC_ALIGNMENT: u64 = 0x22;
    pub const DATA_ABORT_LOWER: u64 = 0x24;
    pub const DATA_ABORT_SAME: u64 = 0x25;
    pub const SP_ALIGNMENT: u64 = 0x26;
    pub const FLOATING_POINT: u64 = 0x2c;
    pub const SERROR: u64 = 0x2f;
    pub const BRK: u64 = 0x3c;
}

/// The exception class in words and the exit status.
fn describe_class(class: u64) -> (&'static str, i32) {
    use exception_class::*;
    match class {
        UNKNOWN => ("undefined instruction", STATUS_SIGILL),
        0x01 => ("trapped WFI/WFE", STATUS_SIGSEGV),
        0x07 => ("trapped FP/SIMD access", STATUS_SIGILL),
        0x09 => ("trapped pointer authentication instruction", STATUS_SIGILL),
        BRANCH_TARGET => ("branch target identification fault", STATUS_SIGILL),
        ILLEGAL_EXECUTION_STATE => ("illegal execution state", STATUS_SIGILL),
        0x15 => ("supervisor call (svc)", STATUS_SIGSEGV),
        0x16 => ("hypervisor call (hvc)", STATUS_SIGSEGV),
        0x17 => ("secure monitor call (smc)", STATUS_SIGSEGV),
        0x18 => ("trapped system register access", STATUS_SIGILL),
        0x19 => ("trapped SVE access", STATUS_SIGILL),
        0x1c => ("pointer authentication failure", STATUS_SIGSEGV),
        0x1d => ("trapped SME access", STATUS_SIGILL),
        INSTRUCTION_ABORT_LOWER | INSTRUCTION_ABORT_SAME => ("instruction abort", STATUS_SIGSEGV),
        PC_ALIGNMENT => ("PC alignment fault", STATUS_SIGBUS),
        DATA_ABORT_LOWER | DATA_ABORT_SAME => ("data abort", STATUS_SIGSEGV),
        SP_ALIGNMENT => ("SP alignment fault", STATUS_SIGBUS),
        FLOATING_POINT => ("floating-point exception", STATUS_SIGFPE),
        SERROR => ("SError (asynchronous abort)", STATUS_SIGSEGV),
        0x30 | 0x31 => ("hardware breakpoint", STATUS_SIGTRAP),
        0x32 | 0x33 => ("software step", STATUS_SIGTRAP),
        0x34 | 0x35 => ("watchpoint", STATUS_SIGTRAP),
        BRK => ("breakpoint (brk)", STATUS_SIGTRAP),
        _ => ("unexpected exception", STATUS_SIGSEGV),
    }
}

/// The vector table entry that was taken (entry.rs): group and kind.
fn describe_vector(index: u64) -> &'static str {
    match index {
        0 => "synchronous",
        1 => "IRQ",
        2 => "FIQ",
        3 => "SError",
        4..=7 => "nested",
        _ => "from a lower exception level",
    }
}

/// A data or instruction fault status code (DFSC/IFSC, ISS bits 5:0) in words.
fn fault_status(code: u64) -> (&'static str, Option<u64>) {
    let level = code & 3;
    match code {
        0x00..=0x03 => ("address size fault", Some(level)),
        0x04..=0x07 => ("translation fault", Some(level)),
        0x08..=0x0b => ("access flag fault", Some(level)),
        0x0c..=0x0f => ("permission fault", Some(level)),
        0x10 => ("synchronous external abort", None),
        0x11 => ("synchronous tag check fault", None),
        0x14..=0x17 => ("synchronous external abort on a table walk", Some(level)),
        0x18 => ("synchronous parity or ECC error", None),
        0x21 => ("alignment fault", None),
        0x30 => ("TLB conflict abort", None),
        _ => ("fault", None),
    }
}

fn is_translation_fault(code: u64) -> bool {
    (0x04..=0x07).contains(&code)
}

fn is_permission_fault(code: u64) -> bool {
    (0x0c..=0x0f).contains(&code)
}

/// ISS bit 6 of a data abort: the access was a write.
const ISS_WRITE_NOT_READ: u64 = 1 << 6;
/// ISS bit 10 of an abort: FAR is not valid.
const ISS_FAR_NOT_VALID: u64 = 1 << 10;

/// What an abort most likely was, from the faulting address and the status code.
fn abort_cause(address: u64, status: u64, is_instruction: bool, is_write: bool) -> &'static str {
    if is_translation_fault(status) || is_permission_fault(status) {
        if address < PAGE_SIZE {
            return "NULL pointer dereference";
        }
        for guard in image::guard_pages() {
            if guard.range().contains(address) {
                return if guard.stack == image::Stack::Boot {
                    "stack overflow (guard page hit)"
                } else {
                    "exception stack overflow (guard page hit)"
                };
            }
        }
        if crate::sched::guard_page_owner(address).is_some() {
            return "thread stack overflow (guard page hit)";
        }
    }
    if is_translation_fault(status) {
        return "access to unmapped memory";
    }
    if is_permission_fault(status) {
        return if is_instruction {
            "execute of non-executable memory"
        } else if is_write {
            "write to read-only memory"
        } else {
            "access not allowed by the page protection"
        };
    }
    match status {
        0x21 => "misaligned access to device memory or an exclusive/atomic access",
        0x10 | 0x14..=0x17 => "access to a physical address with nothing behind it",
        _ => "see the fault status",
    }
}

/// Set while a report is being printed: a fault inside the report must end the run
/// instead of reporting again.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Called by the vector code with the saved frame and the vector index (0-15).
/// Returns only for the semihosting probe; every other exception ends the run.
#[unsafe(no_mangle)]
extern "C" fn unik_aarch64_exception(frame: &mut ExceptionFrame, index: u64) {
    let class = (frame.syndrome >> 26) & 0x3f;
    if class == exception_class::UNKNOWN && frame.exception_link == exit::semihosting_trap_address()
    {
        exit::note_semihosting_absent();
        if index == 0 {
            // The boot probe, from normal code: resume after the 4-byte `hlt`.
            frame.exception_link += 4;
            return;
        }
        // Inside the handler (the nested vector has moved SP): not resumable, but the
        // exit path now knows to avoid semihosting.
        crate::exit(STATUS_SIGSEGV);
    }
    let (name, status) = match index {
        0 | 4 | 8 | 12 => describe_class(class),
        3 | 7 | 11 | 15 => ("SError (asynchronous abort)", STATUS_SIGSEGV),
        // IRQs from normal code go to the scheduler's entry (threading.rs); an IRQ
        // inside a handler or any FIQ is unexpected.
        _ => ("unexpected interrupt", STATUS_SIGSEGV),
    };
    let mut console = ErrorConsole;
    if REPORTING.swap(true, Ordering::Relaxed) {
        console
            .text("\nunik: fatal: ")
            .text(name)
            .text(" at pc ")
            .hex(frame.exception_link)
            .text(" while reporting a crash\n");
        crate::exit(status);
    }
    if (4..=7).contains(&index) {
        // Short and self-contained, like x86_64's double fault: the exception stack or
        // the handler itself is broken.
        console
            .text("unik: fatal: ")
            .text(name)
            .text(" at pc ")
            .hex(frame.exception_link)
            .text(
                " inside the exception handler (exception stack overflow or a fault in the \
                 crash report), address ",
            )
            .hex(frame.fault_address)
            .text(", ESR ")
            .hex(frame.syndrome)
            .text("\n");
        crate::exit(status);
    }
    write_report(&mut console, frame, index, class, name);
    crate::exit(status)
}

fn write_report(
    console: &mut ErrorConsole,
    frame: &ExceptionFrame,
    index: u64,
    class: u64,
    name: &str,
) {
    use exception_class::*;
    let syndrome = frame.syndrome & 0x01ff_ffff;
    console.text("unik: fatal: ").text(name).text(" at ");
    match class {
        INSTRUCTION_ABORT_LOWER | INSTRUCTION_ABORT_SAME | DATA_ABORT_LOWER | DATA_ABORT_SAME
            if index == 0 =>
        {
            let is_instruction = matches!(class, INSTRUCTION_ABORT_LOWER | INSTRUCTION_ABORT_SAME);
            let is_write = !is_instruction && syndrome & ISS_WRITE_NOT_READ != 0;
            let status = syndrome & 0x3f;
            let address = frame.fault_address;
            let cause = abort_cause(address, status, is_instruction, is_write);
            if syndrome & ISS_FAR_NOT_VALID != 0 {
                console
                    .text("pc ")
                    .hex(frame.exception_link)
                    .text(" (fault address not known)");
            } else {
                console.text("address ").hex(address);
            }
            console.text(": ").text(cause).text("\n");
            if let Some((id, name)) = crate::sched::guard_page_owner(address) {
                report::thread_line(console, id.into(), &name);
            } else if image::guard_pages()
                .iter()
                .any(|guard| guard.stack == image::Stack::Boot && guard.range().contains(address))
            {
                // The boot stack is the main thread's (thread 1, created first).
                report::thread_line(console, 1, b"main");
            }
            let (status_name, level) = fault_status(status);
            console.text("  ").text(status_name);
            if let Some(level) = level {
                console.text(" at translation level ").decimal(level.into());
            }
            let access = if is_instruction {
                "instruction fetch"
            } else if is_write {
                "write"
            } else {
                "read"
            };
            console
                .text(", ")
                .text(access)
                .text(", at pc ")
                .hex(frame.exception_link)
                .text("\n");
        }
        _ => {
            console.text("pc ").hex(frame.exception_link);
            match class {
                UNKNOWN => console.text(": the CPU does not know this instruction (or udf)"),
                BRK => console
                    .text(": brk #")
                    .hex(syndrome & 0xffff)
                    .text(" (__builtin_trap or a debugger breakpoint)"),
                SP_ALIGNMENT => console
                    .text(": stack pointer ")
                    .hex(frame.stack_pointer)
                    .text(" not 16-byte aligned"),
                PC_ALIGNMENT => console.text(": jump to a misaligned address"),
                _ => console,
            };
            console.text("\n");
            if index != 0 {
                console
                    .text("  vector: ")
                    .text(describe_vector(index))
                    .text("\n");
            }
            if matches!(class, PC_ALIGNMENT) || (0x30..=0x35).contains(&class) {
                console
                    .text("  address ")
                    .hex(frame.fault_address)
                    .text("\n");
            }
        }
    }
    console
        .text("  ESR ")
        .hex_fixed(frame.syndrome, 8)
        .text(" (class ")
        .hex_fixed(class, 2)
        .text(")  FAR ")
        .hex_fixed(frame.fault_address, 16)
        .text("\n  ELR ")
        .hex_fixed(frame.exception_link, 16)
        .text("  SPSR ")
        .hex_fixed(frame.saved_program_status, 8)
        .text("  SP ")
        .hex_fixed(frame.stack_pointer, 16)
        .text("\n");
    for (line_index, line) in frame.registers.chunks(4).enumerate() {
        console.text(" ");
        for (column, value) in line.iter().enumerate() {
            let register = line_index * 4 + column;
            match register {
                29 => console.text(" fp  "),
                30 => console.text(" lr  "),
                _ => console
                    .text(" x")
                    .decimal(register as u64)
                    .text(if register < 10 { "  " } else { " " }),
            };
            console.hex_fixed(*value, 16);
        }
        console.text("\n");
    }
    crate::aslr::write_image_base(console);
    report::backtrace(
        console,
        frame.exception_link,
        frame.registers[29],
        image::text(),
        read_stack_word,
    );
}

/// A word of the boot stack (what a crash report's backtrace reads: never faults).
fn read_stack_word(address: u64) -> Option<u64> {
    paging::is_readable_stack_word(address).then(|| {
        // SAFETY: the word is inside the boot stack, which is mapped (checked).
        unsafe { core::ptr::read_volatile(address as *const u64) }
    })
}
