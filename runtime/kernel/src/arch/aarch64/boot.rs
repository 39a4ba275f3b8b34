//! The aarch64 boot path in Rust: from the entry code (EL1, bootstrap identity map with
//! the MMU and caches on, FP/SIMD on, boot stack on SP_EL0, vector table installed) to
//! `unik_main`.
//!
//! Order matters: the semihosting probe first (every exit depends on it), the early
//! console, then the device tree (read through the bootstrap map, once, before the ASLR
//! move), the real console, the move, and the switch to the final tables last, when
//! nothing needs the device tree any more (it lies below the image, which the final
//! tables leave unmapped).

use super::device_tree::{self, DeviceTreeError, GicVersion, MachineDescription, PsciConduit};
use super::entry::bootstrap_normal;
use super::{aslr, exit, image, paging, serial, tls};
use crate::boot_cell::BootCell;
use crate::memory::{BootAllocator, MemoryPlan, PhysicalRange};
use crate::report::{ErrorConsole, Write};
use crate::{BootInfo, boot_failure, command_line, end_boot_failure};

static BOOT_INFO: BootCell<BootInfo> = BootCell::new(BootInfo::EMPTY);

pub use super::device_tree::Platform;

/// What the device tree says and where it was: read once, before the move (so the
/// reading code runs at one address only: under TCG each address's code is translated
/// anew), and used by the boot path after it. The tree itself lies below the image and
/// is unmapped once the final tables are on: `machine.command_line()` points into it (the
/// boot path copies it), the platform part is plain values kept for the run.
struct DeviceTree {
    machine: MachineDescription<'static>,
    address: u64,
    size: usize,
    source: DeviceTreeSource,
}

/// All zero bytes until `unik_aarch64_boot` fills it ([`MachineDescription::EMPTY`]):
/// .bss, nothing to copy at boot and nothing in the image.
static DEVICE_TREE: BootCell<DeviceTree> = BootCell::new(DeviceTree {
    machine: MachineDescription::EMPTY,
    address: 0,
    size: 0,
    source: DeviceTreeSource::Register,
});

/// The platform devices the device tree names (for the boot log, the threads work's
/// GIC, timer tick and RTC, and the virtio drivers): all `None` before boot.
pub fn platform() -> &'static Platform {
    // SAFETY: the boot path writes DEVICE_TREE once, before the move, and holds no
    // mutable reference to it afterwards.
    unsafe { &DEVICE_TREE.get().machine.platform }
}

/// Where the device tree was found.
#[derive(Clone, Copy)]
enum DeviceTreeSource {
    /// x0 at entry (Linux arm64 boot protocol).
    Register,
    /// The start of RAM (where QEMU puts it for an ELF image that is not Linux).
    StartOfRam,
}

/// Called by the entry code with x0 as it was at entry and the entry exception level,
/// at the image's link address: finds the exit device and the console, reads the
/// device tree (a broken one ends the boot here), then moves the image to its random
/// base (aslr.rs) and continues there. What this writes (exit device, UART addresses,
/// the device tree's findings) is plain values, valid at either address.
#[unsafe(no_mangle)]
extern "C" fn unik_aarch64_boot(entry_register: u64, entry_level: u64) -> ! {
    exit::probe_semihosting();
    let normal = bootstrap_normal();
    serial::initialize_early(normal);
    // SAFETY: the only writer, once, before anything reads DEVICE_TREE.
    let tree = read_device_tree(entry_register, normal, unsafe { DEVICE_TREE.get_mut() });
    // SAFETY: first Rust code but the above, once, on the boot stack, under the
    // bootstrap map.
    let (layout, disabled) =
        crate::aslr::or_unmoved(unsafe { aslr::choose(tree.machine.command_line()) });
    // SAFETY: `choose` mapped and relocated the image at the offset (or left it, 0);
    // nothing on the current stacks is needed again.
    unsafe {
        aslr::enter(
            layout.offset,
            layout.stack_shift,
            [
                entry_register,
                entry_level,
                layout.offset,
                layout.heap_random,
                disabled,
            ],
        )
    }
}

/// Finds and reads the device tree into `tree`, and sets the console UARTs and the
/// exit devices it names; a missing or broken tree ends the boot with its report.
fn read_device_tree(
    entry_register: u64,
    normal: PhysicalRange,
    tree: &'static mut DeviceTree,
) -> &'static DeviceTree {
    let (address, source) = find_device_tree(entry_register, normal);
    tree.address = address;
    tree.source = source;
    // SAFETY: `find_device_tree` only returns addresses inside the bootstrap map's
    // normal memory, which the device tree owns until the final tables replace it;
    // nothing writes the blob.
    let blob = unsafe { device_tree::blob_at(address, normal.end) }
        .unwrap_or_else(|error| device_tree_failure(error));
    tree.size = blob.len();
    if let Err(error) = device_tree::read(blob, address, &mut tree.machine) {
        device_tree_failure(error);
    }
    let machine = &tree.machine;
    serial::configure(
        machine.console.map(|uart| uart.start),
        machine.error_console.map(|uart| uart.start),
    );
    exit::set_psci_conduit(machine.platform.psci);
    exit::set_watchdog(machine.watchdog.map(|registers| registers.start));
    tree
}

