//! unik kernel: boot, arch, memory, console and exit (see `../README.md`).
//!
//! The boot path is architecture specific (`arch::<name>::boot`); it sets the machine
//! up (console, exception handling, page tables, main-thread TLS), fills in a
//! [`BootInfo`] and hands over to [`finish_boot`], which calls the runtime's
//! `unik_main`. Everything the libc relies on is the public surface of this file:
//! [`BootInfo`], [`console`], [`exit`] and [`runtime_panic`].
// Host unit tests use std's test harness; the kernel itself never links std.
#![cfg_attr(not(test), no_std)]
// Host tests build without the boot path, which is what uses most items.
#![cfg_attr(test, allow(dead_code))]

mod arch;
pub mod aslr;
mod boot_cell;
mod command_line;
pub mod console;
pub mod framebuffer;
mod memory;
#[cfg(not(test))]
pub mod network;
pub mod random;
pub mod report;
#[cfg(not(test))]
pub mod virtio;
pub mod virtio_mmio;
#[cfg(not(test))]
mod virtio_pci;
#[cfg(not(test))]
pub mod virtio_rng;
// Threads and clocks need the arch's threading interface, which host tests lack.
#[cfg(not(test))]
pub mod sched;
#[cfg(not(test))]
pub mod time;

use report::{ErrorConsole, Write};

/// What the kernel hands to the program start.
pub struct BootInfo {
    /// Kernel command line, without the terminating NUL (empty when none).
    pub cmdline: &'static [u8],
    /// Free RAM for the allocator: mapped read-write, no-execute, page aligned.
    pub heap_start: usize,
    pub heap_len: usize,
    /// More free RAM for the allocator, mapped like the heap (empty: none): the side of
    /// a mid-RAM initrd that is not the heap, or the boot data range's rest when the
    /// heap is another RAM range.
    pub spare_start: usize,
    pub spare_len: usize,
    /// The boot archive (`unik run --initrd`: QEMU `-initrd`, a PVH module or the
    /// device tree's `linux,initrd-start`/`-end`), exactly as the loader put it in RAM:
    /// mapped read-only for the whole run, reserved from the heap. Empty without one.
    pub initrd: &'static [u8],
}

impl BootInfo {
    /// The value before boot fills it in.
    const EMPTY: Self = Self {
        cmdline: &[],
        heap_start: 0,
        heap_len: 0,
        spare_start: 0,
        spare_len: 0,
        initrd: &[],
    };
}

/// The finished boot information, for code that runs after boot and is not handed it
/// (component init functions); `None` only before `unik_main`.
static BOOT_INFO: core::sync::atomic::AtomicPtr<BootInfo> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// Whether the command line asked for the boot log (`unik.verbose`), for code that
/// runs after boot (component inits).
fn is_verbose() -> bool {
    let boot = BOOT_INFO.load(core::sync::atomic::Ordering::Acquire);
    // SAFETY: as in `boot_archive`.
    unsafe { boot.as_ref() }.is_some_and(|boot| command_line::is_verbose(boot.cmdline))
}

/// The boot archive (see [`BootInfo::initrd`]); empty without one.
pub fn boot_archive() -> &'static [u8] {
    let boot = BOOT_INFO.load(core::sync::atomic::Ordering::Acquire);
    // SAFETY: the pointer is null or the `&'static BootInfo` `finish_boot` stored, which
    // nothing writes after boot.
    unsafe { boot.as_ref() }.map_or(&[], |boot| boot.initrd)
}

/// The bytes of the boot archive at `range`.
///
/// # Safety
/// `range` must be mapped readable for the rest of the run and never written (the
/// paging code maps [`memory::MemoryPlan::initrd`] so).
unsafe fn boot_archive_at(range: Option<memory::PhysicalRange>) -> &'static [u8] {
    match range {
        Some(range) if !range.is_empty() => {
            // SAFETY: the caller's contract; identity mapped, so the physical address is
            // the virtual one.
            unsafe { core::slice::from_raw_parts(range.start as *const u8, range.len() as usize) }
        }
        _ => &[],
    }
}

