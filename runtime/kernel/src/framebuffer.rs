//! The console's copy on a screen: when the loader handed over a framebuffer (x86_64
//! GRUB, the Multiboot2 framebuffer tag), everything written to stdout and stderr is
//! also drawn there — EGA text cells written directly, or 8x16 character cells drawn on
//! a linear RGB framebuffer with the `font8x8` crate's glyphs (each glyph row twice).
//! Lines scroll up at the bottom.
//!
//! The boot path only keeps a copy of what the loader said; `arch::framebuffer`
//! decodes it. The decoding and the drawing are the `framebuffer-console` component's
//! (runtime/components.toml), linked only into images built with `unikcc
//! --framebuffer-console`: its init function calls [`start_console`], which maps the
//! framebuffer and installs the console mirror. No other code refers to them, so other
//! images do not carry them.
//!
//! Output is a terminal's: `\n` starts the next line at its first column, `\r` goes to
//! the first column, `\t` to the next multiple of 8, backspace one column back; other
//! control bytes and escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL/ST`) are
//! not drawn; a UTF-8 sequence shows as one `?` (the font has ASCII only).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Where a colour channel's bits are in an RGB pixel (Multiboot2 3.6.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    pub position: u8,
    pub size: u8,
}

/// What the framebuffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// EGA text: 16-bit cells, character in the low byte, attribute in the high one;
    /// width and height count characters.
    Text,
    /// Direct colour pixels of `bits_per_pixel` (16, 24 or 32).
    Rgb {
        red: Channel,
        green: Channel,
        blue: Channel,
    },
}

/// A framebuffer the loader set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framebuffer {
    /// Physical address of the first byte.
    pub address: u64,
    /// Bytes from one line (of pixels, or of text cells) to the next.
    pub pitch: u32,
    pub width: u32,
    pub height: u32,
    pub bits_per_pixel: u8,
    pub format: Format,
}

impl Framebuffer {
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        u64::from(self.pitch) * u64::from(self.height)
    }

    /// Whether the console can be drawn on it: a text or 16/24/32-bit RGB layout whose
    /// lines fit their pitch and that holds at least one character cell.
    pub fn is_usable(&self) -> bool {
        let bytes_per_unit = match self.format {
            Format::Text => 2,
            Format::Rgb { .. } => match self.bits_per_pixel {
                16 | 24 | 32 => u64::from(self.bits_per_pixel / 8),
                _ => return false,
            },
        };
        let (columns, rows) = self.cells();
        self.address != 0
            && columns > 0
            && rows > 0
            && u64::from(self.width) * bytes_per_unit <= u64::from(self.pitch)
    }

    /// Columns and rows of character cells.
    pub fn cells(&self) -> (u32, u32) {
        match self.format {
            Format::Text => (self.width, self.height),
            Format::Rgb { .. } => (self.width / CELL_WIDTH, self.height / CELL_HEIGHT),
        }
    }
}

/// A character cell on an RGB framebuffer: the 8x8 glyph, each row drawn twice.
pub const CELL_WIDTH: u32 = 8;
pub const CELL_HEIGHT: u32 = 16;

/// EGA attributes: light grey on black for stdout, light red on black for stderr.
const TEXT_ATTRIBUTE_OUTPUT: u8 = 0x07;
const TEXT_ATTRIBUTE_ERROR: u8 = 0x0c;

/// A place to draw: `bytes` is the framebuffer's memory (mapped).
pub struct Screen<'a> {
    framebuffer: Framebuffer,
    bytes: &'a mut [u8],
    column: u32,
    row: u32,
    escape: Escape,
}

/// Where the parser is in an escape or UTF-8 sequence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// Inside `ESC [`, until a final byte 0x40..=0x7e.
    ControlSequence,
    /// Inside `ESC ]`, until BEL or `ESC \`.
    OperatingSystemCommand,
    /// ESC inside an OSC: `\` ends it.
    OperatingSystemCommandEnding,
    /// Continuation bytes of a UTF-8 sequence still to skip.
    Utf8(u8),
}

impl<'a> Screen<'a> {
    /// A screen over `bytes` (at least `framebuffer.size()` bytes), cleared (what the
    /// firmware and the loader showed goes), cursor at the top left.
    pub fn new(framebuffer: Framebuffer, bytes: &'a mut [u8]) -> Option<Self> {
        if !framebuffer.is_usable() || (bytes.len() as u64) < framebuffer.size() {
            return None;
        }
        let mut screen = Self {
            framebuffer,
            bytes,
            column: 0,
            row: 0,
            escape: Escape::None,
        };
        let (_, rows) = framebuffer.cells();
        for row in 0..rows {
            screen.clear_row(row);
        }
        Some(screen)
    }