/// Ends the boot with the device tree's problem (out of line: the boot's common path
/// stays short).
#[cold]
#[inline(never)]
fn device_tree_failure(error: DeviceTreeError) -> ! {
    error.write(&mut boot_failure());
    end_boot_failure()
}

/// The boot path at the image's run address (aslr.rs `enter`).
pub(super) extern "C" fn boot(
    _entry_register: u64,
    entry_level: u64,
    image_offset: u64,
    heap_random: u64,
    aslr_disabled: u64,
) -> ! {
    crate::aslr::record(image_offset, aslr_disabled);
    tls::initialize_stack_guard();
    // SAFETY: written before the move (`unik_aarch64_boot`), never again.
    let tree = unsafe { DEVICE_TREE.get() };
    let machine = &tree.machine;
    let verbose = command_line::is_verbose(machine.command_line());
    crate::aslr::report(verbose);

    let image = crate::aslr::physical(image::whole(), image_offset);
    let initrd = machine.initrd;
    let plan = MemoryPlan::new(&machine.ram, image, initrd)
        .unwrap_or_else(|error| crate::memory_plan_failure(error, "the device tree"));
    if verbose {
        log_machine(tree, entry_level, image);
    }

    let mut devices = [PhysicalRange::EMPTY; 7];
    devices[0] = machine.console.unwrap_or(PhysicalRange::EMPTY);
    devices[1] = machine.error_console.unwrap_or(PhysicalRange::EMPTY);
    devices[2] = machine.watchdog.unwrap_or(PhysicalRange::EMPTY);
    if let Some(controller) = &machine.platform.interrupt_controller {
        devices[3..3 + controller.region_count]
            .copy_from_slice(&controller.regions[..controller.region_count]);
    }

    let mut allocator = BootAllocator::new(plan.after_image);
    // SAFETY: the bootstrap map is active and the plan's RAM is unused.
    let address_space =
        match unsafe { paging::build(&plan, &devices, &mut allocator, image_offset) } {
            Ok(address_space) => address_space,
            Err(paging::PagingError::OutOfTableFrames) => {
                boot_failure()
                    .text("out of memory for translation tables; give the machine more memory");
                end_boot_failure()
            }
            Err(paging::PagingError::Overlap { address }) => {
                boot_failure()
                    .text("translation tables: ")
                    .hex(address)
                    .text(
                        " mapped twice (overlapping sections in the linker script, or a device \
                         inside RAM)",
                    );
                end_boot_failure()
            }
        };

    // The command line moves into the boot data: the device tree lies below the image,
    // which the final tables leave unmapped.
    let command_line = copy_command_line(machine.command_line(), &mut allocator);

    // SAFETY: the allocator's memory is RAM after the image: identity mapped now and
    // mapped read-write by the final tables; the TLS block is set up once.
    if let Err(error) = unsafe { tls::initialize(&mut allocator) } {
        match error {
            tls::TlsError::OutOfMemory { size } => crate::tls_out_of_memory(size),
            tls::TlsError::BadTemplate {
                memory_size,
                alignment,
            } => crate::tls_bad_template(memory_size, alignment),
        }
    }

    // SAFETY: the new tables map the image (code, stacks, vector table), the UARTs and
    // the boot data (tables, command line copy, TLS block); nothing uses the device
    // tree after this point (`machine` is not used below).
    unsafe { address_space.activate() };
    match paging::verify_write_xor_execute() {
        Ok(()) => {}
        Err(paging::WriteExecuteError::Page { address, size }) => {
            boot_failure()
                .text("W^X violation: ")
                .range(address, address + size)
                .text(" is mapped writable and executable; refusing to run");
            end_boot_failure()
        }
        Err(paging::WriteExecuteError::WriteExecuteNeverOff) => {
            boot_failure().text("W^X violation: SCTLR_EL1.WXN is off; refusing to run");
            end_boot_failure()
        }
    }

    let (heap, spare) = crate::heap_after_boot(&plan, &allocator, heap_random, verbose);

    // SAFETY: boot writes the BootInfo once, here, before anything reads it.
    let boot_info = unsafe { BOOT_INFO.get_mut() };
    *boot_info = BootInfo {
        cmdline: command_line,
        heap_start: heap.start as usize,
        heap_len: heap.len() as usize,
        spare_start: spare.start as usize,
        spare_len: spare.len() as usize,
        // SAFETY: `paging::build` mapped the plan's initrd pages read-only for the run.
        initrd: unsafe { crate::boot_archive_at(initrd) },
    };
    // SAFETY: the machine is set up: console, exception handling, final tables, the
    // main thread's TLS and the stack-protector canary. This is the only call.
    unsafe { crate::finish_boot(BOOT_INFO.get()) }
}

