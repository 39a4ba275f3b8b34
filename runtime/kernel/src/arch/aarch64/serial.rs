//! PL011 UARTs: the one `/chosen/stdout-path` names carries stdout and stdin, a second
//! one (QEMU `virt` has it when given two `-serial` options) stderr.
//!
//! Registers from the Arm PrimeCell UART (PL011) Technical Reference Manual (DDI 0183),
//! 3.2 "Summary of registers": polled mode, no interrupts.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::memory::PhysicalRange;

/// Which console stream a write is for.
#[derive(Clone, Copy)]
pub enum Channel {
    /// stdout (the device tree's stdout UART).
    Output,
    /// stderr (the second UART, or the stdout one when there is no second).
    Error,
}

/// QEMU `virt`'s first PL011 (hw/arm/virt.c, `VIRT_UART`): the console until the
/// device tree has been read, so that a missing or broken device tree can still be
/// reported. The bootstrap map covers it as device memory on `virt`; where it falls in
/// the image's GiB of RAM (the Raspberry Pi 4) there is no early console.
pub const EARLY_UART_ADDRESS: u64 = 0x0900_0000;

// Register offsets (PL011 TRM 3.2).
const DATA: usize = 0x00;
const FLAGS: usize = 0x18;
const LINE_CONTROL: usize = 0x2c;
const CONTROL: usize = 0x30;
const INTERRUPT_MASK: usize = 0x38;

/// UARTFR: transmit FIFO full (or holding register full without FIFOs).
const FLAGS_TRANSMIT_FULL: u32 = 1 << 5;
/// UARTFR: receive FIFO empty.
const FLAGS_RECEIVE_EMPTY: u32 = 1 << 4;
/// UARTLCR_H: 8 data bits (WLEN = 0b11), no parity, one stop bit, FIFOs off. FIFOs
/// stay off like on x86_64's 16550: switching them on (FEN) flushes input QEMU may
/// already have delivered; in polled mode without FIFOs QEMU holds further input back
/// until the byte is read, so nothing is lost.
const LINE_CONTROL_8N1: u32 = 0b11 << 5;
/// UARTCR: UARTEN (bit 0), TXE (bit 8), RXE (bit 9).
const CONTROL_ENABLE: u32 = 1;
const CONTROL_TRANSMIT_RECEIVE_ENABLE: u32 = (1 << 8) | (1 << 9);

/// Base addresses of the stdout and stderr UARTs (0: none).
static OUTPUT_UART: AtomicU64 = AtomicU64::new(EARLY_UART_ADDRESS);
static ERROR_UART: AtomicU64 = AtomicU64::new(0);

/// One PL011, by the physical (= virtual) address of its register block.
struct Pl011 {
    base: u64,
}

impl Pl011 {
    fn register(&self, offset: usize) -> *mut u32 {
        (self.base as usize + offset) as *mut u32
    }

    fn read_register(&self, offset: usize) -> u32 {
        // SAFETY: `base` is a PL011 register block from the device tree (or QEMU virt's
        // known UART), mapped as device memory by both the bootstrap and final tables;
        // the offset is one of the documented 32-bit registers.
        unsafe { core::ptr::read_volatile(self.register(offset)) }
    }

    fn write_register(&self, offset: usize, value: u32) {
        // SAFETY: as in `read_register`; the registers written here only change the
        // UART's own state.
        unsafe { core::ptr::write_volatile(self.register(offset), value) }
    }

    /// Polled mode, 8N1, transmitter and receiver on. A UART that firmware already
    /// enabled is left as it is (its baud rate belongs to the board); QEMU's ignores
    /// the baud rate.
    fn initialize(&self) {
        if self.read_register(CONTROL) & CONTROL_ENABLE != 0 {
            return;
        }
        self.write_register(INTERRUPT_MASK, 0);
        self.write_register(LINE_CONTROL, LINE_CONTROL_8N1);
        self.write_register(CONTROL, CONTROL_ENABLE | CONTROL_TRANSMIT_RECEIVE_ENABLE);
    }

    fn write(&self, bytes: &[u8]) {
        for &byte in bytes {
            while self.read_register(FLAGS) & FLAGS_TRANSMIT_FULL != 0 {
                core::hint::spin_loop();
            }
            self.write_register(DATA, u32::from(byte));
        }
    }

    fn has_data(&self) -> bool {
        self.read_register(FLAGS) & FLAGS_RECEIVE_EMPTY == 0
    }
}

/// Switches the console to the UARTs the device tree describes (`None`: the machine
/// has none; output is then dropped and input is at its end).
pub fn configure(output: Option<u64>, error: Option<u64>) {
    for base in [output, error].into_iter().flatten() {
        Pl011 { base }.initialize();
    }
    OUTPUT_UART.store(output.unwrap_or(0), Ordering::Relaxed);
    ERROR_UART.store(error.unwrap_or(0), Ordering::Relaxed);
}

/// The early console's setup (QEMU virt's UART, before the device tree is read),
/// unless that address is RAM here: inside `normal`, the bootstrap map's normal memory.
pub fn initialize_early(normal: PhysicalRange) {
    if normal.contains(EARLY_UART_ADDRESS) {
        OUTPUT_UART.store(0, Ordering::Relaxed);
        return;
    }
    Pl011 {
        base: EARLY_UART_ADDRESS,
    }
    .initialize();
}

/// Whether stderr has its own UART (otherwise it shares stdout's).
pub fn has_error_channel() -> bool {
    ERROR_UART.load(Ordering::Relaxed) != 0
}

/// Writes bytes unchanged to the channel's UART.
pub fn write(channel: Channel, bytes: &[u8]) {
    let output = OUTPUT_UART.load(Ordering::Relaxed);
    let base = match channel {
        Channel::Error => match ERROR_UART.load(Ordering::Relaxed) {
            0 => output,
            error => error,
        },
        Channel::Output => output,
    };
    if base != 0 {
        Pl011 { base }.write(bytes);
    }
}

/// Whether a byte waits in the stdout UART (false without a UART: end of input).
pub fn input_pending() -> bool {
    let base = OUTPUT_UART.load(Ordering::Relaxed);
    base != 0 && Pl011 { base }.has_data()
}

/// Reads from the stdout UART: waits until a byte arrives, then takes all that are
/// already there, up to `buffer.len()`. Returns 0 for an empty buffer, or when there
/// is no UART (end of input).
pub fn read(buffer: &mut [u8]) -> usize {
    let base = OUTPUT_UART.load(Ordering::Relaxed);
    if buffer.is_empty() || base == 0 {
        return 0;
    }
    let uart = Pl011 { base };
    while !uart.has_data() {
        core::hint::spin_loop();
    }
    let mut count = 0;
    while count < buffer.len() && uart.has_data() {
        // The low 8 bits are the byte; bits 11:8 are error flags (framing, parity,
        // break, overrun) that a virtual UART never sets.
        buffer[count] = (uart.read_register(DATA) & 0xff) as u8;
        count += 1;
    }
    count
}
