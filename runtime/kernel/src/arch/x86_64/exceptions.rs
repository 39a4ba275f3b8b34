//! Crash reports: every CPU exception ends the run with a report on the error console
//! and the status a shell shows for the matching Linux signal (runtime/README.md,
//! "Exit statuses").
//!
//! Vector names, mnemonics and error-code bits: Intel SDM vol. 3A 7.15 "Exception and
//! Interrupt Reference" and 5.7 "Page-Fault Exceptions".

use core::sync::atomic::{AtomicBool, Ordering};

use ::x86_64::registers::control::Cr2;

use super::{image, paging};
use crate::memory::PAGE_SIZE;
use crate::report::{self, ErrorConsole, Write};

/// What the entry stubs leave on the exception stack (entry.rs), lowest address first.
#[repr(C)]
pub struct ExceptionFrame {
    r15: u64,
    r14: u64,
    r13: u64,
    r12: u64,
    r11: u64,
    r10: u64,
    r9: u64,
    r8: u64,
    rbp: u64,
    rdi: u64,
    rsi: u64,
    rdx: u64,
    rcx: u64,
    rbx: u64,
    rax: u64,
    vector: u64,
    /// The CPU's error code, or 0 for vectors without one.
    error_code: u64,
    // Pushed by the CPU (SDM vol. 3A figure 7-9, "IA-32e Mode Stack Usage").
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

// Exit statuses: 128 + the Linux signal number (signal(7)).
const STATUS_SIGILL: i32 = 128 + 4;
const STATUS_SIGTRAP: i32 = 128 + 5;
const STATUS_SIGFPE: i32 = 128 + 8;
const STATUS_SIGSEGV: i32 = 128 + 11;

const PAGE_FAULT_VECTOR: u64 = 14;
const DOUBLE_FAULT_VECTOR: u64 = 8;

/// Name, mnemonic and exit status of each exception vector.
fn describe(vector: u64) -> (&'static str, &'static str, i32) {
    match vector {
        0 => ("divide error", "#DE", STATUS_SIGFPE),
        1 => ("debug exception", "#DB", STATUS_SIGTRAP),
        2 => ("non-maskable interrupt", "NMI", STATUS_SIGSEGV),
        3 => ("breakpoint", "#BP", STATUS_SIGTRAP),
        4 => ("overflow", "#OF", STATUS_SIGSEGV),
        5 => ("bound range exceeded", "#BR", STATUS_SIGSEGV),
        6 => ("invalid opcode", "#UD", STATUS_SIGILL),
        7 => ("device not available", "#NM", STATUS_SIGSEGV),
        8 => ("double fault", "#DF", STATUS_SIGSEGV),
        9 => ("coprocessor segment overrun", "vector 9", STATUS_SIGSEGV),
        10 => ("invalid TSS", "#TS", STATUS_SIGSEGV),
        11 => ("segment not present", "#NP", STATUS_SIGSEGV),
        12 => ("stack-segment fault", "#SS", STATUS_SIGSEGV),
        13 => ("general protection fault", "#GP", STATUS_SIGSEGV),
        14 => ("page fault", "#PF", STATUS_SIGSEGV),
        16 => ("x87 floating-point error", "#MF", STATUS_SIGFPE),
        17 => ("alignment check", "#AC", STATUS_SIGSEGV),
        18 => ("machine check", "#MC", STATUS_SIGSEGV),
        19 => ("SIMD floating-point exception", "#XM", STATUS_SIGFPE),
        20 => ("virtualization exception", "#VE", STATUS_SIGSEGV),
        21 => ("control protection exception", "#CP", STATUS_SIGSEGV),
        28 => ("hypervisor injection exception", "#HV", STATUS_SIGSEGV),
        29 => ("VMM communication exception", "#VC", STATUS_SIGSEGV),
        30 => ("security exception", "#SX", STATUS_SIGSEGV),
        _ => ("reserved exception", "#??", STATUS_SIGSEGV),
    }
}

/// Page-fault error code bits (SDM vol. 3A 5.7, figure 5-12).
mod page_fault_error {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
    pub const USER: u64 = 1 << 2;
    pub const RESERVED_BIT: u64 = 1 << 3;
    pub const INSTRUCTION_FETCH: u64 = 1 << 4;
    pub const PROTECTION_KEY: u64 = 1 << 5;
    pub const SHADOW_STACK: u64 = 1 << 6;
}

/// Whether `address` is in the guard page under the boot stack, `main`'s.
fn is_boot_stack_guard(address: u64) -> bool {
    image::guard_pages()
        .iter()
        .any(|guard| guard.stack == image::Stack::Boot && guard.range().contains(address))
}

/// What a page fault most likely was, from the faulting address and the error code.
fn page_fault_cause(address: u64, error_code: u64) -> &'static str {
    use page_fault_error::*;
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
    if error_code & RESERVED_BIT != 0 {
        return "reserved bit set in a page table entry (page tables corrupted)";
    }
    if error_code & PRESENT == 0 {
        return "access to unmapped memory";
    }
    if error_code & INSTRUCTION_FETCH != 0 {
        return "execute of non-executable memory";
    }
    if error_code & WRITE != 0 {
        return "write to read-only memory";
    }
    "access not allowed by the page protection"
}

