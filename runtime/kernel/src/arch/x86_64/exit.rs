//! Ending the virtual machine with a status (runtime/README.md, "Exit statuses").
//!
//! QEMU's `isa-debug-exit` device (port 0xf4) ends QEMU with `(value << 1) | 1`, which
//! loses the top bit of the status, so the exact status first goes as the text
//! `exit N\n` to the debug console port 0xe9 (QEMU `isa-debugcon`), where `unik run`
//! reads it.

use ::x86_64::instructions::port::Port;

use crate::report::{ErrorConsole, Sink, Write};

const DEBUG_CONSOLE_PORT: u16 = 0xe9;
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// When the boot found no ACPI power-off (acpi.rs): the PM1a control block of QEMU's
/// q35 (ICH9, PMBASE 0x600) and of older `pc` machines (PIIX4, 0xb000), whose DSDTs
/// give `\_S5` sleep type 0 (ACPI 6.4, 4.8.3.2.1 "PM1 Control Registers").
const ACPI_PM1A_CONTROL_PORTS: [u16; 2] = [0x604, 0xb004];
/// PM1 control SLP_EN (bit 13); SLP_TYP is bits 10..13.
const ACPI_SLEEP_ENABLE: u16 = 1 << 13;

/// QEMU's debug console (port 0xe9) as a message sink.
struct DebugConsole;

impl Sink for DebugConsole {
    fn bytes(&mut self, bytes: &[u8]) {
        let mut port = Port::<u8>::new(DEBUG_CONSOLE_PORT);
        for &byte in bytes {
            // SAFETY: port 0xe9 is QEMU's debug console or unassigned; writing it
            // touches no memory.
            unsafe { port.write(byte) };
        }
    }
}

/// Ends the run with `status`: debug console line, then the exit device. Where there
/// is no exit device (another hypervisor, bare metal), prints the status on the
/// console, powers off through ACPI (S5, with the FADT and `\_S5` found at boot), and
/// halts if that did not work.
pub fn exit(status: u8) -> ! {
    DebugConsole.text("exit ").decimal(status.into()).text("\n");
    let mut debug_exit = Port::<u32>::new(DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit (configured with iosize=4) or
    // unassigned; with the device present this ends the VM.
    unsafe { debug_exit.write(u32::from(status)) };

    // QEMU (since 9.x) ends the VM asynchronously after the write: the CPU runs on for
    // a moment. Give it that moment before deciding there is no exit device, so that
    // the fallback message below never appears on a machine that has one.
    wait_for_exit_device();

    // Still running: no exit device on this machine.
    ErrorConsole
        .text("unik: exit status ")
        .decimal(status.into())
        .text("\n");
    if let Some(controls) = super::acpi::power_off_controls() {
        let mut control = Port::<u16>::new(controls.control_port);
        // SAFETY: the FADT names this port as the PM1a control block; writing SLP_TYP
        // with SLP_EN enters the sleep state, here S5 (off). It touches no memory.
        unsafe { control.write((controls.sleep_type << 10) | ACPI_SLEEP_ENABLE) };
        wait_for_exit_device();
    }
    for port in ACPI_PM1A_CONTROL_PORTS {
        let mut control = Port::<u16>::new(port);
        // SAFETY: on QEMU these are the ACPI PM1a control ports; elsewhere they are
        // unassigned legacy ports. Writing SLP_EN asks for power-off and touches no memory.
        unsafe { control.write(ACPI_SLEEP_ENABLE) };
    }
    halt_forever()
}

/// The 8042 keyboard controller: status port (bit 1: input buffer full) and the
/// command that pulses the CPU reset line (Intel 8042 "pulse output port", 0xfe).
const KEYBOARD_CONTROLLER_STATUS: u16 = 0x64;
const KEYBOARD_CONTROLLER_INPUT_FULL: u8 = 1 << 1;
const KEYBOARD_CONTROLLER_PULSE_RESET: u8 = 0xfe;
/// The chipset's reset control register (PIIX3/ICH "RST_CNT" at 0xcf9): bit 1 system
/// reset, bit 2 reset CPU (the write that acts), bit 3 full (cold) reset.
const RESET_CONTROL_PORT: u16 = 0xcf9;
const RESET_CONTROL_SYSTEM: u8 = 0x02;
const RESET_CONTROL_CPU_FULL: u8 = 0x0c;

/// Resets the machine (lib.rs `reboot`): `reboot` on the debug console for `unik run`,
/// then the ACPI reset register (when the FADT has one), the 8042's reset pulse, the
/// 0xcf9 reset control, and a triple fault, each given a moment to act (Linux's
/// `reboot=` methods acpi, kbd, pci, triple, in its default order).
pub fn reboot() -> ! {
    DebugConsole.text("reboot\n");
    ::x86_64::instructions::interrupts::disable();
    if let Some(reset) = super::acpi::reset_register() {
        // SAFETY: the FADT names this I/O port and value as the machine's reset
        // (ACPI 6.4, 4.8.3.6 "Reset Register"); resetting is the intent.
        unsafe { Port::<u8>::new(reset.port).write(reset.value) };
        wait_for_exit_device();
    }
    let mut keyboard_status = Port::<u8>::new(KEYBOARD_CONTROLLER_STATUS);
    for _ in 0..100_000 {
        // SAFETY: reading the 8042's status touches no memory (0xff without one).
        if unsafe { keyboard_status.read() } & KEYBOARD_CONTROLLER_INPUT_FULL == 0 {
            break;
        }
        core::hint::spin_loop();
    }
    // SAFETY: the 8042's command port (or nothing); 0xfe pulses the reset line.
    unsafe { keyboard_status.write(KEYBOARD_CONTROLLER_PULSE_RESET) };
    wait_for_exit_device();
    let mut reset_control = Port::<u8>::new(RESET_CONTROL_PORT);
    // SAFETY: the chipset's reset control register (or nothing): the first write
    // selects a system reset, the second starts it.
    unsafe {
        reset_control.write(RESET_CONTROL_SYSTEM);
        reset_control.write(RESET_CONTROL_SYSTEM | RESET_CONTROL_CPU_FULL);
    }
    wait_for_exit_device();
    // SAFETY: an empty IDT makes the breakpoint a triple fault, which resets the CPU;
    // nothing runs after it.
    unsafe { super::descriptors::triple_fault() };
    crate::console::write_err(b"unik: reboot failed: the machine did not reset\n");
    exit(1)
}

/// About 0.1 s at 1 GHz: far longer than QEMU takes to act on isa-debug-exit, short
/// enough not to matter where there is no such device.
const EXIT_DEVICE_WAIT_TICKS: u64 = 100_000_000;

/// Spins (with `pause`) for [`EXIT_DEVICE_WAIT_TICKS`] time-stamp counter ticks.
fn wait_for_exit_device() {
    // SAFETY: RDTSC is always available in ring 0 (CR4.TSD only restricts ring 3).
    let start = unsafe { core::arch::x86_64::_rdtsc() };
    // SAFETY: as above.
    while unsafe { core::arch::x86_64::_rdtsc() }.wrapping_sub(start) < EXIT_DEVICE_WAIT_TICKS {
        core::hint::spin_loop();
    }
}

/// Stops the CPU for good: interrupts off, then `hlt` in a loop (an NMI would resume it).
pub fn halt_forever() -> ! {
    loop {
        ::x86_64::instructions::interrupts::disable();
        ::x86_64::instructions::hlt();
    }
}
