//! The aarch64 side of the threads-and-time interface (`crate::sched`, `crate::time`;
//! contracts in `runtime/kernel/README.md`, "Arch interface for threads and time").
//!
//! - Clock: the virtual counter (CNTVCT_EL0 at CNTFRQ_EL0). Timer: the EL1 virtual
//!   timer (CNTV_CVAL_EL0/CNTV_CTL_EL0), its PPI routed through the GIC (v2: distributor
//!   + CPU interface; v3: distributor + redistributor + system-register CPU interface).
//!   Arm ARM (DDI 0487) D12 "The Generic Timer"; GIC architecture spec (IHI 0069).
//! - IRQ entry (`unik_aarch64_irq_entry`, reached from vector 1 of the table in
//!   entry.rs): the interrupted code runs at EL1 on SP_EL0, and AArch64 code has no red
//!   zone (AAPCS64 6.4.5.1: memory below SP may be clobbered at any time), so the entry
//!   selects SP_EL0 and saves x0-x30, ELR/SPSR, q0-q31, FPCR and FPSR right below the
//!   interrupted SP, on the thread's own stack; the handler may then switch threads.
//! - Switch: x19-x30, SP, d8-d15 and FPCR (AAPCS64 6.1.1 and 6.1.2: the callee-saved
//!   state). Thread pointer: TPIDR_EL0. TLS: variant I as `tls.rs` (512 bytes for the
//!   libc below the thread pointer, a 16-byte TCB, then the block).
//! - Runtime mapping: 4 KiB pages in the live tables (39-bit VA, walk from level 1, as
//!   paging.rs builds them), tables from the heap.

extern crate alloc;

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::boot::platform;
use super::device_tree::GicVersion;
use super::entry::{ATTRIBUTE_INDEX_DEVICE, ATTRIBUTE_INDEX_NORMAL};
use super::tls::{RESERVED_BELOW_THREAD_POINTER, THREAD_CONTROL_BLOCK_SIZE};
use crate::memory::{PAGE_SIZE, align_up};

/// Where thread stacks are mapped: 256-512 GiB, inside the 39-bit address space and
/// above QEMU virt's RAM (1 GiB up).
pub const STACK_REGION: core::ops::Range<u64> = 0x40_0000_0000..0x80_0000_0000;

/// Why a mapping failed.
#[derive(Debug)]
pub enum MappingError {
    OutOfMemory,
    AlreadyMapped,
}

#[derive(Clone, Copy)]
pub enum PageAccess {
    ReadWrite,
    Device,
}

pub(super) fn counter_frequency() -> u64 {
    let frequency: u64;
    // SAFETY: CNTFRQ_EL0 is readable at EL1.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) frequency, options(nomem, nostack)) };
    frequency.max(1)
}

/// Nanoseconds since the counter started (boot, on QEMU virt).
pub fn monotonic_nanoseconds() -> u64 {
    let ticks = super::cpu::virtual_counter();
    (u128::from(ticks) * 1_000_000_000 / u128::from(counter_frequency())) as u64
}

/// Wall-clock time at monotonic 0, in nanoseconds since the Unix epoch (0 when the
/// machine has no PL031).
static BOOT_WALL_CLOCK: AtomicU64 = AtomicU64::new(0);

pub fn boot_wall_clock_nanoseconds() -> u64 {
    ensure_wall_clock();
    BOOT_WALL_CLOCK.load(Ordering::Relaxed)
}

/// Whether the RTC was read (its page mapped once, on the first wall-clock read or at
/// the scheduler's start, whichever comes first: a program that never asks for the
/// date never maps it).
static WALL_CLOCK_READ: AtomicBool = AtomicBool::new(false);

/// Reads the RTC once. Before the scheduler starts there is one thread; its start reads
/// the RTC first, so two threads never race here.
fn ensure_wall_clock() {
    if !WALL_CLOCK_READ.swap(true, Ordering::AcqRel) {
        read_real_time_clock();
    }
}