    /// Blanks one row of cells.
    fn clear_row(&mut self, row: u32) {
        let pitch = self.framebuffer.pitch as usize;
        let row = row as usize;
        match self.framebuffer.format {
            Format::Text => {
                for cell in self.bytes[row * pitch..(row + 1) * pitch].chunks_exact_mut(2) {
                    cell.copy_from_slice(&[b' ', TEXT_ATTRIBUTE_OUTPUT]);
                }
            }
            Format::Rgb { .. } => {
                let line = pitch * CELL_HEIGHT as usize;
                self.bytes[row * line..(row + 1) * line].fill(0);
            }
        }
    }

    /// The cursor: (column, row).
    pub fn cursor(&self) -> (u32, u32) {
        (self.column, self.row)
    }

    /// Draws `text`; `error` picks stderr's colour.
    pub fn write(&mut self, text: &[u8], error: bool) {
        for &byte in text {
            self.put(byte, error);
        }
    }

    fn put(&mut self, byte: u8, error: bool) {
        match self.escape {
            Escape::Start => {
                self.escape = match byte {
                    b'[' => Escape::ControlSequence,
                    b']' => Escape::OperatingSystemCommand,
                    _ => Escape::None,
                };
                return;
            }
            Escape::ControlSequence => {
                if (0x40..=0x7e).contains(&byte) {
                    self.escape = Escape::None;
                }
                return;
            }
            Escape::OperatingSystemCommand => {
                self.escape = match byte {
                    0x07 => Escape::None,
                    0x1b => Escape::OperatingSystemCommandEnding,
                    _ => Escape::OperatingSystemCommand,
                };
                return;
            }
            Escape::OperatingSystemCommandEnding => {
                self.escape = if byte == b'\\' {
                    Escape::None
                } else {
                    Escape::OperatingSystemCommand
                };
                return;
            }
            Escape::Utf8(left) if byte & 0xc0 == 0x80 => {
                self.escape = if left > 1 {
                    Escape::Utf8(left - 1)
                } else {
                    Escape::None
                };
                return;
            }
            Escape::Utf8(_) | Escape::None => self.escape = Escape::None,
        }
        let (columns, _) = self.framebuffer.cells();
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.column = 0,
            b'\t' => {
                self.column = (self.column / 8 + 1) * 8;
                if self.column >= columns {
                    self.new_line();
                }
            }
            0x08 => self.column = self.column.saturating_sub(1),
            0x1b => self.escape = Escape::Start,
            0x20..=0x7e => self.draw(byte, error),
            // A UTF-8 lead byte: one `?` for the whole sequence.
            0xc0..=0xf7 => {
                self.escape = Escape::Utf8(match byte {
                    0xc0..=0xdf => 1,
                    0xe0..=0xef => 2,
                    _ => 3,
                });
                self.draw(b'?', error);
            }
            0x80..=0xbf | 0xf8..=0xff => self.draw(b'?', error),
            _ => {}
        }
    }

    /// Draws one character at the cursor and moves it on (wrapping at the line's end).
    fn draw(&mut self, character: u8, error: bool) {
        let (columns, _) = self.framebuffer.cells();
        if self.column >= columns {
            self.new_line();
        }
        let framebuffer = self.framebuffer;
        match framebuffer.format {
            Format::Text => {
                let offset = (self.row * framebuffer.pitch + self.column * 2) as usize;
                let attribute = if error {
                    TEXT_ATTRIBUTE_ERROR
                } else {
                    TEXT_ATTRIBUTE_OUTPUT
                };
                self.store(offset, &[character, attribute]);
            }
            Format::Rgb { red, green, blue } => {
                let glyph = font8x8::legacy::BASIC_LEGACY[usize::from(character & 0x7f)];
                // Foreground: light grey (stdout) or light red (stderr); black behind.
                let foreground = if error {
                    pixel(&[(red, 0xff), (green, 0x55), (blue, 0x55)])
                } else {
                    pixel(&[(red, 0xaa), (green, 0xaa), (blue, 0xaa)])
                };
                let bytes_per_pixel = usize::from(framebuffer.bits_per_pixel / 8);
                for line in 0..CELL_HEIGHT {
                    let bits = glyph[(line / 2) as usize];
                    let y = self.row * CELL_HEIGHT + line;
                    for x in 0..CELL_WIDTH {
                        // font8x8: bit 0 is the leftmost pixel.
                        let value = if bits & (1 << x) != 0 { foreground } else { 0 };
                        let offset = (y * framebuffer.pitch) as usize
                            + ((self.column * CELL_WIDTH + x) as usize) * bytes_per_pixel;
                        self.store(offset, &value.to_le_bytes()[..bytes_per_pixel]);
                    }
                }
            }
        }
        self.column += 1;
    }

    fn store(&mut self, offset: usize, value: &[u8]) {
        if let Some(slot) = self.bytes.get_mut(offset..offset + value.len()) {
            slot.copy_from_slice(value);
        }
    }

    /// Moves the cursor to the next line's start, scrolling when it was the last.
    fn new_line(&mut self) {
        let (_, rows) = self.framebuffer.cells();
        self.column = 0;
        if self.row + 1 < rows {
            self.row += 1;
            return;
        }
        // Every line moves up by one cell; the last one is cleared.
        let pitch = self.framebuffer.pitch as usize;
        let line = match self.framebuffer.format {
            Format::Text => pitch,
            Format::Rgb { .. } => pitch * CELL_HEIGHT as usize,
        };
        self.bytes.copy_within(line..line * rows as usize, 0);
        self.clear_row(rows - 1);
    }
}