/// The device tree: x0 when it points at one (Linux boot protocol), else the start of
/// RAM. Only addresses inside the bootstrap map's normal memory are looked at, and
/// never address 0 (RAM starts there on the Raspberry Pi, whose firmware and QEMU's
/// `raspi4b` always pass x0).
fn find_device_tree(entry_register: u64, normal: PhysicalRange) -> (u64, DeviceTreeSource) {
    locate_device_tree(entry_register, normal).unwrap_or_else(|| {
        device_tree_failure(DeviceTreeError::NotFound {
            register: entry_register,
            ram_start: normal.start,
        })
    })
}

/// [`find_device_tree`] without the report: `None` when neither place has one.
fn locate_device_tree(
    entry_register: u64,
    normal: PhysicalRange,
) -> Option<(u64, DeviceTreeSource)> {
    let readable = |address: u64| {
        address != 0
            && address.is_multiple_of(8)
            && address >= normal.start
            && address.checked_add(8).is_some_and(|end| end <= normal.end)
    };
    // SAFETY: `readable` keeps the read inside the bootstrap map's normal memory.
    if readable(entry_register) && unsafe { device_tree::has_magic(entry_register) } {
        return Some((entry_register, DeviceTreeSource::Register));
    }
    // SAFETY: the start of RAM is inside the bootstrap map.
    if readable(normal.start) && unsafe { device_tree::has_magic(normal.start) } {
        return Some((normal.start, DeviceTreeSource::StartOfRam));
    }
    None
}

/// Copies the command line into the boot data, where it stays for the run.
fn copy_command_line(line: &[u8], allocator: &mut BootAllocator) -> &'static [u8] {
    if line.is_empty() {
        return &[];
    }
    let Some(address) = allocator.allocate(line.len() as u64) else {
        crate::command_line_failure(line.len())
    };
    // SAFETY: the allocation is fresh RAM after the image, large enough, identity mapped
    // by both the bootstrap and the final tables, and never reused: a 'static slice.
    unsafe {
        core::ptr::copy_nonoverlapping(line.as_ptr(), address as *mut u8, line.len());
        core::slice::from_raw_parts(address as *const u8, line.len())
    }
}

/// The `unik.verbose` boot log: what the device tree says and what the image takes.
fn log_machine(tree: &DeviceTree, entry_level: u64, image: PhysicalRange) {
    let DeviceTree {
        machine,
        address,
        size,
        source,
    } = tree;
    let mut console = ErrorConsole;
    let source = match source {
        DeviceTreeSource::Register => "from x0",
        DeviceTreeSource::StartOfRam => "at the start of RAM",
    };
    console
        .text("unik: boot: entered at EL")
        .decimal(entry_level)
        .text(", device tree at ")
        .hex(*address)
        .text(" (")
        .text(source)
        .text(", ")
        .byte_size(*size as u64)
        .text("), command line ")
        .decimal(machine.command_line().len() as u64)
        .text(" bytes\n");
    if let Some(initrd) = machine.initrd {
        crate::log_initrd(initrd);
    }
    console.text("unik: memory map:\n");
    for range in machine.ram.ranges() {
        crate::log_memory_range(*range, "RAM");
    }
    crate::log_dropped_ranges(machine.ram.dropped);
    for (name, uart) in [
        ("console", machine.console),
        ("error console", machine.error_console),
    ] {
        console.text("unik: ").text(name);
        match uart {
            Some(uart) => console.text(": PL011 at ").hex(uart.start).text("\n"),
            None => console.text(": none\n"),
        };
    }
    let exit_device = match (exit::has_semihosting(), machine.watchdog) {
        (true, _) => "semihosting",
        (false, None) => "none (console line, then PSCI SYSTEM_OFF)",
        (false, Some(_)) => "none (console line, then PSCI SYSTEM_OFF or the watchdog halt)",
    };
    if let Some(watchdog) = machine.watchdog {
        console
            .text("unik: watchdog: BCM2835 PM at ")
            .hex(watchdog.start)
            .text("\n");
    }
    console
        .text("unik: exit: ")
        .text(exit_device)
        .text("; PSCI: ")
        .text(match platform().psci {
            Some(PsciConduit::HypervisorCall) => "hvc",
            Some(PsciConduit::SecureMonitorCall) => "smc",
            None => "none",
        })
        .text("\n");
    if let Some(controller) = &platform().interrupt_controller {
        let version = match controller.version {
            GicVersion::V2 => "GICv2",
            GicVersion::V3 => "GICv3",
        };
        console.text("unik: interrupt controller: ").text(version);
        for region in &controller.regions[..controller.region_count] {
            console.text(" ").range(region.start, region.end);
        }
        console.text("\n");
    }
    if let Some(timer) = &platform().timer {
        console.text("unik: generic timer interrupts:");
        for id in &timer.interrupt_ids[..timer.interrupt_count] {
            console.text(" ").decimal((*id).into());
        }
        console.text("\n");
    }
    console
        .text("unik: random: ")
        .text(if crate::random::has_hardware_source() {
            "ChaCha20 seeded from RNDR"
        } else {
            "none (no FEAT_RNG): getrandom fails with EAGAIN"
        })
        .text("\n");
    crate::log_image(image, image::text().len(), image::data().len());
}
