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
mod report;
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

use core::fmt::Write;

use report::ErrorConsole;

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

/// Used by the panic handler: prints `unik: runtime panic: <msg> at <file>:<line>` on
/// the error console and exits 134 (the status of SIGABRT).
pub fn runtime_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut console = ErrorConsole;
    // A panic while printing a panic (a Display impl in the message that panics) must
    // not recurse forever.
    if PANICKING.swap(true, core::sync::atomic::Ordering::Relaxed) {
        let _ = console.write_str("unik: runtime panic while reporting a runtime panic\n");
        exit(134)
    }
    // Writing to the console cannot fail; a formatting error only cuts the message short.
    let _ = write!(console, "unik: runtime panic: {}", info.message());
    if let Some(location) = info.location() {
        let _ = write!(console, " at {}:{}", location.file(), location.line());
    }
    let _ = console.write_str("\n");
    exit(134)
}

/// Exit status of a boot that cannot go on (bad boot information, no usable RAM).
const BOOT_FAILURE_STATUS: i32 = 1;

/// Prints `unik: fatal: <message>` on the error console and ends the run with
/// [`BOOT_FAILURE_STATUS`]. For problems found before the program starts.
fn boot_failure(message: core::fmt::Arguments<'_>) -> ! {
    let mut console = ErrorConsole;
    let _ = writeln!(console, "unik: fatal: {message}");
    exit(BOOT_FAILURE_STATUS)
}

/// Ends the boot for a memory layout that cannot work; `memory_map` names where the RAM
/// ranges came from ("the PVH memory map", "the device tree").
fn memory_plan_failure(error: memory::MemoryError, memory_map: &str) -> ! {
    match error {
        memory::MemoryError::ImageOutsideRam { image } => boot_failure(format_args!(
            "the image ({:#x}-{:#x}) is not inside RAM in {memory_map}",
            image.start, image.end
        )),
        memory::MemoryError::NoRamAfterImage { image } => boot_failure(format_args!(
            "no free RAM after the image ({:#x}-{:#x}); give the machine more memory",
            image.start, image.end
        )),
        memory::MemoryError::InitrdOverlapsImage { initrd, image } => boot_failure(format_args!(
            "the initrd ({:#x}-{:#x}) overlaps the image ({:#x}-{:#x})",
            initrd.start, initrd.end, image.start, image.end
        )),
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
        let mut console = ErrorConsole;
        for (name, range) in [("heap", heap), ("more heap", spare)] {
            if !range.is_empty() {
                let _ = writeln!(
                    console,
                    "unik: {name} {:#x}-{:#x} ({})",
                    range.start,
                    range.end,
                    report::ByteSize(range.len())
                );
            }
        }
    }
    (heap, spare)
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