/// A pixel value with each channel's top `size` bits of the 8-bit intensity.
fn pixel(channels: &[(Channel, u8)]) -> u32 {
    channels.iter().fold(0, |value, &(channel, intensity)| {
        let size = channel.size.min(8);
        let bits = u32::from(intensity) >> (8 - size);
        value | bits.checked_shl(u32::from(channel.position)).unwrap_or(0)
    })
}

/// The screen the console mirror draws on, behind a spin lock.
struct LockedScreen {
    locked: AtomicBool,
    screen: UnsafeCell<Option<Screen<'static>>>,
}

// SAFETY: `screen` is only touched by the holder of `locked` (see `with`).
unsafe impl Sync for LockedScreen {}

impl LockedScreen {
    /// Runs `action` on the screen with the lock held; gives up (the text stays on the
    /// serial console only) after [`LOCK_ATTEMPTS`] tries.
    fn with(&self, action: impl FnOnce(&mut Option<Screen<'static>>)) {
        let mut attempts = 0;
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            attempts += 1;
            if attempts == LOCK_ATTEMPTS {
                return;
            }
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held: this is the only reference to the screen.
        action(unsafe { &mut *self.screen.get() });
        self.locked.store(false, Ordering::Release);
    }
}

static SCREEN: LockedScreen = LockedScreen {
    locked: AtomicBool::new(false),
    screen: UnsafeCell::new(None),
};
/// How long a writer waits for another (preempted) one before dropping its text from
/// the screen (the serial console still has it): a crash report from inside a write
/// must not wait forever.
const LOCK_ATTEMPTS: u32 = 1 << 24;

/// Maps the framebuffer the loader handed over and mirrors the console onto it from
/// now on. Does nothing without one (or when it cannot be mapped: the serial console
/// goes on alone). Called once, by the `framebuffer-console` component's init.
#[cfg(not(test))]
pub fn start_console() {
    let Some(framebuffer) = crate::arch::framebuffer() else {
        return;
    };
    if crate::is_verbose() {
        log(&framebuffer);
    }
    if !framebuffer.is_usable() {
        return;
    }
    if crate::arch::threading::map_device(framebuffer.address, framebuffer.size()).is_err() {
        return;
    }
    // SAFETY: the framebuffer's pages are identity mapped read-write from now on (just
    // above) and belong to the display: no other code refers to them.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut(framebuffer.address as *mut u8, framebuffer.size() as usize)
    };
    let Some(screen) = Screen::new(framebuffer, bytes) else {
        return;
    };
    SCREEN.with(|slot| *slot = Some(screen));
    crate::console::set_mirror(mirror);
}

/// The `unik.verbose` line about the framebuffer.
#[cfg(not(test))]
fn log(framebuffer: &Framebuffer) {
    use crate::report::{ErrorConsole, Write};
    let kind = match framebuffer.format {
        _ if !framebuffer.is_usable() => "not usable for the console",
        Format::Text => "EGA text",
        Format::Rgb { .. } => "RGB",
    };
    ErrorConsole
        .text("unik: framebuffer at ")
        .hex(framebuffer.address)
        .text(": ")
        .decimal(framebuffer.width.into())
        .text("x")
        .decimal(framebuffer.height.into())
        .text(", ")
        .decimal(framebuffer.bits_per_pixel.into())
        .text(" bits per pixel, pitch ")
        .decimal(framebuffer.pitch.into())
        .text(", ")
        .text(kind)
        .text("\n");
}

