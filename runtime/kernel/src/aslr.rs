//! Address space layout randomization: the arch-neutral part.
//!
//! Every image is a static PIE (`-pie --no-dynamic-linker -z text`, driver
//! `link::IMAGE_LINK_FLAGS`) linked at the target's load address, where the loader
//! puts it. At boot the arch code (`arch::*::aslr`) picks a random base, maps the image
//! there in its bootstrap tables, calls [`relocate`] to write every `R_*_RELATIVE`
//! word (`.relr.dyn`, and `.rela.dyn` for the unaligned ones) for the new base, and
//! continues on the new addresses; the final
//! page tables map the image only there (the read-only range, which holds the relocated
//! words, read-only: RELRO). The heap start and the initial stack pointer move by
//! random amounts too ([`heap_shift`], [`stack_shift`]).
//!
//! The jump to the new addresses is assembly in each arch: once the relocation has
//! run, an address the compiler loads from the GOT or data is already the new one,
//! while one it computes from the program counter is still the old one, so compiled
//! code must not compute the target or the new stack pointer.
//!
//! Randomness comes from the CPU (RDRAND, RNDR) and is drawn at boot, so the image file
//! stays the same for the same inputs. Without a hardware source, or with `unik.no_aslr`
//! on the command line (`unik run --no-aslr`), the image runs at its link address
//! and nothing moves.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::memory::{PAGE_SIZE, PhysicalRange};
use crate::report::{ErrorConsole, Write};

/// ELF64 relocation entry with addend (gABI "Relocation Entries").
#[repr(C)]
struct RelocationEntry {
    offset: u64,
    info: u64,
    addend: i64,
}

#[cfg(not(test))]
unsafe extern "C" {
    /// The linker scripts bracket `.rela.dyn` and `.relr.dyn` with these (equal when
    /// the section is empty, and so left out).
    static __rela_dyn_start: u8;
    static __rela_dyn_end: u8;
    static __relr_dyn_start: u8;
    static __relr_dyn_end: u8;
}

/// Where the image runs and how the heap and stack move (the arch's choice).
pub(crate) struct Layout {
    /// Run address minus link address.
    pub offset: u64,
    /// Bytes the initial stack pointer moves down.
    pub stack_shift: u64,
    /// Random bits for the heap's shift ([`heap_shift`]).
    pub heap_random: u64,
}

/// The arch's choice as its continuation's arguments: the layout (nothing moved when
/// the image stays), and the [`Disabled`] reason or 0.
pub(crate) fn or_unmoved(choice: Result<Layout, Disabled>) -> (Layout, u64) {
    match choice {
        Ok(layout) => (layout, 0),
        Err(reason) => (
            Layout {
                offset: 0,
                stack_shift: 0,
                heap_random: 0,
            },
            reason as u64,
        ),
    }
}

/// The size of the blocks the image moves by (the bootstrap tables' large pages:
/// 2 MiB with 4 KiB granules on both targets) and the entries of one table.
pub(crate) const BLOCK_SIZE: u64 = 2 << 20;
pub(crate) const TABLE_ENTRIES: u64 = 512;

/// What the arch code needs to map the image at a random base: the image's first
/// block and block count, and random bits for the base.
pub(crate) struct Placement {
    pub first_block: u64,
    pub blocks: u64,
    pub base_random: u64,
    other_random: u64,
}

/// The checks before a move (not asked off, a hardware random source, only RELATIVE
/// relocations, an image that fits one table of blocks) and the random bits.
#[cfg(not(test))]
pub(crate) fn place(
    command_line: &[u8],
    hardware_random: fn() -> Option<u64>,
    relative_type: u32,
    image: PhysicalRange,
) -> Result<Placement, Disabled> {
    if is_requested_off(command_line) {
        return Err(Disabled::Requested);
    }
    let (Some(base_random), Some(other_random)) = (hardware_random(), hardware_random()) else {
        return Err(Disabled::NoHardwareRandom);
    };
    if !only_relative(relative_type) {
        return Err(Disabled::UnsupportedRelocation);
    }
    let first_block = image.start & !(BLOCK_SIZE - 1);
    let blocks = (image.end - first_block).div_ceil(BLOCK_SIZE);
    if blocks > TABLE_ENTRIES {
        return Err(Disabled::ImageTooLarge);
    }
    Ok(Placement {
        first_block,
        blocks,
        base_random,
        other_random,
    })
}

