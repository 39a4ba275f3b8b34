//! The final translation tables, built from the image's sections so each part has only
//! the access it needs (DESIGN.md decision 6): the image at its run addresses (a random
//! base with ASLR, aslr.rs; the link address without), everything else an identity map
//! (virtual = physical):
//!
//! | range | access |
//! |---|---|
//! | below the image (page 0, the device tree, …) | unmapped: a NULL or stray pointer faults |
//! | .text | read + execute |
//! | .rodata, unwind and constructor tables, TLS template | read only, execute-never |
//! | .data, .bss | read + write, execute-never |
//! | one page under each stack | unmapped: an overflow faults instead of corrupting |
//! | boot data after the image, the heap | read + write, execute-never (blocks where aligned) |
//! | the initrd (boot archive), if any | read only, execute-never |
//! | UARTs, interrupt controller | Device-nGnRnE, read + write, execute-never |
//!
//! Nothing else is mapped. SCTLR_EL1.WXN is on, so no writable page is executable
//! whatever the tables say. EL0 has no access anywhere (AP[1] = 0, UXN set).
//!
//! Format: Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats", 4 KiB
//! granule, 39-bit input addresses: the walk starts at level 1 (1 GiB per entry),
//! level 2 entries cover 2 MiB, level 3 entries 4 KiB.

use super::entry::{
    ATTRIBUTE_INDEX_DEVICE, ATTRIBUTE_INDEX_NORMAL, SCTLR_WRITE_EXECUTE_NEVER, bootstrap_normal,
};
use super::image;
use crate::memory::{BootAllocator, MemoryPlan, PAGE_SIZE, PhysicalRange};

/// What a range of the address space may be used for.
#[derive(Clone, Copy)]
pub enum Access {
    /// Code: readable and executable, never writable.
    Execute,
    /// Constants: readable only.
    Read,
    /// Data: readable and writable, never executable.
    Write,
    /// Device registers: Device-nGnRnE, readable and writable, never executable.
    Device,
}

/// Descriptor bits (D8.3): bit 0 valid, bit 1 table (levels 1-2) or page (level 3),
/// both clear for a block.
mod descriptor {
    pub const VALID: u64 = 1 << 0;
    pub const TABLE_OR_PAGE: u64 = 1 << 1;
    /// AttrIndx, bits 4:2: the MAIR_EL1 attribute.
    pub const ATTRIBUTE_INDEX_SHIFT: u64 = 2;
    /// AP[2], bit 7: read-only.
    pub const READ_ONLY: u64 = 1 << 7;
    /// SH, bits 9:8 = 0b11: inner shareable.
    pub const INNER_SHAREABLE: u64 = 3 << 8;
    /// AF, bit 10: accessed (no access-flag faults).
    pub const ACCESSED: u64 = 1 << 10;
    /// PXN, bit 53: not executable at EL1.
    pub const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
    /// UXN, bit 54: not executable at EL0.
    pub const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;
    /// Output address bits 47:12.
    pub const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;
}

const ENTRIES_PER_TABLE: usize = 512;
const LEVEL_1_BLOCK_SIZE: u64 = 1 << 30;
const LEVEL_2_BLOCK_SIZE: u64 = 1 << 21;

/// Why the tables could not be built.
pub enum PagingError {
    /// The early allocator ran out of memory (or out of the bootstrap map) for tables.
    OutOfTableFrames,
    /// A range was mapped twice with different attributes: overlapping sections (a
    /// linker script bug) or a device inside RAM.
    Overlap { address: u64 },
}

/// The leaf descriptor bits for an access kind.
fn leaf_attributes(access: Access) -> u64 {
    use descriptor::*;
    let normal = (ATTRIBUTE_INDEX_NORMAL << ATTRIBUTE_INDEX_SHIFT) | INNER_SHAREABLE | ACCESSED;
    match access {
        Access::Execute => normal | READ_ONLY | UNPRIVILEGED_EXECUTE_NEVER,
        Access::Read => normal | READ_ONLY | PRIVILEGED_EXECUTE_NEVER | UNPRIVILEGED_EXECUTE_NEVER,
        Access::Write => normal | PRIVILEGED_EXECUTE_NEVER | UNPRIVILEGED_EXECUTE_NEVER,
        Access::Device => {
            (ATTRIBUTE_INDEX_DEVICE << ATTRIBUTE_INDEX_SHIFT)
                | ACCESSED
                | PRIVILEGED_EXECUTE_NEVER
                | UNPRIVILEGED_EXECUTE_NEVER
        }
    }
}

/// Builds the tables in pages from the early allocator.
struct Builder<'allocator> {
    allocator: &'allocator mut BootAllocator,
    root: u64,
}

