//! 16550 UARTs on the legacy I/O ports: COM1 (0x3f8) carries stdout and stdin, COM2
//! (0x2f8) stderr when the machine has one.
//!
//! Register offsets and bits from the National Semiconductor PC16550D data sheet
//! (table "UART register addressing"): polled mode, no interrupts.

use core::sync::atomic::{AtomicBool, Ordering};

use ::x86_64::instructions::port::Port;

/// Which console stream a write is for.
#[derive(Clone, Copy)]
pub enum Channel {
    /// stdout (COM1).
    Output,
    /// stderr (COM2, or COM1 when there is no COM2).
    Error,
}

const COM1: u16 = 0x3f8;
const COM2: u16 = 0x2f8;

// Register offsets from the UART's base port.
/// Receiver buffer (read) / transmitter holding register (write); divisor latch low with DLAB.
const DATA: u16 = 0;
/// Interrupt enable; divisor latch high with DLAB.
const INTERRUPT_ENABLE: u16 = 1;
/// FIFO control (write).
const FIFO_CONTROL: u16 = 2;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;
/// Scratch register: holds any byte; reading back what was written proves a UART is there.
const SCRATCH: u16 = 7;

const LINE_CONTROL_DIVISOR_LATCH_ACCESS: u8 = 0x80;
/// 8 data bits, no parity, 1 stop bit.
const LINE_CONTROL_8N1: u8 = 0x03;
/// FIFOs off. Turning them on flushes the receive buffer (16550D: changing FCR bit 0
/// clears both FIFOs), which loses input that arrived before boot (QEMU delivers a
/// piped stdin at once). In polled mode without FIFOs QEMU holds further input back
/// until the byte is read, so nothing is lost.
const FIFO_DISABLED: u8 = 0x00;
/// DTR and RTS asserted: some hosts only listen when the modem lines are up.
const MODEM_CONTROL_DTR_RTS: u8 = 0x03;
const LINE_STATUS_DATA_READY: u8 = 0x01;
const LINE_STATUS_TRANSMIT_HOLDING_EMPTY: u8 = 0x20;
/// 115200 baud from the 1.8432 MHz reference clock: divisor 1.
const DIVISOR_115200_BAUD: u8 = 1;

/// Set at boot when the scratch register test finds the UART.
static COM1_PRESENT: AtomicBool = AtomicBool::new(false);
static COM2_PRESENT: AtomicBool = AtomicBool::new(false);

/// One 16550 at a base I/O port.
struct Uart {
    base: u16,
}

impl Uart {
    fn read_register(&self, offset: u16) -> u8 {
        let mut port = Port::<u8>::new(self.base + offset);
        // SAFETY: reading a 16550 register has no effect on memory; on a machine without
        // the device the read returns 0xff and nothing else happens.
        unsafe { port.read() }
    }

    fn write_register(&self, offset: u16, value: u8) {
        let mut port = Port::<u8>::new(self.base + offset);
        // SAFETY: these legacy serial ports belong to the UART (or to nothing); writing
        // them has no effect on memory.
        unsafe { port.write(value) }
    }

    /// Whether a UART answers at this base: the scratch register keeps what is written.
    fn is_present(&self) -> bool {
        [0x5a, 0xa5].iter().all(|&pattern| {
            self.write_register(SCRATCH, pattern);
            self.read_register(SCRATCH) == pattern
        })
    }

    /// Polled mode, 115200 8N1, no FIFOs.
    fn initialize(&self) {
        self.write_register(INTERRUPT_ENABLE, 0);
        self.write_register(LINE_CONTROL, LINE_CONTROL_DIVISOR_LATCH_ACCESS);
        self.write_register(DATA, DIVISOR_115200_BAUD);
        self.write_register(INTERRUPT_ENABLE, 0);
        self.write_register(LINE_CONTROL, LINE_CONTROL_8N1);
        self.write_register(FIFO_CONTROL, FIFO_DISABLED);
        self.write_register(MODEM_CONTROL, MODEM_CONTROL_DTR_RTS);
    }

    fn write(&self, bytes: &[u8]) {
        for &byte in bytes {
            while self.read_register(LINE_STATUS) & LINE_STATUS_TRANSMIT_HOLDING_EMPTY == 0 {
                core::hint::spin_loop();
            }
            self.write_register(DATA, byte);
        }
    }

    fn has_data(&self) -> bool {
        self.read_register(LINE_STATUS) & LINE_STATUS_DATA_READY != 0
    }
}

/// Finds and sets up the UARTs. Called first thing at boot, before any message.
pub fn initialize() {
    for (base, present) in [(COM1, &COM1_PRESENT), (COM2, &COM2_PRESENT)] {
        let uart = Uart { base };
        if uart.is_present() {
            uart.initialize();
            present.store(true, Ordering::Relaxed);
        }
    }
}

/// Whether stderr has its own UART (COM2; otherwise it shares COM1 with stdout).
pub fn has_error_channel() -> bool {
    COM2_PRESENT.load(Ordering::Relaxed)
}

/// Writes bytes unchanged to the channel's UART. Before [`initialize`] (or on a machine
/// without any UART) the bytes still go to COM1: a missing device ignores them, and the
/// transmit-empty bit of a missing device reads as set (0xff), so this never blocks.
pub fn write(channel: Channel, bytes: &[u8]) {
    let base = match channel {
        Channel::Error if COM2_PRESENT.load(Ordering::Relaxed) => COM2,
        Channel::Output | Channel::Error => COM1,
    };
    Uart { base }.write(bytes);
}

/// Whether a byte waits in COM1 (false without COM1: end of input).
pub fn input_pending() -> bool {
    COM1_PRESENT.load(Ordering::Relaxed) && Uart { base: COM1 }.has_data()
}

/// Reads from COM1: waits (polling, with `pause`) until a byte arrives, then takes all
/// that are already there, up to `buffer.len()`. Returns 0 for an empty buffer, or
/// when there is no COM1 (a missing device would read as an endless stream of 0xff).
pub fn read(buffer: &mut [u8]) -> usize {
    if buffer.is_empty() || !COM1_PRESENT.load(Ordering::Relaxed) {
        return 0;
    }
    let uart = Uart { base: COM1 };
    while !uart.has_data() {
        core::hint::spin_loop();
    }
    let mut count = 0;
    while count < buffer.len() && uart.has_data() {
        buffer[count] = uart.read_register(DATA);
        count += 1;
    }
    count
}