/// Reads the PL031 RTC (ARM DDI 0224, RTCDR at offset 0: seconds since the epoch, as
/// QEMU sets it from the host) through an uncached mapping of its page.
fn read_real_time_clock() {
    let Some(registers) = platform().real_time_clock else {
        return;
    };
    let page = registers.start & !(PAGE_SIZE - 1);
    // SAFETY: the device's own register page, which nothing else maps (paging.rs maps
    // only the UARTs and the GIC).
    if unsafe { map_page(page, page, PageAccess::Device) }.is_err() {
        return;
    }
    // SAFETY: RTCDR, a 32-bit read-only register of the page just mapped.
    let seconds = unsafe { core::ptr::read_volatile(registers.start as *const u32) };
    let since_boot = monotonic_nanoseconds();
    let wall = u64::from(seconds) * 1_000_000_000;
    BOOT_WALL_CLOCK.store(wall.saturating_sub(since_boot), Ordering::Relaxed);
}

// ---- GIC ----

static GIC_V3: AtomicBool = AtomicBool::new(false);
static DISTRIBUTOR: AtomicU64 = AtomicU64::new(0);
/// GICv2: the CPU interface; GICv3: the first redistributor.
static CPU_INTERFACE: AtomicU64 = AtomicU64::new(0);
static TIMER_INTERRUPT: AtomicU32 = AtomicU32::new(27);

fn write32(address: u64, value: u32) {
    // SAFETY: a GIC register inside a block the device tree named, mapped Device-nGnRnE
    // by paging.rs.
    unsafe { core::ptr::write_volatile(address as *mut u32, value) }
}

fn read32(address: u64) -> u32 {
    // SAFETY: as in write32.
    unsafe { core::ptr::read_volatile(address as *const u32) }
}

fn write8(address: u64, value: u8) {
    // SAFETY: as in write32 (GICD/GICR_IPRIORITYR are byte-accessible).
    unsafe { core::ptr::write_volatile(address as *mut u8, value) }
}