impl Builder<'_> {
    /// A zeroed page for a table, inside the bootstrap map (written before the switch).
    fn allocate_table(&mut self) -> Result<u64, PagingError> {
        let address = self
            .allocator
            .allocate(PAGE_SIZE)
            .ok_or(PagingError::OutOfTableFrames)?;
        if address + PAGE_SIZE > bootstrap_normal().end {
            return Err(PagingError::OutOfTableFrames);
        }
        // SAFETY: a fresh page of unused RAM from the early allocator, identity mapped
        // read-write by the bootstrap map.
        unsafe { core::ptr::write_bytes(address as *mut u8, 0, PAGE_SIZE as usize) };
        Ok(address)
    }

    /// The entry at `index` of the table at `table`.
    fn entry(table: u64, index: usize) -> *mut u64 {
        (table as usize + index * 8) as *mut u64
    }

    fn read(table: u64, index: usize) -> u64 {
        // SAFETY: `table` is a table page this builder allocated (mapped, 512 entries)
        // and `index` < 512.
        unsafe { Self::entry(table, index).read_volatile() }
    }

    fn write(table: u64, index: usize, value: u64) {
        // SAFETY: as in `read`; the tables are not active yet, so nothing walks them.
        unsafe { Self::entry(table, index).write_volatile(value) }
    }

    /// The next-level table under `table[index]`, created when missing.
    fn next_table(&mut self, table: u64, index: usize, address: u64) -> Result<u64, PagingError> {
        let entry = Self::read(table, index);
        if entry & descriptor::VALID == 0 {
            let next = self.allocate_table()?;
            Self::write(
                table,
                index,
                next | descriptor::VALID | descriptor::TABLE_OR_PAGE,
            );
            return Ok(next);
        }
        if entry & descriptor::TABLE_OR_PAGE == 0 {
            // A block already covers this address.
            return Err(PagingError::Overlap { address });
        }
        Ok(entry & descriptor::ADDRESS_MASK)
    }

    /// Writes a leaf; mapping the same page again with the same attributes is
    /// allowed (two devices sharing a page), anything else is an overlap.
    fn set_leaf(table: u64, index: usize, value: u64, address: u64) -> Result<(), PagingError> {
        let existing = Self::read(table, index);
        if existing & descriptor::VALID != 0 && existing != value {
            return Err(PagingError::Overlap { address });
        }
        Self::write(table, index, value);
        Ok(())
    }

    /// Maps the whole pages of the physical `range` at `offset` bytes above it (0: an
    /// identity map); with `large_pages` (identity maps only), 1 GiB and 2 MiB blocks
    /// where the range allows (fewer tables, fewer TLB misses for the heap).
    fn map(
        &mut self,
        range: PhysicalRange,
        offset: u64,
        access: Access,
        large_pages: bool,
    ) -> Result<(), PagingError> {
        let large_pages = large_pages && offset == 0;
        let attributes = leaf_attributes(access);
        let start = crate::memory::align_down(range.start, PAGE_SIZE);
        let end = crate::memory::align_up(range.end, PAGE_SIZE).unwrap_or(u64::MAX);
        let mut address = start;
        while address < end {
            let virtual_address = address.wrapping_add(offset);
            let level_1_index = ((virtual_address >> 30) as usize) % ENTRIES_PER_TABLE;
            let level_2_index = ((virtual_address >> 21) as usize) % ENTRIES_PER_TABLE;
            let level_3_index = ((virtual_address >> 12) as usize) % ENTRIES_PER_TABLE;
            let remaining = end - address;
            if large_pages
                && address.is_multiple_of(LEVEL_1_BLOCK_SIZE)
                && remaining >= LEVEL_1_BLOCK_SIZE
            {
                let block = address | attributes | descriptor::VALID;
                Self::set_leaf(self.root, level_1_index, block, address)?;
                address += LEVEL_1_BLOCK_SIZE;
                continue;
            }
            let level_2 = self.next_table(self.root, level_1_index, address)?;
            if large_pages
                && address.is_multiple_of(LEVEL_2_BLOCK_SIZE)
                && remaining >= LEVEL_2_BLOCK_SIZE
            {
                let block = address | attributes | descriptor::VALID;
                Self::set_leaf(level_2, level_2_index, block, address)?;
                address += LEVEL_2_BLOCK_SIZE;
                continue;
            }
            let level_3 = self.next_table(level_2, level_2_index, address)?;
            let page = address | attributes | descriptor::VALID | descriptor::TABLE_OR_PAGE;
            Self::set_leaf(level_3, level_3_index, page, address)?;
            address += PAGE_SIZE;
        }
        Ok(())
    }

    /// Removes the 4 KiB mapping of one page (a guard page). The image is mapped with
    /// pages only, so the page has a level 3 entry.
    fn unmap_page(&mut self, address: u64) {
        let level_1 = Self::read(self.root, ((address >> 30) as usize) % ENTRIES_PER_TABLE);
        if level_1 & descriptor::TABLE_OR_PAGE == 0 {
            return;
        }
        let level_2_table = level_1 & descriptor::ADDRESS_MASK;
        let level_2 = Self::read(
            level_2_table,
            ((address >> 21) as usize) % ENTRIES_PER_TABLE,
        );
        if level_2 & descriptor::TABLE_OR_PAGE == 0 {
            return;
        }
        let level_3_table = level_2 & descriptor::ADDRESS_MASK;
        Self::write(
            level_3_table,
            ((address >> 12) as usize) % ENTRIES_PER_TABLE,
            0,
        );
    }
}

