//! Ending the virtual machine with a status (runtime/README.md, "Exit statuses").
//!
//! QEMU's semihosting (Arm "Semihosting for AArch32 and AArch64", release 2.0): on
//! AArch64 a call is `hlt #0xf000` with the operation in w0 and a parameter in x1.
//! The kernel writes `exit N\n` with SYS_WRITE0 (0x04), which QEMU sends to the
//! chardev named by `-semihosting-config …,chardev=` (the status file `unik run`
//! reads, like x86_64's debugcon), then calls SYS_EXIT (0x18) with the parameter block
//! {ADP_Stopped_ApplicationExit, N}: QEMU exits with status N exactly.
//!
//! Without `-semihosting-config enable=on`, `hlt` is an undefined instruction. So the
//! first thing the boot path does in Rust is a probe, SYS_ERRNO (0x13, no side
//! effects): the exception handler recognises a trap at [`semihosting_trap_address`],
//! notes that semihosting is absent and resumes after it. The probe runs at boot, in
//! normal code, rather than at exit, because `exit` is also called from the crash
//! report, inside the exception handler, where a trap could not be resumed. Without
//! semihosting, `exit` prints `unik: exit status N` on the error console and powers
//! off through PSCI SYSTEM_OFF (the conduit, `hvc` or `smc`, from the device tree).
//! The Raspberry Pi has no PSCI (its firmware parks the secondary cores on a spin
//! table): there the power-management watchdog resets the SoC with the boot partition
//! set to 63, which the firmware takes as "halt" (what Linux's poweroff does on the Pi:
//! drivers/watchdog/bcm2835_wdt.c); QEMU `raspi4b` shuts down on it.

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use super::device_tree::PsciConduit;
use crate::report::{Buffer, ErrorConsole, Write};

const SYS_WRITE0: u64 = 0x04;
const SYS_ERRNO: u64 = 0x13;
const SYS_EXIT: u64 = 0x18;
/// Semihosting 2.0, 5.5.2 "SYS_EXIT": the reason code for a normal application exit.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;

/// PSCI 1.0 (Arm DEN 0022), 5.1.9 "SYSTEM_OFF" and 5.1.10 "SYSTEM_RESET": function
/// IDs, SMC32 convention.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;

/// Set by the exception handler when the semihosting probe trapped.
static SEMIHOSTING_ABSENT: AtomicBool = AtomicBool::new(false);

const CONDUIT_NONE: u8 = 0;
const CONDUIT_HVC: u8 = 1;
const CONDUIT_SMC: u8 = 2;
static PSCI_CONDUIT: AtomicU8 = AtomicU8::new(CONDUIT_NONE);

/// The BCM2835 power-management block's registers (0: none).
static WATCHDOG: AtomicU64 = AtomicU64::new(0);

// BCM2835 power-management watchdog registers and values (Linux
// drivers/watchdog/bcm2835_wdt.c): every write carries the password in the top byte.
const PM_RSTC: u64 = 0x1c;
const PM_RSTS: u64 = 0x20;
const PM_WDOG: u64 = 0x24;
const PM_PASSWORD: u32 = 0x5a00_0000;
const PM_PASSWORD_MASK: u32 = 0xff00_0000;
/// RSTC.WRCFG (bits 5:4) = full reset when the watchdog expires.
const PM_RSTC_WRCFG_MASK: u32 = 0x30;
const PM_RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// RSTS: boot partition 63 (its bits are spread over the even bits 0-10): halt.
const PM_RSTS_PARTITION_HALT: u32 = 0x555;
/// Watchdog ticks (about 16 µs each) before the reset.
const PM_WDOG_TICKS: u32 = 10;

/// Records the board's power-management watchdog (found in the device tree).
pub fn set_watchdog(registers: Option<u64>) {
    WATCHDOG.store(registers.unwrap_or(0), Ordering::Relaxed);
}

/// Records the PSCI conduit found in the device tree.
pub fn set_psci_conduit(conduit: Option<PsciConduit>) {
    let value = match conduit {
        None => CONDUIT_NONE,
        Some(PsciConduit::HypervisorCall) => CONDUIT_HVC,
        Some(PsciConduit::SecureMonitorCall) => CONDUIT_SMC,
    };
    PSCI_CONDUIT.store(value, Ordering::Relaxed);
}

// The semihosting call: one `hlt`, at a known address so the exception handler can
// tell the probe's trap from a real undefined instruction.
core::arch::global_asm!(
    r#"
    .pushsection .text.unik_semihosting, "ax", %progbits
    .globl unik_semihosting_call
    .type unik_semihosting_call, %function
unik_semihosting_call:
    .globl unik_semihosting_trap
unik_semihosting_trap:
    hlt #0xf000
    ret
    .size unik_semihosting_call, . - unik_semihosting_call
    .popsection
"#
);

unsafe extern "C" {
    /// Semihosting call: x0 = operation, x1 = parameter; returns x0.
    fn unik_semihosting_call(operation: u64, parameter: u64) -> u64;
    static unik_semihosting_trap: u8;
}

/// The address of the probe's `hlt` (for the exception handler).
pub fn semihosting_trap_address() -> u64 {
    crate::symbol_address!(unik_semihosting_trap)
}

/// Finds out whether QEMU's semihosting is on. Called once, first thing at boot (the
/// vector table is installed by then).
pub fn probe_semihosting() {
    // SAFETY: SYS_ERRNO only returns the host's last errno; if semihosting is off the
    // `hlt` traps and the handler resumes after it, setting SEMIHOSTING_ABSENT.
    unsafe { unik_semihosting_call(SYS_ERRNO, 0) };
}