/// What the timer interrupt calls (the scheduler's handler), registered when the
/// scheduler starts, so that the vector table does not pull the scheduler into every
/// image.
static TIMER_HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Sets the GIC and the virtual timer up; the timer interrupt calls `on_timer`.
///
/// # Safety
/// Once, interrupts off, after boot mapped the GIC's registers.
pub unsafe fn initialize_timer(on_timer: fn()) -> Result<(), &'static str> {
    // black_box: with whole-program LTO, LLVM would otherwise call the one handler ever
    // stored directly, linking the scheduler into every image.
    TIMER_HANDLER.store(
        core::hint::black_box(on_timer as *mut ()),
        Ordering::Release,
    );
    ensure_wall_clock();
    let platform = platform();
    let Some(controller) = platform.interrupt_controller else {
        return Err("the device tree names no interrupt controller");
    };
    if controller.region_count < 2 {
        return Err("the interrupt controller has too few register blocks");
    }
    if let Some(timer) = platform.timer
        && timer.interrupt_count > 2
    {
        TIMER_INTERRUPT.store(timer.interrupt_ids[2], Ordering::Relaxed);
    }
    let intid = TIMER_INTERRUPT.load(Ordering::Relaxed);
    if !(16..32).contains(&intid) {
        return Err("the virtual timer's interrupt is not a PPI");
    }
    let distributor = controller.regions[0].start;
    let second = controller.regions[1].start;
    DISTRIBUTOR.store(distributor, Ordering::Relaxed);
    CPU_INTERFACE.store(second, Ordering::Relaxed);
    // The timer off until the scheduler programs it.
    // SAFETY: CNTV_CTL_EL0 is writable at EL1.
    unsafe { core::arch::asm!("msr cntv_ctl_el0, {}", in(reg) 0u64, options(nostack)) };
    match controller.version {
        GicVersion::V2 => {
            // GICD_CTLR: forward interrupts; GICD_IPRIORITYR: a middle priority;
            // GICD_ISENABLER0: enable the PPI; GICC_PMR: let every priority through;
            // GICC_CTLR: signal them (IHI 0048B, 4.3 and 4.4).
            write32(distributor, 1);
            write8(distributor + 0x400 + u64::from(intid), 0x80);
            write32(distributor + 0x100, 1 << intid);
            write32(second + 0x004, 0xff);
            write32(second, 1);
        }
        GicVersion::V3 => {
            GIC_V3.store(true, Ordering::Relaxed);
            // GICD_CTLR: ARE_NS (4) | EnableGrp1NS (1) (IHI 0069, 12.9.4).
            write32(distributor, (1 << 4) | (1 << 1));
            // GICR_WAKER: clear ProcessorSleep, wait for ChildrenAsleep to clear.
            write32(second + 0x14, read32(second + 0x14) & !(1 << 1));
            while read32(second + 0x14) & (1 << 2) != 0 {
                core::hint::spin_loop();
            }
            // The SGI/PPI frame, 64 KiB after the redistributor's control frame.
            let frame = second + 0x1_0000;
            write32(frame + 0x80, read32(frame + 0x80) | (1 << intid));
            write8(frame + 0x400 + u64::from(intid), 0x80);
            write32(frame + 0x100, 1 << intid);
            // SAFETY: ICC_SRE_EL1.SRE, ICC_PMR_EL1 and ICC_IGRPEN1_EL1 at EL1 (IHI 0069
            // 12.2): system-register interface, all priorities, group 1 on.
            unsafe {
                core::arch::asm!(
                    "mrs {tmp}, S3_0_C12_C12_5",
                    "orr {tmp}, {tmp}, #1",
                    "msr S3_0_C12_C12_5, {tmp}",
                    "isb",
                    "mov {tmp}, #0xff",
                    "msr S3_0_C4_C6_0, {tmp}",
                    "mov {tmp}, #1",
                    "msr S3_0_C12_C12_7, {tmp}",
                    "isb",
                    tmp = out(reg) _,
                    options(nostack),
                );
            }
        }
    }
    Ok(())
}

fn acknowledge() -> u32 {
    if GIC_V3.load(Ordering::Relaxed) {
        let id: u64;
        // SAFETY: ICC_IAR1_EL1 read at EL1.
        unsafe { core::arch::asm!("mrs {}, S3_0_C12_C12_0", out(reg) id, options(nostack)) };
        id as u32
    } else {
        read32(CPU_INTERFACE.load(Ordering::Relaxed) + 0x00c)
    }
}

fn end_of_interrupt(id: u32) {
    if GIC_V3.load(Ordering::Relaxed) {
        // SAFETY: ICC_EOIR1_EL1 write at EL1, with the acknowledged id.
        unsafe {
            core::arch::asm!("msr S3_0_C12_C12_1, {}", in(reg) u64::from(id), options(nostack))
        };
    } else {
        write32(CPU_INTERFACE.load(Ordering::Relaxed) + 0x010, id);
    }
}

/// Programs one timer interrupt at monotonic time `deadline`, or none.
pub fn set_timer(deadline: Option<u64>) {
    match deadline {
        None => {
            // SAFETY: disabling the EL1 virtual timer.
            unsafe { core::arch::asm!("msr cntv_ctl_el0, {}", in(reg) 0u64, options(nostack)) };
        }
        Some(nanoseconds) => {
            let ticks = u128::from(nanoseconds) * u128::from(counter_frequency()) / 1_000_000_000;
            let ticks = u64::try_from(ticks).unwrap_or(u64::MAX);
            // SAFETY: compare value, then enable with the interrupt unmasked (CTL = 1).
            unsafe {
                core::arch::asm!(
                    "msr cntv_cval_el0, {ticks}",
                    "msr cntv_ctl_el0, {enable}",
                    "isb",
                    ticks = in(reg) ticks,
                    enable = in(reg) 1u64,
                    options(nostack),
                )
            };
        }
    }
}