/// The address space the program runs in, ready to be loaded into TTBR0_EL1.
pub struct AddressSpace {
    root: u64,
}

/// Builds the final tables from the image's sections, the memory plan and the devices.
/// The tables themselves come from `allocator` (the boot data after the image).
///
/// # Safety
/// The bootstrap map must be active (the builder writes the new tables through it),
/// and `plan` must describe RAM that nothing else uses.
pub unsafe fn build(
    plan: &MemoryPlan,
    devices: &[PhysicalRange],
    allocator: &mut BootAllocator,
    image_offset: u64,
) -> Result<AddressSpace, PagingError> {
    let mut builder = Builder { allocator, root: 0 };
    builder.root = builder.allocate_table()?;

    // The image only at its run addresses, `image_offset` above its physical place
    // (ASLR, aslr.rs); the read-only range also holds the relocated words (RELRO).
    for (range, access) in [
        (image::text(), Access::Execute),
        (image::rodata(), Access::Read),
        (image::data(), Access::Write),
    ] {
        let physical = crate::aslr::physical(range, image_offset);
        builder.map(physical, image_offset, access, false)?;
    }
    for guard in image::guard_pages() {
        builder.unmap_page(guard.start);
    }
    // Boot data (these very tables, the command line, the TLS block) and the heap.
    builder.map(plan.after_image, 0, Access::Write, true)?;
    if plan.heap != plan.after_image {
        builder.map(plan.heap, 0, Access::Write, true)?;
    }
    // The boot archive: read by the files component, never written or executed.
    builder.map(plan.initrd, 0, Access::Read, true)?;
    for device in devices.iter().filter(|device| !device.is_empty()) {
        builder.map(*device, 0, Access::Device, false)?;
    }
    Ok(AddressSpace { root: builder.root })
}

impl AddressSpace {
    /// Switches to these tables and turns SCTLR_EL1.WXN on.
    ///
    /// # Safety
    /// The tables must map everything in use from here on: the running code, the
    /// stacks, the console UART and the boot data (all mapped by `build`).
    pub unsafe fn activate(&self) {
        // SAFETY: the caller's contract. The sequence follows Arm ARM D8.14 (TLB
        // maintenance): table writes complete (dsb ishst) before the walker may read
        // them, the old translations and the cached WXN-dependent permissions are
        // invalidated after the switch, and `isb` makes the new context visible.
        unsafe {
            core::arch::asm!(
                "dsb ishst",
                "msr ttbr0_el1, {root}",
                "isb",
                "mrs {sctlr}, sctlr_el1",
                "orr {sctlr}, {sctlr}, {write_execute_never}",
                "msr sctlr_el1, {sctlr}",
                "isb",
                "tlbi vmalle1",
                "dsb nsh",
                "isb",
                root = in(reg) self.root,
                sctlr = out(reg) _,
                write_execute_never = in(reg) SCTLR_WRITE_EXECUTE_NEVER,
                options(nostack),
            );
        }
    }
}

/// Why the live tables fail the W^X check.
pub enum WriteExecuteError {
    /// A translation is writable and executable at EL1.
    Page { address: u64, size: u64 },
    /// SCTLR_EL1.WXN is off.
    WriteExecuteNeverOff,
}

/// The boot-time W^X self-check: walks the live tables (from TTBR0_EL1) and fails when
/// any translation is writable and executable at EL1 — whatever WXN would do about it
/// — or when SCTLR_EL1.WXN is off.
pub fn verify_write_xor_execute() -> Result<(), WriteExecuteError> {
    let (root, control): (u64, u64);
    // SAFETY: reading TTBR0_EL1 and SCTLR_EL1 at EL1 has no side effect.
    unsafe {
        core::arch::asm!(
            "mrs {root}, ttbr0_el1",
            "mrs {control}, sctlr_el1",
            root = out(reg) root,
            control = out(reg) control,
            options(nomem, nostack),
        );
    }
    if control & SCTLR_WRITE_EXECUTE_NEVER == 0 {
        return Err(WriteExecuteError::WriteExecuteNeverOff);
    }
    let read = |table: u64, index: usize| {
        // SAFETY: every table is identity mapped (boot data mapped read-write by
        // `build`, or a runtime table from the identity-mapped heap) and holds 512
        // descriptors; the read has no side effect.
        unsafe { ((table as usize + index * 8) as *const u64).read_volatile() }
    };
    match super::page_walk::find_writable_executable(root & descriptor::ADDRESS_MASK, &read) {
        Some(found) => Err(WriteExecuteError::Page {
            address: found.address,
            size: found.size,
        }),
        None => Ok(()),
    }
}

/// Whether reading 8 bytes at `address` is safe under the final tables: used by the
/// crash report's backtrace, which must never fault. Only the boot stack qualifies
/// (frame records live there), which keeps the check simple and exact.
pub fn is_readable_stack_word(address: u64) -> bool {
    let stack = image::boot_stack();
    address.is_multiple_of(8)
        && stack.start <= address
        && address.checked_add(8).is_some_and(|end| end <= stack.end)
}