/// The decoded page-fault error code: `present, write, supervisor, data access`.
struct PageFaultErrorCode(u64);

impl PageFaultErrorCode {
    fn write(&self, out: &mut impl Write) {
        use page_fault_error::*;
        let code = self.0;
        out.text(if code & PRESENT != 0 {
            "protection violation"
        } else {
            "page not present"
        })
        .text(if code & WRITE != 0 {
            ", write"
        } else {
            ", read"
        })
        .text(if code & USER != 0 {
            ", user mode"
        } else {
            ", supervisor mode"
        })
        .text(if code & INSTRUCTION_FETCH != 0 {
            ", instruction fetch"
        } else {
            ", data access"
        });
        if code & RESERVED_BIT != 0 {
            out.text(", reserved bit set");
        }
        if code & PROTECTION_KEY != 0 {
            out.text(", protection key");
        }
        if code & SHADOW_STACK != 0 {
            out.text(", shadow stack");
        }
    }
}

/// Set while a report is being printed: a fault inside the report (which re-enters on
/// the same IST stack) must end the run instead of reporting again, forever.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Called by the common exception stub with the saved frame; never returns.
#[unsafe(no_mangle)]
extern "C" fn unik_x86_64_exception(frame: &ExceptionFrame) -> ! {
    let (name, mnemonic, status) = describe(frame.vector);
    let mut console = ErrorConsole;
    if REPORTING.swap(true, Ordering::Relaxed) {
        console
            .text("\nunik: fatal: ")
            .text(name)
            .text(" (")
            .text(mnemonic)
            .text(") at rip ")
            .hex(frame.rip)
            .text(" while reporting a crash\n");
        crate::exit(status);
    }
    if frame.vector == DOUBLE_FAULT_VECTOR {
        // Short and self-contained: the machine state is already doubtful.
        console
            .text("unik: fatal: double fault (#DF) at rip ")
            .hex(frame.rip)
            .text(", rsp ")
            .hex(frame.rsp)
            .text(
                ": an exception could not be delivered (exception stack overflow or \
                 corrupted descriptor tables)\n",
            );
        crate::exit(status);
    }
    write_report(&mut console, frame, name, mnemonic);
    crate::exit(status)
}

fn write_report(console: &mut ErrorConsole, frame: &ExceptionFrame, name: &str, mnemonic: &str) {
    console
        .text("unik: fatal: ")
        .text(name)
        .text(" (")
        .text(mnemonic)
        .text(") at ");
    if frame.vector == PAGE_FAULT_VECTOR {
        // CR2 holds the linear address that faulted (SDM vol. 3A 5.7).
        let address = Cr2::read_raw();
        console
            .text("address ")
            .hex(address)
            .text(": ")
            .text(page_fault_cause(address, frame.error_code))
            .text("\n");
        if let Some((id, name)) = crate::sched::guard_page_owner(address) {
            report::thread_line(console, id.into(), &name);
        } else if is_boot_stack_guard(address) {
            // The boot stack is the main thread's (thread 1, created first).
            report::thread_line(console, 1, b"main");
        }
        console
            .text("  error code ")
            .hex(frame.error_code)
            .text(": ");
        PageFaultErrorCode(frame.error_code).write(console);
        console.text("\n");
    } else {
        console.text("rip ").hex(frame.rip);
        match frame.vector {
            0 => console.text(": integer division by zero or quotient overflow"),
            6 => console.text(": the CPU does not know this instruction (or ud2)"),
            13 if frame.error_code != 0 => {
                console.text(": segment selector ").hex(frame.error_code)
            }
            13 => console.text(": non-canonical address or privileged instruction"),
            _ => console,
        };
        console.text("\n");
        if frame.error_code != 0 {
            console
                .text("  error code ")
                .hex(frame.error_code)
                .text("\n");
        }
    }
    // One template (report::Write::template: \x01 hex, \x03 16 hex digits, \x04 8).
    console.template(
        "  rip \x03  rsp \x03  rflags \x04  cs \x01  ss \x01\n\
         \x20 rax \x03 rbx \x03 rcx \x03 rdx \x03\n\
         \x20 rsi \x03 rdi \x03 rbp \x03 r8  \x03\n\
         \x20 r9  \x03 r10 \x03 r11 \x03 r12 \x03\n\
         \x20 r13 \x03 r14 \x03 r15 \x03\n",
        &[
            frame.rip,
            frame.rsp,
            frame.rflags,
            frame.cs,
            frame.ss,
            frame.rax,
            frame.rbx,
            frame.rcx,
            frame.rdx,
            frame.rsi,
            frame.rdi,
            frame.rbp,
            frame.r8,
            frame.r9,
            frame.r10,
            frame.r11,
            frame.r12,
            frame.r13,
            frame.r14,
            frame.r15,
        ],
    );
    crate::aslr::write_image_base(console);
    report::backtrace(
        console,
        frame.rip,
        frame.rbp,
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