/// The IRQ handler, on the interrupted thread's stack with IRQs masked.
#[unsafe(no_mangle)]
extern "C" fn unik_aarch64_irq() {
    let id = acknowledge() & 0xff_ffff;
    // 1020-1023: special (spurious) ids, no end of interrupt (IHI 0069 2.2.1).
    if id >= 1020 {
        return;
    }
    if id == TIMER_INTERRUPT.load(Ordering::Relaxed) {
        // Level-triggered: quiet the timer before ending the interrupt; the scheduler
        // programs the next one.
        set_timer(None);
        end_of_interrupt(id);
        let handler = TIMER_HANDLER.load(Ordering::Acquire);
        if !handler.is_null() {
            // SAFETY: only `initialize_timer` stores here, and it stores a `fn()`.
            let handler: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(handler) };
            handler();
        }
    } else {
        let handler = DEVICE_HANDLERS
            .iter()
            .find(|(line, _)| line.load(Ordering::Acquire) == id)
            .map(|(_, handler)| handler.load(Ordering::Acquire));
        if let Some(handler) = handler
            && !handler.is_null()
        {
            // SAFETY: only `route_device_interrupt` stores here, and it stores a `fn()`.
            let handler: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(handler) };
            // The handler quiets its (level-triggered) device before the end of
            // interrupt, so the line does not fire again at once.
            handler();
        }
        end_of_interrupt(id);
    }
}

/// Device interrupts with a handler: (INTID, handler), INTID 0 when free.
static DEVICE_HANDLERS: [(AtomicU32, AtomicPtr<()>); 4] =
    [const { (AtomicU32::new(0), AtomicPtr::new(core::ptr::null_mut())) }; 4];

/// Enables the shared peripheral interrupt `intid` at the distributor, level
/// sensitive, routed to this CPU, and calls `handler` when it fires.
///
/// # Safety
/// Interrupts off, after `initialize_timer` set the GIC up.
pub unsafe fn route_device_interrupt(intid: u32, handler: fn()) -> Result<(), &'static str> {
    if !(32..1020).contains(&intid) {
        return Err("the device's interrupt is not a shared peripheral interrupt");
    }
    let slot = DEVICE_HANDLERS
        .iter()
        .find(|(line, _)| line.load(Ordering::Relaxed) == 0)
        .ok_or("no free device interrupt slot")?;
    slot.1.store(handler as *mut (), Ordering::Release);
    slot.0.store(intid, Ordering::Release);
    let distributor = DISTRIBUTOR.load(Ordering::Relaxed);
    let word = u64::from(intid / 32) * 4;
    let bit = 1u32 << (intid % 32);
    // GICD_ICFGR: 0b00 in the interrupt's field = level sensitive (IHI 0069 12.9.9);
    // virtio-mmio's line is a level.
    let configuration = distributor + 0xc00 + u64::from(intid / 16) * 4;
    write32(
        configuration,
        read32(configuration) & !(3 << ((intid % 16) * 2)),
    );
    write8(distributor + 0x400 + u64::from(intid), 0x80);
    if GIC_V3.load(Ordering::Relaxed) {
        // GICD_IGROUPR: group 1 (non-secure); GICD_IROUTER: affinity 0.0.0.0 (this CPU).
        write32(
            distributor + 0x080 + word,
            read32(distributor + 0x080 + word) | bit,
        );
        let router = distributor + 0x6000 + 8 * u64::from(intid);
        write32(router, 0);
        write32(router + 4, 0);
    } else {
        // GICD_ITARGETSR: CPU interface 0 (IHI 0048B 4.3.12).
        write8(distributor + 0x800 + u64::from(intid), 1);
    }
    // GICD_ISENABLER.
    write32(distributor + 0x100 + word, bit);
    Ok(())
}

/// No PCI bus is driven on aarch64: QEMU virt's virtio devices are found as virtio-mmio
/// transports in the device tree. The type has no values.
pub enum PciConfiguration {}