/// The console mirror: draws what went to stdout (`error` false) or stderr.
fn mirror(bytes: &[u8], error: bool) {
    SCREEN.with(|slot| {
        if let Some(screen) = slot {
            screen.write(bytes, error);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_framebuffer(columns: u32, rows: u32) -> Framebuffer {
        Framebuffer {
            address: 0xb8000,
            pitch: columns * 2,
            width: columns,
            height: rows,
            bits_per_pixel: 16,
            format: Format::Text,
        }
    }

    /// The cells of a `columns` x `rows` text screen after `writes` (text, is stderr).
    fn text_screen(columns: u32, rows: u32, writes: &[(&[u8], bool)]) -> Vec<u8> {
        let framebuffer = text_framebuffer(columns, rows);
        let mut bytes = vec![0u8; framebuffer.size() as usize];
        let mut screen = Screen::new(framebuffer, &mut bytes).unwrap();
        for (text, error) in writes {
            screen.write(text, *error);
        }
        bytes
    }

    fn text_of(bytes: &[u8], columns: usize, row: usize) -> String {
        bytes[row * columns * 2..(row + 1) * columns * 2]
            .chunks_exact(2)
            .map(|cell| if cell[0] == 0 { ' ' } else { cell[0] as char })
            .collect::<String>()
            .trim_end()
            .to_string()
    }

    #[test]
    fn text_cells_get_characters_and_attributes() {
        let framebuffer = text_framebuffer(10, 3);
        let mut bytes = vec![0u8; framebuffer.size() as usize];
        let mut screen = Screen::new(framebuffer, &mut bytes).unwrap();
        screen.write(b"ab\r\nc", false);
        screen.write(b"E", true);
        assert_eq!(screen.cursor(), (2, 1));
        assert_eq!(&bytes[..4], &[b'a', 0x07, b'b', 0x07]);
        assert_eq!(&bytes[20..24], &[b'c', 0x07, b'E', 0x0c]);
    }

    #[test]
    fn lines_wrap_and_scroll() {
        let bytes = text_screen(4, 2, &[(b"one\ntwo\nthreefour", false)]);
        assert_eq!(text_of(&bytes, 4, 0), "efou");
        assert_eq!(text_of(&bytes, 4, 1), "r");
    }

    #[test]
    fn escapes_tabs_backspace_and_utf8() {
        let bytes = text_screen(
            20,
            2,
            &[(
                b"\x1b]unik;start\x07\x1b[1;31mA\tB\x08C\xc3\xa9D\x1b]x\x1b\\E",
                false,
            )],
        );
        assert_eq!(text_of(&bytes, 20, 0), "A       C?DE");
    }

    #[test]
    fn rgb_glyphs_are_the_font_doubled_in_height() {
        let channel = |position| Channel { position, size: 8 };
        let framebuffer = Framebuffer {
            address: 0x8000_0000,
            pitch: 16 * 4 + 8,
            width: 16,
            height: 32,
            bits_per_pixel: 32,
            format: Format::Rgb {
                red: channel(16),
                green: channel(8),
                blue: channel(0),
            },
        };
        assert_eq!(framebuffer.cells(), (2, 2));
        let mut bytes = vec![0u8; framebuffer.size() as usize];
        let mut screen = Screen::new(framebuffer, &mut bytes).unwrap();
        screen.write(b"\nxH", false);
        let glyph = font8x8::legacy::BASIC_LEGACY[usize::from(b'H')];
        for y in 0..16 {
            for x in 0..8 {
                let offset = (16 + y) * framebuffer.pitch as usize + (8 + x) * 4;
                let value = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap());
                let lit = glyph[y / 2] & (1 << x) != 0;
                assert_eq!(value, if lit { 0x00aa_aaaa } else { 0 }, "({x}, {y})");
            }
        }
    }

    #[test]
    fn unusable_layouts_are_refused() {
        let mut framebuffer = text_framebuffer(80, 25);
        assert!(framebuffer.is_usable());
        framebuffer.pitch = 100;
        assert!(!framebuffer.is_usable());
        let rgb = Framebuffer {
            address: 0xfd00_0000,
            pitch: 1024,
            width: 256,
            height: 8,
            bits_per_pixel: 8,
            format: Format::Rgb {
                red: Channel {
                    position: 0,
                    size: 3,
                },
                green: Channel {
                    position: 3,
                    size: 3,
                },
                blue: Channel {
                    position: 6,
                    size: 2,
                },
            },
        };
        assert!(!rgb.is_usable(), "8 bits per pixel");
        assert_eq!(
            pixel(&[(
                Channel {
                    position: 11,
                    size: 5
                },
                0xff
            )]),
            0x1f << 11
        );
    }
}
