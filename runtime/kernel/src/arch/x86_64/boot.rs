//! The x86_64 boot path in Rust: from the entry code (long mode, bootstrap identity map
//! of the first GiB, boot stack, SSE on) to `unik_main`.
//!
//! Order matters: the console first (every later failure reports through it), then the
//! exception handlers (a fault during boot gets a crash report), then everything that
//! reads the loader's data (still reachable through the bootstrap map), and the switch
//! to the final page tables last, when nothing needs the loader's data any more.

use super::loader::{self, LoaderInfo, Protocol};
use super::{acpi, aslr, cpu, descriptors, image, paging, serial, tls};
use crate::boot_cell::BootCell;
use crate::memory::{self, BootAllocator, MemoryPlan, PAGE_SIZE, PhysicalRange};
use crate::report::{ErrorConsole, Write};
use crate::{BootInfo, boot_failure, command_line, end_boot_failure};

static BOOT_INFO: BootCell<BootInfo> = BootCell::new(BootInfo::EMPTY);

/// Called by the entry code with the physical address of the loader's boot information
/// (`hvm_start_info` or the Multiboot2 information) and the magic that says which:
/// moves the image to its random base (aslr.rs) and continues there.
#[unsafe(no_mangle)]
extern "C" fn unik_x86_64_boot(information_address: u32, loader_magic: u32) -> ! {
    // SAFETY: the bootstrap identity map is active; unreadable boot information is
    // reported after the move (the same read again), here it only means no parameters.
    let information =
        unsafe { LoaderInfo::read(u64::from(information_address), loader_magic) }.ok();
    let command_line = information
        .as_ref()
        .map_or(&[][..], |information| information.command_line());
    // SAFETY: first Rust code, once, on the boot stack, under the bootstrap tables.
    let (layout, disabled) = crate::aslr::or_unmoved(unsafe { aslr::choose(command_line) });
    // SAFETY: `choose` mapped and relocated the image at the offset (or left it, 0);
    // nothing on this stack is needed again.
    unsafe {
        aslr::enter(
            layout.offset,
            layout.stack_shift,
            [
                u64::from(information_address) | (u64::from(loader_magic) << 32),
                layout.offset,
                layout.heap_random,
                disabled,
            ],
        )
    }
}