#[cfg(not(test))]
impl Placement {
    /// Relocates the image for the block-aligned run address `base` of its first
    /// block, and draws the heap and stack shifts.
    ///
    /// # Safety
    /// As for [`relocate`]; the arch code has mapped the image at `base`.
    pub(crate) unsafe fn finish(self, base: u64) -> Layout {
        let offset = base - self.first_block;
        // SAFETY: the caller's contract; `place` checked the relocation types.
        unsafe { relocate(offset) };
        Layout {
            offset,
            stack_shift: stack_shift(self.other_random),
            heap_random: self.other_random >> 16,
        }
    }
}

/// Run address minus link address of the image (0 without ASLR).
static IMAGE_OFFSET: AtomicU64 = AtomicU64::new(0);
/// Why the image was not moved (for the warning after the console is up).
static DISABLED_REASON: AtomicU64 = AtomicU64::new(0);

/// Why a boot runs without randomization.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Disabled {
    /// `unik.no_aslr` on the command line.
    Requested = 1,
    /// The CPU has no random number instruction (RDRAND / RNDR).
    NoHardwareRandom = 2,
    /// `.rela.dyn` holds a relocation other than RELATIVE (the driver refuses those).
    UnsupportedRelocation = 3,
    /// The image is too large for the randomized window.
    ImageTooLarge = 4,
}

/// The run address of the image's first byte (its ELF header): what crash reports
/// print as the image base, and a symbolizer subtracts [`image_offset`] from.
pub fn image_base() -> u64 {
    image_start_address()
}

/// Run address minus link address (0 when the image runs where it was linked).
pub fn image_offset() -> u64 {
    IMAGE_OFFSET.load(Ordering::Relaxed)
}

/// Records where the image runs (`offset`) and why it was not moved (a [`Disabled`]
/// value, 0 when it was): the arch boot, once, right after the move.
pub(crate) fn record(offset: u64, disabled: u64) {
    IMAGE_OFFSET.store(offset, Ordering::Relaxed);
    DISABLED_REASON.store(disabled, Ordering::Relaxed);
}

/// The crash report's line that lets addresses be symbolized: where the image runs
/// and where it was linked (a return address minus the difference is the address in
/// the ELF file's symbol table).
pub(crate) fn write_image_base(console: &mut impl Write) {
    console.text("  image base ");
    write_base_and_link_address(console);
    console.text("\n");
}

/// `0x<base> (linked at 0x<link address>)`.
fn write_base_and_link_address(console: &mut impl Write) {
    console
        .hex(image_base())
        .text(" (linked at ")
        .hex(image_base().wrapping_sub(image_offset()))
        .text(")");
}

/// Tells on the error console why the image was not moved when the user did not ask
/// for it (a warning), and with `verbose` where it runs. The warning needs an error
/// console of its own: where stderr shares stdout's UART (the Raspberry Pi 4, whose
/// Cortex-A72 has no RNDR, so every boot there would carry it) the program's stdout
/// stays its own and only `verbose` tells.
pub(crate) fn report(verbose: bool) {
    let mut console = ErrorConsole;
    let why = match disabled() {
        Some(Disabled::NoHardwareRandom) => {
            Some("the CPU has no random number instruction (RDRAND / RNDR)")
        }
        Some(Disabled::UnsupportedRelocation) => {
            Some("the image has dynamic relocations other than RELATIVE")
        }
        Some(Disabled::ImageTooLarge) => Some("the image is too large to move"),
        Some(Disabled::Requested) | None => None,
    };
    if let Some(why) = why
        && (verbose || crate::arch::serial::has_error_channel())
    {
        console
            .text("unik: warning: ")
            .text(why)
            .text(": the image, heap and stack are not randomized (no ASLR)\n");
    }
    if verbose {
        console
            .text("unik: aslr: ")
            .text(if disabled().is_some() { "off" } else { "on" })
            .text(", image base ");
        write_base_and_link_address(&mut console);
        console.text("\n");
    }
}

/// Why the image was not moved, if it was not.
pub fn disabled() -> Option<Disabled> {
    match DISABLED_REASON.load(Ordering::Relaxed) {
        1 => Some(Disabled::Requested),
        2 => Some(Disabled::NoHardwareRandom),
        3 => Some(Disabled::UnsupportedRelocation),
        4 => Some(Disabled::ImageTooLarge),
        _ => None,
    }
}