impl virtio_drivers::transport::pci::bus::ConfigurationAccess for PciConfiguration {
    fn read_word(&self, _: virtio_drivers::transport::pci::bus::DeviceFunction, _: u8) -> u32 {
        match *self {}
    }

    fn write_word(
        &mut self,
        _: virtio_drivers::transport::pci::bus::DeviceFunction,
        _: u8,
        _: u32,
    ) {
        match *self {}
    }

    unsafe fn unsafe_clone(&self) -> Self {
        match *self {}
    }
}

pub fn pci_configuration() -> Option<PciConfiguration> {
    None
}

/// Message-signalled interrupts need a GIC ITS or v2m frame, which the runtime does not
/// drive (no PCI device uses them here).
pub fn route_message_interrupt(_handler: fn()) -> Result<(u64, u32), &'static str> {
    Err("message-signalled interrupts are not supported on aarch64")
}

/// Maps device registers (identity, Device-nGnRnE) for a driver: the final tables map
/// only the UARTs, the GIC and the RTC.
pub fn map_device(address: u64, length: u64) -> Result<(), MappingError> {
    let mut page = address & !(PAGE_SIZE - 1);
    while page < address.saturating_add(length) {
        // SAFETY: device registers the device tree describes: memory nothing else maps;
        // the same page twice (neighbouring transports) reports AlreadyMapped.
        match unsafe { map_page(page, page, PageAccess::Device) } {
            Ok(()) | Err(MappingError::AlreadyMapped) => {}
            Err(error) => return Err(error),
        }
        page += PAGE_SIZE;
    }
    Ok(())
}

/// The device tree's virtio-mmio transports.
pub fn virtio_mmio_transports() -> impl Iterator<Item = crate::network::VirtioMmio> {
    super::boot::platform()
        .virtio_mmio
        .iter()
        .flatten()
        .map(|node| crate::network::VirtioMmio {
            address: node.registers.start,
            size: node.registers.end - node.registers.start,
            line: node.interrupt_id,
        })
}