/// The boot path at the image's run address (aslr.rs `enter`); the first argument
/// holds the boot information's address (low half) and the loader's magic (high).
pub(super) extern "C" fn boot(
    information_and_magic: u64,
    image_offset: u64,
    heap_random: u64,
    aslr_disabled: u64,
) -> ! {
    crate::aslr::record(image_offset, aslr_disabled);
    let information_address = information_and_magic as u32;
    let loader_magic = (information_and_magic >> 32) as u32;
    serial::initialize();
    // SAFETY: first thing after the entry code, once, interrupts off.
    unsafe { descriptors::initialize() };

    // SAFETY: the bootstrap identity map is active until `activate` below.
    let start_info = match unsafe { LoaderInfo::read(u64::from(information_address), loader_magic) }
    {
        Ok(start_info) => start_info,
        Err(error) => {
            error.write(&mut boot_failure());
            end_boot_failure()
        }
    };
    let verbose = command_line::is_verbose(start_info.command_line());
    crate::aslr::report(verbose);
    // PC firmware leaves the RSDP in the BIOS areas; a PVH loader passes its own. The
    // tables are read when first needed (acpi.rs), or now for the boot log.
    // SAFETY: the bootstrap identity map is active.
    unsafe { acpi::remember(start_info.rsdp, start_info.protocol == Protocol::Multiboot2) };

    let ram = start_info.ram_map();
    let image = crate::aslr::physical(image::whole(), image_offset);
    // The early allocations start after the image: the loader's data lying there (GRUB
    // puts its information anywhere) must survive until it is read.
    let (planned, planned_initrd) = loader_data_after(image, &start_info);
    let plan = MemoryPlan::new(&ram, planned, planned_initrd).unwrap_or_else(|error| {
        crate::memory_plan_failure(error, start_info.protocol.memory_map_name())
    });
    if verbose {
        log_memory(&start_info, &ram, image);
        // SAFETY: the bootstrap identity map is active; the boot runs alone.
        log_acpi(&unsafe { acpi::discover() });
    }

    let mut allocator = BootAllocator::new(plan.after_image);
    // SAFETY: the bootstrap map is active and the plan's RAM is unused.
    let address_space = match unsafe { paging::build(&plan, &mut allocator, image_offset) } {
        Ok(address_space) => address_space,
        Err(paging::PagingError::OutOfTableFrames) => {
            boot_failure().text("out of memory for page tables; give the machine more memory");
            end_boot_failure()
        }
        Err(paging::PagingError::Overlap { address }) => {
            boot_failure()
                .text("page tables: ")
                .hex(address)
                .text(" mapped twice (overlapping sections in the linker script)");
            end_boot_failure()
        }
    };

    // The command line moves into the boot data: the loader's copy lies in low memory,
    // which the final tables leave unmapped.
    let command_line = copy_command_line(start_info.command_line(), &mut allocator);

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

    // SAFETY: the new tables map the image (code, stacks, descriptor tables) and the
    // boot data (tables, command line copy, TLS block); nothing uses the loader's
    // memory after this point.
    unsafe { address_space.activate() };
    match paging::verify_write_xor_execute() {
        Ok(()) => {}
        Err(paging::WriteExecuteError::Page { address, size }) => {
            boot_failure()
                .text("W^X violation: ")
                .range(address, address + size)
                .text(" is mapped writable and executable")
                .text(if cpu::has_execute_disable() {
                    ""
                } else {
                    " (the CPU has no execute-disable, NX)"
                })
                .text("; refusing to run");
            end_boot_failure()
        }
        Err(paging::WriteExecuteError::WriteProtectOff) => {
            boot_failure().text(
                "W^X violation: CR0.WP is off, read-only pages are writable by the kernel; refusing to run",
            );
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
        initrd: unsafe { crate::boot_archive_at(start_info.initrd) },
    };
    // SAFETY: the machine is set up: console, exception handling, final page tables,
    // the main thread's TLS. This is the only call.
    unsafe { crate::finish_boot(BOOT_INFO.get()) }
}

/// Copies the loader's command line into the boot data, where it stays for the run.
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

/// The image's and the initrd's ranges for the memory plan, one of them extended over
/// the loader's information structure so that the early allocations (page tables, the
/// command line copy) do not overwrite it before it is read: the image's when the
/// information lies after the image and below the initrd (GRUB puts it in the first
/// free RAM there), the initrd's when it starts in or right after the initrd's last
/// page (GRUB after a module; the plan may put the boot data there,
/// `memory::BOOT_DATA_MINIMUM`). Its pages are then mapped read-only with the initrd's.
fn loader_data_after(
    image: PhysicalRange,
    start_info: &LoaderInfo,
) -> (PhysicalRange, Option<PhysicalRange>) {
    let information = start_info.information();
    let mut planned = image;
    let mut initrd = start_info.initrd;
    if information.is_empty() || information.start < image.start {
        return (planned, initrd);
    }
    match &mut initrd {
        None => planned.end = planned.end.max(information.end),
        Some(initrd) if information.end <= initrd.start => {
            planned.end = planned.end.max(information.end);
        }
        Some(initrd)
            if information.start >= initrd.start
                && information.start <= initrd.end.next_multiple_of(PAGE_SIZE) =>
        {
            initrd.end = initrd.end.max(information.end);
        }
        Some(_) => {}
    }
    (planned, initrd)
}

/// The `unik.verbose` boot log: where the machine's memory is and what the image takes.
fn log_memory(start_info: &LoaderInfo, ram: &memory::RamMap, image: PhysicalRange) {
    let mut console = ErrorConsole;
    match start_info.protocol {
        Protocol::Pvh => {
            console
                .text("unik: boot: PVH start_info v")
                .decimal(start_info.version.into())
                .text(" at ")
                .hex(start_info.address);
        }
        Protocol::Multiboot2 => {
            console
                .text("unik: boot: Multiboot2 information at ")
                .hex(start_info.address)
                .text(" (")
                .decimal(start_info.size)
                .text(" bytes)");
        }
    }
    console
        .text(", command line ")
        .decimal(start_info.command_line().len() as u64)
        .text(" bytes\n");
    if let Some(initrd) = start_info.initrd {
        crate::log_initrd(initrd);
    }
    console.text("unik: memory map:\n");
    for (range, kind) in start_info
        .memory_map()
        .filter(|(range, _)| !range.is_empty())
    {
        crate::log_memory_range(range, loader::memory_type_name(kind));
    }
    crate::log_dropped_ranges(ram.dropped);
    if !cpu::has_execute_disable() {
        console.text("unik: cpu has no execute-disable (NX): data and heap are executable\n");
    }
    crate::log_image(image, image::text().len(), image::data().len());
}

/// The `unik.verbose` boot log: what ACPI offers for the power-off.
fn log_acpi(findings: &acpi::Findings) {
    let mut console = ErrorConsole;
    console.text("unik: acpi: ");
    match findings {
        acpi::Findings::NoRsdp => console.text("no RSDP\n"),
        acpi::Findings::NoFadt { rsdp } => console.text("RSDP at ").hex(*rsdp).text(", no FADT\n"),
        acpi::Findings::Found {
            rsdp,
            power_off,
            reset,
        } => {
            console.text("RSDP at ").hex(*rsdp).text(", ");
            match power_off {
                Some(power_off) => console
                    .text("S5 through PM1a control ")
                    .hex(power_off.control_port.into())
                    .text(" (SLP_TYP ")
                    .decimal(power_off.sleep_type.into())
                    .text(")"),
                None => console.text("no S5 power-off"),
            };
            match reset {
                Some(reset) => console
                    .text(", reset register ")
                    .hex(reset.port.into())
                    .text(" value ")
                    .hex(reset.value.into())
                    .text("\n"),
                None => console.text(", no reset register\n"),
            }
        }
    };
}