/// Ends the VM with this status (0..=255; other values are masked with 0xff).
pub fn exit(status: i32) -> ! {
    // Masking like a Linux exit status (the low 8 bits of the value given to _exit).
    let status = (status & 0xff) as u8;
    arch::exit(status)
}

/// Restarts the machine (reboot(2) with RB_AUTOBOOT): writes `reboot` on the status
/// channel `unik run` reads (x86_64's debug console, aarch64's semihosting), then
/// resets through the machine's mechanisms in turn (x86_64: the ACPI reset register,
/// the 8042 keyboard controller, port 0xcf9, a triple fault; aarch64: PSCI
/// SYSTEM_RESET, the Raspberry Pi's watchdog). If the machine is still running after
/// them, prints `unik: reboot failed` and ends the run with status 1.
pub fn reboot() -> ! {
    arch::reboot()
}

/// Set by the first runtime panic.
static PANICKING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Used by the panic handler: prints `unik: runtime panic: <msg> at <file>:<line>:<column>`
/// on the error console and exits 134 (the status of SIGABRT).
///
/// The message is printed when it is plain text (`panic!("text")`, `unwrap()` on
/// `None`, `expect("text")`); one with formatted arguments (an index out of bounds,
/// `unwrap()` on an `Err`) is replaced by a marker: printing it would link `core::fmt`
/// (~6.5 KB) into every image, and the location still names the failing line. The
/// runtime's own panics are unik bugs (runtime/README.md).
pub fn runtime_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut console = ErrorConsole;
    // A panic while reporting a panic must not recurse forever.
    if PANICKING.swap(true, core::sync::atomic::Ordering::Relaxed) {
        console.text("unik: runtime panic while reporting a runtime panic\n");
        exit(134)
    }
    console.text("unik: runtime panic: ");
    match info.message().as_str() {
        Some(message) => console.text(message),
        None => console.text("(formatted message not printed)"),
    };
    if let Some(location) = info.location() {
        console
            .text(" at ")
            .text(location.file())
            .text(":")
            .decimal(location.line().into())
            .text(":")
            .decimal(location.column().into());
    }
    console.text("\n");
    exit(134)
}

/// Exit status of a boot that cannot go on (bad boot information, no usable RAM).
const BOOT_FAILURE_STATUS: i32 = 1;

/// Starts the report of a problem found before the program starts: writes
/// `unik: fatal: ` on the error console and returns it for the message, which
/// [`end_boot_failure`] ends, with the run (status [`BOOT_FAILURE_STATUS`]).
fn boot_failure() -> ErrorConsole {
    ErrorConsole.text("unik: fatal: ");
    ErrorConsole
}

/// The end of [`boot_failure`]'s line, and of the run.
#[inline(never)]
fn end_boot_failure() -> ! {
    ErrorConsole.text("\n");
    exit(BOOT_FAILURE_STATUS)
}

/// Ends the boot for a memory layout that cannot work; `memory_map` names where the RAM
/// ranges came from ("the PVH memory map", "the device tree").
fn memory_plan_failure(error: memory::MemoryError, memory_map: &str) -> ! {
    match error {
        memory::MemoryError::ImageOutsideRam { image } => {
            boot_failure()
                .text("the image (")
                .range(image.start, image.end)
                .text(") is not inside RAM in ")
                .text(memory_map);
            end_boot_failure()
        }
        memory::MemoryError::NoRamAfterImage { image } => {
            boot_failure()
                .text("no free RAM after the image (")
                .range(image.start, image.end)
                .text("); give the machine more memory");
            end_boot_failure()
        }
        memory::MemoryError::InitrdOverlapsImage { initrd, image } => {
            boot_failure()
                .text("the initrd (")
                .range(initrd.start, initrd.end)
                .text(") overlaps the image (")
                .range(image.start, image.end)
                .text(")");
            end_boot_failure()
        }
    }
}