core::arch::global_asm!(
    r#"
    .pushsection .text.unik_aarch64_threads, "ax", %progbits
    .globl unik_aarch64_irq_entry
    .balign 4
unik_aarch64_irq_entry:
    /* On the interrupted thread's stack (SP_EL0; no red zone on AArch64). */
    msr spsel, #0
    sub sp, sp, #272
    stp x0, x1, [sp, #0]
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x0, elr_el1
    stp x30, x0, [sp, #240]
    mrs x0, spsr_el1
    str x0, [sp, #256]
    sub sp, sp, #528
    stp q0, q1, [sp, #0]
    stp q2, q3, [sp, #32]
    stp q4, q5, [sp, #64]
    stp q6, q7, [sp, #96]
    stp q8, q9, [sp, #128]
    stp q10, q11, [sp, #160]
    stp q12, q13, [sp, #192]
    stp q14, q15, [sp, #224]
    stp q16, q17, [sp, #256]
    stp q18, q19, [sp, #288]
    stp q20, q21, [sp, #320]
    stp q22, q23, [sp, #352]
    stp q24, q25, [sp, #384]
    stp q26, q27, [sp, #416]
    stp q28, q29, [sp, #448]
    stp q30, q31, [sp, #480]
    mrs x0, fpcr
    mrs x1, fpsr
    add x2, sp, #512
    stp x0, x1, [x2]
    mov x29, #0
    bl unik_aarch64_irq
    add x2, sp, #512
    ldp x0, x1, [x2]
    msr fpcr, x0
    msr fpsr, x1
    ldp q0, q1, [sp, #0]
    ldp q2, q3, [sp, #32]
    ldp q4, q5, [sp, #64]
    ldp q6, q7, [sp, #96]
    ldp q8, q9, [sp, #128]
    ldp q10, q11, [sp, #160]
    ldp q12, q13, [sp, #192]
    ldp q14, q15, [sp, #224]
    ldp q16, q17, [sp, #256]
    ldp q18, q19, [sp, #288]
    ldp q20, q21, [sp, #320]
    ldp q22, q23, [sp, #352]
    ldp q24, q25, [sp, #384]
    ldp q26, q27, [sp, #416]
    ldp q28, q29, [sp, #448]
    ldp q30, q31, [sp, #480]
    add sp, sp, #528
    ldp x30, x0, [sp, #240]
    msr elr_el1, x0
    ldr x0, [sp, #256]
    msr spsr_el1, x0
    ldp x0, x1, [sp, #0]
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    add sp, sp, #272
    eret

    /* unik_aarch64_switch(from: *mut usize (x0), to: usize (x1)) */
    .globl unik_aarch64_switch
    .balign 4
unik_aarch64_switch:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldr x9, [sp, #160]
    msr fpcr, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #176
    ret

    /* A new thread's first code: the switch "returns" here with the start function in
       x19 and its argument in x20. */
    .globl unik_aarch64_thread_trampoline
    .balign 4
unik_aarch64_thread_trampoline:
    mov x29, #0
    mov x30, #0
    mov x0, x20
    blr x19
    brk #0
    .popsection
"#
);

unsafe extern "C" {
    fn unik_aarch64_switch(from: *mut usize, to: usize);
    static unik_aarch64_thread_trampoline: u8;
}

/// # Safety
/// As the interface: interrupts off, `to` a saved or prepared stack pointer.
pub unsafe fn switch(from: *mut usize, to: usize) {
    // SAFETY: the caller's contract is the assembly's.
    unsafe { unik_aarch64_switch(from, to) }
}

/// # Safety
/// `stack_top` is the 16-byte aligned top of a mapped stack used by nothing else.
pub unsafe fn prepare_stack(
    stack_top: usize,
    start: unsafe extern "C" fn(usize) -> !,
    argument: usize,
) -> usize {
    let trampoline = crate::symbol_address!(unik_aarch64_thread_trampoline) as usize;
    // What unik_aarch64_switch pops: x19 (start), x20 (argument), x21-x28, x29, x30
    // (the trampoline), d8-d15, FPCR (0: round to nearest, no traps), padding.
    let mut words = [0usize; 22];
    words[0] = start as usize;
    words[1] = argument;
    words[11] = trampoline;
    let saved = stack_top - words.len() * 8;
    // SAFETY: the caller guarantees these words are this stack's, unused.
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), saved as *mut usize, words.len()) };
    saved
}

pub fn disable_interrupts() -> bool {
    let flags: u64;
    // SAFETY: reads DAIF and masks IRQs (DAIF.I, bit 7); a compiler barrier.
    unsafe {
        core::arch::asm!("mrs {}, daif", "msr daifset, #2", out(reg) flags, options(nostack))
    };
    flags & (1 << 7) == 0
}

pub fn enable_interrupts() {
    // SAFETY: unmasks IRQs; the vector is installed and the GIC set up before any
    // caller (the scheduler starts the timer first).
    unsafe { core::arch::asm!("msr daifclr, #2", options(nostack)) };
}

pub fn restore_interrupts(enabled: bool) {
    if enabled {
        enable_interrupts();
    }
}

/// WFI wakes on a pending interrupt even while IRQs are masked (Arm ARM D1.6.2), so
/// waiting masked and unmasking afterwards loses no wakeup.
pub fn wait_for_interrupt() {
    // SAFETY: waits, then lets the pending interrupt be taken (its handler may switch
    // threads) and masks again.
    unsafe {
        core::arch::asm!(
            "wfi",
            "msr daifclr, #2",
            "isb",
            "msr daifset, #2",
            options(nostack)
        )
    };
}

static CPU_LOCAL: AtomicUsize = AtomicUsize::new(0);

/// One CPU: a static (SMP will use TPIDR_EL1 once the nested-exception vectors stop
/// using it as scratch).
///
/// # Safety
/// `block` lives for the rest of the run.
pub unsafe fn set_cpu_local(block: usize) {
    CPU_LOCAL.store(block, Ordering::Relaxed);
}

pub fn cpu_local() -> usize {
    CPU_LOCAL.load(Ordering::Relaxed)
}

pub fn thread_pointer() -> usize {
    let value: usize;
    // SAFETY: reads TPIDR_EL0.
    unsafe { core::arch::asm!("mrs {}, tpidr_el0", out(reg) value, options(nomem, nostack)) };
    value
}

pub fn set_thread_pointer(thread_pointer: usize) {
    // SAFETY: the scheduler passes a thread's own TCB, valid while the thread lives.
    unsafe { super::cpu::set_thread_pointer(thread_pointer as u64) };
}

/// The libc's per-thread words: the 512 zeroed bytes below the thread pointer
/// (runtime/README.md, "Thread pointer (aarch64)").
pub fn thread_data_area() -> usize {
    thread_pointer() - RESERVED_BELOW_THREAD_POINTER as usize
}

/// The allocation: the libc's 512 bytes, then TCB + block at the thread pointer.
fn tls_offsets() -> Option<(u64, u64, u64)> {
    let template = super::image::tls_template();
    if !template.alignment.is_power_of_two() {
        return None;
    }
    let alignment = template.alignment.max(16);
    let reserved = align_up(RESERVED_BELOW_THREAD_POINTER, alignment)?;
    let block_offset = align_up(THREAD_CONTROL_BLOCK_SIZE, template.alignment)?;
    let size = reserved
        .checked_add(block_offset)?
        .checked_add(template.memory_size)?;
    Some((size, alignment, reserved))
}

pub fn tls_layout() -> Option<(usize, usize)> {
    let (size, alignment, _) = tls_offsets()?;
    Some((size as usize, alignment as usize))
}

/// # Safety
/// `allocation` has [`tls_layout`]'s size and alignment, writable, unused.
pub unsafe fn initialize_tls(allocation: *mut u8) -> usize {
    let template = super::image::tls_template();
    let (size, _, reserved) = tls_offsets().unwrap_or((0, 16, 0));
    let thread_pointer = allocation as usize + reserved as usize;
    let block_offset = align_up(THREAD_CONTROL_BLOCK_SIZE, template.alignment).unwrap_or(16);
    // SAFETY: inside the caller's allocation of `size` bytes.
    unsafe {
        core::ptr::write_bytes(allocation, 0, size as usize);
        core::ptr::copy_nonoverlapping(
            template.initialized.as_ptr(),
            (thread_pointer + block_offset as usize) as *mut u8,
            template.initialized.len(),
        );
    }
    thread_pointer
}

pub fn boot_stack() -> (usize, usize) {
    let stack = super::image::boot_stack();
    (stack.start as usize, stack.end as usize)
}

// ---- runtime mapping (Arm ARM D8.3, 4 KiB granule, 39-bit VA from level 1) ----

const VALID: u64 = 1 << 0;
const TABLE_OR_PAGE: u64 = 1 << 1;
const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;
const ATTRIBUTE_INDEX_SHIFT: u64 = 2;
const INNER_SHAREABLE: u64 = 3 << 8;
const ACCESSED: u64 = 1 << 10;
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;

static MAPPING_LOCK: AtomicBool = AtomicBool::new(false);

fn lock_mapping() {
    while MAPPING_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
}

fn unlock_mapping() {
    MAPPING_LOCK.store(false, Ordering::Release);
}

fn level_1_table() -> u64 {
    let base: u64;
    // SAFETY: reads TTBR0_EL1 (the identity map's tables).
    unsafe { core::arch::asm!("mrs {}, ttbr0_el1", out(reg) base, options(nomem, nostack)) };
    base & ADDRESS_MASK
}

/// The level-3 entry for `address`, creating tables on the way when `create`.
fn leaf_entry(address: u64, create: bool) -> Result<Option<*mut u64>, MappingError> {
    let mut table = level_1_table();
    for level in 1..=2 {
        let shift = 39 - 9 * level;
        let index = (address >> shift) & 511;
        let entry = (table + index * 8) as *mut u64;
        // SAFETY: `table` is a live translation table (identity mapped), index < 512.
        let value = unsafe { entry.read_volatile() };
        if value & VALID == 0 {
            if !create {
                return Ok(None);
            }
            let layout =
                core::alloc::Layout::from_size_align(PAGE_SIZE as usize, PAGE_SIZE as usize)
                    .map_err(|_| MappingError::OutOfMemory)?;
            // SAFETY: a non-zero-sized layout.
            let new_table = unsafe { alloc::alloc::alloc_zeroed(layout) } as u64;
            if new_table == 0 {
                return Err(MappingError::OutOfMemory);
            }
            // SAFETY: as above; the new table is zeroed (all invalid) before it is linked.
            unsafe {
                core::arch::asm!("dsb ishst", options(nostack));
                entry.write_volatile(new_table | VALID | TABLE_OR_PAGE);
            }
            table = new_table;
        } else if value & TABLE_OR_PAGE == 0 {
            // A block mapping: RAM or a device, never a stack slot.
            return Err(MappingError::AlreadyMapped);
        } else {
            table = value & ADDRESS_MASK;
        }
    }
    Ok(Some((table + ((address >> 12) & 511) * 8) as *mut u64))
}

/// # Safety
/// As x86_64's: the physical page may be accessed through the new alias, and the
/// virtual page is unused.
pub unsafe fn map_page(
    virtual_address: u64,
    physical_address: u64,
    access: PageAccess,
) -> Result<(), MappingError> {
    let attribute = match access {
        PageAccess::ReadWrite => ATTRIBUTE_INDEX_NORMAL,
        PageAccess::Device => ATTRIBUTE_INDEX_DEVICE,
    };
    let descriptor = (physical_address & ADDRESS_MASK)
        | VALID
        | TABLE_OR_PAGE
        | (attribute << ATTRIBUTE_INDEX_SHIFT)
        | INNER_SHAREABLE
        | ACCESSED
        | PRIVILEGED_EXECUTE_NEVER
        | UNPRIVILEGED_EXECUTE_NEVER;
    lock_mapping();
    let result = leaf_entry(virtual_address, true).and_then(|entry| {
        let entry = entry.ok_or(MappingError::OutOfMemory)?;
        // SAFETY: the level-3 entry of a live table, under the lock.
        unsafe {
            if entry.read_volatile() & VALID != 0 {
                return Err(MappingError::AlreadyMapped);
            }
            entry.write_volatile(descriptor);
            core::arch::asm!("dsb ishst", "isb", options(nostack));
        }
        Ok(())
    });
    unlock_mapping();
    result
}

/// # Safety
/// Nothing accesses the page through this address afterwards.
pub unsafe fn unmap_page(virtual_address: u64) {
    lock_mapping();
    if let Ok(Some(entry)) = leaf_entry(virtual_address, false) {
        // SAFETY: the level-3 entry of a live table, under the lock; then the TLB
        // entry goes (break-before-make, Arm ARM D8.16.1).
        unsafe {
            entry.write_volatile(0);
            core::arch::asm!(
                "dsb ishst",
                "tlbi vaae1is, {page}",
                "dsb ish",
                "isb",
                page = in(reg) virtual_address >> 12,
                options(nostack),
            );
        }
    }
    unlock_mapping();
}

pub fn is_mapped(address: u64) -> bool {
    if MAPPING_LOCK
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    let mapped = matches!(leaf_entry(address, false), Ok(Some(entry))
        // SAFETY: a level-3 entry of a live table, under the lock.
        if unsafe { entry.read_volatile() } & VALID != 0);
    unlock_mapping();
    mapped
}

/// 64 bits from the CPU's hardware random source, `None` without one (the seed of
/// `crate::random`'s generator).
pub fn hardware_random() -> Option<u64> {
    super::cpu::hardware_random()
}