/// Whether the command line asks for no randomization (`unik.no_aslr`, before `--`).
pub fn is_requested_off(command_line: &[u8]) -> bool {
    crate::command_line::has_parameter(command_line, b"unik.no_aslr")
}

#[cfg(not(test))]
fn image_start_address() -> u64 {
    unsafe extern "C" {
        static __image_start: u8;
    }
    crate::symbol_address!(__image_start)
}

#[cfg(test)]
fn image_start_address() -> u64 {
    0
}

/// The array of `T` the linker script brackets with `start` and `end`.
///
/// # Safety
/// `[start, end)` is a loaded output section (or empty, `start == end`), aligned for
/// `T` and never written, holding whole `T`s.
#[cfg(not(test))]
unsafe fn linker_table<T>(start: u64, end: u64) -> &'static [T] {
    let count = (end - start) as usize / core::mem::size_of::<T>();
    // SAFETY: the caller's contract.
    unsafe { core::slice::from_raw_parts(start as *const T, count) }
}

#[cfg(not(test))]
fn relocation_entries() -> &'static [RelocationEntry] {
    // SAFETY: `.rela.dyn`: 8-aligned (linker script), an array of Elf64_Rela.
    unsafe {
        linker_table(
            crate::symbol_address!(__rela_dyn_start),
            crate::symbol_address!(__rela_dyn_end),
        )
    }
}

#[cfg(not(test))]
fn relr_entries() -> &'static [u64] {
    // SAFETY: `.relr.dyn`: 8-aligned (linker script), an array of Elf64_Relr words.
    unsafe {
        linker_table(
            crate::symbol_address!(__relr_dyn_start),
            crate::symbol_address!(__relr_dyn_end),
        )
    }
}

/// Calls `relocate` with the address of every word a `.relr.dyn` table lists (the
/// generic ABI's SHT_RELR, "Relative relocation table"): an even entry is the
/// address of one word and sets the next address to the word after it; an odd
/// entry is a bitmap whose bit `i` (1..=63) stands for the word `i - 1` words past
/// the next address, which then moves 63 words on.
fn for_each_relr_location(entries: &[u64], mut relocate: impl FnMut(u64)) {
    const WORD: u64 = 8;
    const BITMAP_WORDS: u64 = 63;
    let mut next = 0u64;
    for &entry in entries {
        if entry & 1 == 0 {
            relocate(entry);
            next = entry.wrapping_add(WORD);
        } else {
            let mut bits = entry >> 1;
            let mut location = next;
            while bits != 0 {
                if bits & 1 != 0 {
                    relocate(location);
                }
                bits >>= 1;
                location = location.wrapping_add(WORD);
            }
            next = next.wrapping_add(BITMAP_WORDS * WORD);
        }
    }
}

/// Whether every dynamic relocation is of type `relative_type` (so [`relocate`] can
/// apply them all).
#[cfg(not(test))]
fn only_relative(relative_type: u32) -> bool {
    relocation_entries()
        .iter()
        .all(|entry| entry.info as u32 == relative_type)
}

/// Writes every RELATIVE relocation for an image that will run `offset` bytes above
/// its link address. A `.relr.dyn` word holds its link-time value (the addend is
/// implicit) and gains `offset`; the word at (link address) `entry.offset` of a
/// `.rela.dyn` entry becomes `entry.addend + offset`.
///
/// # Safety
/// The image runs at its link address, every location is writable there (the
/// bootstrap tables map the image read-write), nothing else runs, and
/// [`only_relative`] holds.
#[cfg(not(test))]
unsafe fn relocate(offset: u64) {
    // Both tables' bounds are taken before the first write: code may read a symbol's
    // address from the GOT, which the first pass already moves to the run address.
    // `black_box` keeps the compiler from reading them again after the writes.
    let (relr, rela) = core::hint::black_box((relr_entries(), relocation_entries()));
    for_each_relr_location(relr, |address| {
        let location = address as *mut u64;
        // SAFETY: the caller's contract; LLD lists in `.relr.dyn` only 8-aligned words
        // inside the image's loaded sections (`-z text`: never in code).
        unsafe { location.write_volatile(location.read_volatile().wrapping_add(offset)) };
    });
    for entry in rela {
        let location = entry.offset as *mut u64;
        // SAFETY: the caller's contract; the words LLD leaves in `.rela.dyn` are the
        // unaligned ones (a pointer in a packed struct), inside the image's loaded
        // sections (`-z text`: never in code).
        unsafe { location.write_unaligned((entry.addend as u64).wrapping_add(offset)) };
    }
}