/// The RAM for the allocator once the early allocations are done: the heap (its start
/// moved by a random number of pages, ASLR: [`aslr::heap_shift`]) and the spare range
/// (see [`BootInfo`]), logged with `unik.verbose`.
fn heap_after_boot(
    plan: &memory::MemoryPlan,
    allocator: &memory::BootAllocator,
    heap_random: u64,
    verbose: bool,
) -> (memory::PhysicalRange, memory::PhysicalRange) {
    let heap = memory::final_heap(plan, allocator);
    let heap = heap.skip(aslr::heap_shift(heap, heap_random));
    let spare = memory::spare_ram(plan, allocator);
    if verbose {
        for (name, range) in [("heap", heap), ("more heap", spare)] {
            if !range.is_empty() {
                ErrorConsole
                    .text("unik: ")
                    .text(name)
                    .text(" ")
                    .range(range.start, range.end)
                    .text(" (")
                    .byte_size(range.len())
                    .text(")\n");
            }
        }
    }
    (heap, spare)
}

/// The `unik.verbose` boot log's initrd line.
fn log_initrd(initrd: memory::PhysicalRange) {
    ErrorConsole
        .text("unik: initrd ")
        .range(initrd.start, initrd.end)
        .text(" (")
        .byte_size(initrd.len())
        .text(")\n");
}

/// The `unik.verbose` boot log's memory map line for one range of type `kind`.
fn log_memory_range(range: memory::PhysicalRange, kind: &str) {
    ErrorConsole
        .text("unik:   ")
        .hex_fixed(range.start, 12)
        .text("-")
        .hex_fixed(range.end, 12)
        .text(" ")
        .byte_size(range.len())
        .text(" ")
        .text(kind)
        .text("\n");
}

/// The `unik.verbose` boot log's count of RAM ranges beyond the plan's capacity.
fn log_dropped_ranges(dropped: usize) {
    if dropped > 0 {
        ErrorConsole
            .text("unik:   (")
            .decimal(dropped as u64)
            .text(" more RAM ranges ignored)\n");
    }
}

/// The `unik.verbose` boot log's image line: where it lies and its parts' sizes.
fn log_image(image: memory::PhysicalRange, text: u64, data: u64) {
    ErrorConsole
        .text("unik: image ")
        .range(image.start, image.end)
        .text(" (")
        .byte_size(image.len())
        .text("): text ")
        .byte_size(text)
        .text(", data+bss ")
        .byte_size(data)
        .text("\n");
}

/// Ends the boot when the command line does not fit in the boot data.
fn command_line_failure(length: usize) -> ! {
    {
        boot_failure()
            .text("out of memory for the command line (")
            .decimal(length as u64)
            .text(" bytes)");
        end_boot_failure()
    }
}

/// Ends the boot: no memory for the main thread's TLS block of `size` bytes.
fn tls_out_of_memory(size: u64) -> ! {
    {
        boot_failure()
            .text("out of memory for the TLS block (")
            .decimal(size)
            .text(" bytes)");
        end_boot_failure()
    }
}

/// Ends the boot: the image's PT_TLS template is unusable.
fn tls_bad_template(memory_size: u64, alignment: u64) -> ! {
    {
        boot_failure()
            .text("bad TLS template in the image (size ")
            .hex(memory_size)
            .text(", alignment ")
            .hex(alignment)
            .text(")");
        end_boot_failure()
    }
}

unsafe extern "Rust" {
    /// Defined with `#[unsafe(no_mangle)]` by the `unik-runtime` crate: the program
    /// start (argv, constructors, `main`, `exit`).
    ///
    /// # Safety
    /// Called once, on the boot stack, with the machine fully set up.
    unsafe fn unik_main(boot: &'static BootInfo) -> !;
}

/// The end of every boot path: hands the finished [`BootInfo`] to the runtime.
///
/// # Safety
/// Called once by the arch boot path, after the console, exception handling, the final
/// page tables and the main thread's TLS are in place.
unsafe fn finish_boot(boot: &'static BootInfo) -> ! {
    BOOT_INFO.store(
        core::ptr::from_ref(boot).cast_mut(),
        core::sync::atomic::Ordering::Release,
    );
    if command_line::wants_start_mark(boot.cmdline) {
        console::write(command_line::START_MARK);
        console::write_err(command_line::START_MARK);
    }
    // SAFETY: the caller guarantees the machine is set up and this runs once.
    unsafe { unik_main(boot) }
}