/// Whether semihosting answered the probe (for the boot log).
pub fn has_semihosting() -> bool {
    !SEMIHOSTING_ABSENT.load(Ordering::Relaxed)
}

/// Called by the exception handler when the `hlt` trapped.
pub fn note_semihosting_absent() {
    SEMIHOSTING_ABSENT.store(true, Ordering::Relaxed);
}

/// Ends the run with `status`: semihosting when QEMU offers it, otherwise a console
/// line and PSCI power-off.
pub fn exit(status: u8) -> ! {
    // "exit 255\n" plus the NUL SYS_WRITE0 needs is 10 bytes: always fits.
    let mut line = Buffer::<16>::new();
    line.text("exit ").decimal(status.into()).text("\n\0");
    if !SEMIHOSTING_ABSENT.load(Ordering::Relaxed) {
        // SAFETY: semihosting answered the boot probe; SYS_WRITE0 reads the
        // NUL-terminated string at x1 (on this stack, mapped).
        unsafe { unik_semihosting_call(SYS_WRITE0, line.as_bytes().as_ptr() as u64) };
        let parameters: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, u64::from(status)];
        // SAFETY: SYS_EXIT reads the two-word block at x1 and ends QEMU with `status`.
        unsafe { unik_semihosting_call(SYS_EXIT, parameters.as_ptr() as u64) };
    }

    // Still running: no semihosting on this machine.
    ErrorConsole
        .text("unik: exit status ")
        .decimal(status.into())
        .text("\n");
    system_off();
    watchdog_halt();
    halt_forever()
}

/// Resets the machine (lib.rs `reboot`): `reboot` on the semihosting status channel
/// for `unik run`, then PSCI SYSTEM_RESET, then the Raspberry Pi's watchdog with boot
/// partition 0 (a normal boot; Linux's bcm2835_restart). Still running after a moment:
/// reports it and ends the run with status 1.
pub fn reboot() -> ! {
    if !SEMIHOSTING_ABSENT.load(Ordering::Relaxed) {
        // SAFETY: semihosting answered the boot probe; SYS_WRITE0 reads the
        // NUL-terminated string at x1 (a static, mapped).
        unsafe { unik_semihosting_call(SYS_WRITE0, c"reboot\n".as_ptr() as u64) };
    }
    psci_call(PSCI_SYSTEM_RESET);
    watchdog_reset(0);
    // The watchdog fires after PM_WDOG_TICKS (about 160 µs): wait well past that.
    let counter_frequency = super::threading::counter_frequency();
    let start = super::cpu::virtual_counter();
    while super::cpu::virtual_counter().wrapping_sub(start) < counter_frequency / 10 {
        core::hint::spin_loop();
    }
    crate::console::write_err(b"unik: reboot failed: the machine did not reset\n");
    exit(1)
}

/// Halts a Raspberry Pi through its watchdog (see the module documentation). Returns
/// only if there is no watchdog (or the reset has not happened yet).
fn watchdog_halt() {
    watchdog_reset(PM_RSTS_PARTITION_HALT);
}

/// Resets a Raspberry Pi through its watchdog, the firmware booting `partition` (its
/// bits spread over RSTS's even bits 0-10; 63 = halt, 0 = the normal boot). Returns
/// only if there is no watchdog (or the reset has not happened yet).
fn watchdog_reset(partition: u32) {
    let base = WATCHDOG.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    let register = |offset: u64| (base + offset) as *mut u32;
    // SAFETY: `base` is the power-management block from the device tree, mapped as
    // device memory by both the bootstrap and the final tables (boot.rs); these are
    // its documented 32-bit registers, and resetting the board is the intent.
    unsafe {
        let status = core::ptr::read_volatile(register(PM_RSTS));
        core::ptr::write_volatile(
            register(PM_RSTS),
            (status & !(PM_PASSWORD_MASK | PM_RSTS_PARTITION_HALT)) | PM_PASSWORD | partition,
        );
        core::ptr::write_volatile(register(PM_WDOG), PM_PASSWORD | PM_WDOG_TICKS);
        let control = core::ptr::read_volatile(register(PM_RSTC));
        core::ptr::write_volatile(
            register(PM_RSTC),
            (control & !(PM_PASSWORD_MASK | PM_RSTC_WRCFG_MASK))
                | PM_PASSWORD
                | PM_RSTC_WRCFG_FULL_RESET,
        );
    }
}

/// PSCI SYSTEM_OFF through the device tree's conduit. Returns only if there is no PSCI
/// (or it refused).
fn system_off() {
    psci_call(PSCI_SYSTEM_OFF);
}

/// A PSCI call without arguments (SYSTEM_OFF, SYSTEM_RESET) through the device tree's
/// conduit. Returns only if there is no PSCI (or it refused).
fn psci_call(function: u64) {
    match PSCI_CONDUIT.load(Ordering::Relaxed) {
        CONDUIT_HVC => {
            // SAFETY: the device tree says PSCI answers `hvc`; SYSTEM_OFF and
            // SYSTEM_RESET do not return on success. SMCCC 1.1 lets the call clobber
            // x0-x17.
            unsafe {
                core::arch::asm!("hvc #0", inout("x0") function => _, clobber_abi("C"));
            }
        }
        CONDUIT_SMC => {
            // SAFETY: as above, with `smc`.
            unsafe {
                core::arch::asm!("smc #0", inout("x0") function => _, clobber_abi("C"));
            }
        }
        _ => {}
    }
}

/// Stops the CPU for good: every interrupt masked, then `wfi` in a loop.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: masking interrupts and waiting touch no memory.
        unsafe { core::arch::asm!("msr daifset, #0xf", "wfi", options(nomem, nostack)) };
    }
}