/// A random number of whole pages to skip at the start of the heap: at most 256
/// choices (8 bits, under 1 MiB), fewer when the heap is small (it keeps at least
/// three quarters of its size).
pub fn heap_shift(heap: PhysicalRange, random: u64) -> u64 {
    // The skipped pages are lost to the allocator (the heap is identity mapped, so its
    // start is a physical one): 1 MiB at most.
    const MAX_PAGES: u64 = 1 << 8;
    let pages = (heap.len() / 4 / PAGE_SIZE).min(MAX_PAGES);
    if pages == 0 {
        return 0;
    }
    (random % pages) * PAGE_SIZE
}

/// A random 16-byte-aligned amount, below two pages (9 bits), by which the initial
/// stack pointer moves down from the top of the boot stack.
pub fn stack_shift(random: u64) -> u64 {
    (random % (2 * PAGE_SIZE / 16)) * 16
}

/// `range` moved down by `offset`: the physical place of a range of image addresses.
pub fn physical(range: PhysicalRange, offset: u64) -> PhysicalRange {
    PhysicalRange {
        start: range.start - offset,
        end: range.end - offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_shift_keeps_most_of_the_heap() {
        let heap = PhysicalRange {
            start: 0x20_0000,
            end: 0x20_0000 + 64 * PAGE_SIZE,
        };
        for random in [0, 1, 15, 16, 17, u64::MAX] {
            let shift = heap_shift(heap, random);
            assert!(shift < 16 * PAGE_SIZE, "{shift:#x}");
            assert!(shift.is_multiple_of(PAGE_SIZE));
        }
        assert_eq!(heap_shift(heap, 17), PAGE_SIZE);
        let tiny = PhysicalRange {
            start: 0,
            end: 3 * PAGE_SIZE,
        };
        assert_eq!(heap_shift(tiny, 12345), 0);
        let big = PhysicalRange {
            start: 0,
            end: 1 << 40,
        };
        assert_eq!(heap_shift(big, (1 << 8) + 3), 3 * PAGE_SIZE);
    }

    #[test]
    fn stack_shift_is_aligned_and_small() {
        for random in [0u64, 1, 255, 256, 511, 512, u64::MAX] {
            let shift = stack_shift(random);
            assert!(shift.is_multiple_of(16) && shift < 2 * PAGE_SIZE, "{shift}");
        }
        assert_eq!(stack_shift(3), 48);
        assert_eq!(stack_shift(512), 0);
    }

    fn relr_locations(entries: &[u64]) -> Vec<u64> {
        let mut found = Vec::new();
        for_each_relr_location(entries, |address| found.push(address));
        found
    }

    #[test]
    fn relr_addresses_and_bitmaps() {
        assert!(relr_locations(&[]).is_empty());
        // An address, then a bitmap of the words after it: bits 1 and 3 are the first
        // and third words past 0x1008.
        assert_eq!(relr_locations(&[0x1000, 0b1011]), [0x1000, 0x1008, 0x1018]);
        // A full bitmap covers 63 words; the next bitmap starts after them.
        let all = relr_locations(&[0x2000, u64::MAX, 0b11]);
        let expected: Vec<u64> = (0..=64).map(|word| 0x2000 + 8 * word).collect();
        assert_eq!(all, expected);
        // An empty bitmap still moves the next address on by 63 words.
        assert_eq!(
            relr_locations(&[0x3000, 1, 0b101]),
            [0x3000, 0x3000 + 8 + 63 * 8 + 8]
        );
        // A new address restarts the run.
        assert_eq!(
            relr_locations(&[0x1000, 0x5000, 0b11]),
            [0x1000, 0x5000, 0x5008]
        );
    }

    #[test]
    fn no_aslr_is_a_boot_parameter() {
        assert!(is_requested_off(b"unik.no_aslr -- app"));
        assert!(!is_requested_off(b"-- app unik.no_aslr"));
        assert!(!is_requested_off(b"unik.verbose -- app"));
    }
}
