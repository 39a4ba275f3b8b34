//! x86_64 page tables as data (Intel SDM vol. 3A 5.5, "4-Level Paging"; 5.6.1 for how
//! access rights combine): the one table walk that both the boot (`paging::build`, the
//! final tables) and the run time (`mapping`, pages mapped one at a time) write through,
//! and the boot-time W^X check's walk, pure logic over a reader of table entries so the
//! host tests can feed it made-up tables.
//!
//! A translation is writable when R/W (bit 1) is set at every level, and executable
//! when XD (bit 63) is clear at every level (and EFER.NXE is on: without it nothing is
//! execute-disabled). Leaves are 1 GiB (PS at level 3), 2 MiB (PS at level 2) or 4 KiB
//! pages.

pub const PRESENT: u64 = 1 << 0;
pub const WRITABLE: u64 = 1 << 1;
pub const WRITE_THROUGH: u64 = 1 << 3;
pub const CACHE_DISABLE: u64 = 1 << 4;
pub const PAGE_SIZE_BIT: u64 = 1 << 7;
pub const EXECUTE_DISABLE: u64 = 1 << 63;
const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;
const TABLE_BYTES: usize = 4096;

/// Bytes a leaf entry at `level` maps: 4 KiB at level 1, 2 MiB at 2, 1 GiB at 3.
pub const fn level_size(level: u32) -> u64 {
    1 << (12 + 9 * (level - 1))
}

/// Why [`entry`] found no entry to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkError {
    /// A table on the way is missing and `new_table` gave none.
    NoTable,
    /// A larger page on the way already maps the address.
    InsideLargePage,
}

/// The entry that maps `address` with a page of [`level_size`]`(level)` (level 1, 2 or
/// 3) in the tables under the level-4 table at `root`. Missing tables on the way are
/// made from `new_table`'s page-aligned frames (zeroed here) and entered allowing
/// everything: the leaf decides (SDM 5.6.1, rights combine with AND for write, OR for
/// execute-disable).
///
/// # Safety
/// Every table reachable from `root`, and every frame `new_table` returns, must be a
/// 4 KiB page the caller may write, at a virtual address equal to its physical one
/// (identity mapped), and no one else may edit the tables meanwhile.
pub unsafe fn entry(
    root: u64,
    address: u64,
    level: u32,
    new_table: &mut dyn FnMut() -> Option<u64>,
) -> Result<*mut u64, WalkError> {
    let mut table = root;
    let mut current = 4;
    loop {
        let index = (address >> (12 + 9 * (current - 1))) & 511;
        let slot = (table + index * 8) as *mut u64;
        if current == level {
            return Ok(slot);
        }
        // SAFETY: `table` is an identity-mapped table (the caller's contract), the index
        // is below 512.
        let mut value = unsafe { slot.read_volatile() };
        if value & PRESENT == 0 {
            let frame = new_table().ok_or(WalkError::NoTable)?;
            // SAFETY: a fresh, writable, identity-mapped page (the caller's contract),
            // zeroed before it becomes a table: every entry not present.
            unsafe { core::ptr::write_bytes(frame as *mut u8, 0, TABLE_BYTES) };
            value = frame | PRESENT | WRITABLE;
            // SAFETY: as for the read above.
            unsafe { slot.write_volatile(value) };
        } else if value & PAGE_SIZE_BIT != 0 {
            return Err(WalkError::InsideLargePage);
        }
        table = value & ADDRESS_MASK;
        current -= 1;
    }
}

/// Whether `address` is mapped in the tables under `root`.
///
/// # Safety
/// As for [`entry`] (it only reads).
pub unsafe fn is_mapped(root: u64, address: u64) -> bool {
    // SAFETY: the caller's contract; without `new_table` the walk writes nothing.
    match unsafe { entry(root, address, 1, &mut || None) } {
        // SAFETY: the entry lies in an identity-mapped table.
        Ok(slot) => (unsafe { slot.read_volatile() }) & PRESENT != 0,
        Err(WalkError::InsideLargePage) => true,
        Err(WalkError::NoTable) => false,
    }
}

/// The first translation found writable and executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WritableExecutable {
    /// Its virtual address and size (4 KiB, 2 MiB or 1 GiB).
    pub address: u64,
    pub size: u64,
}

/// Walks the tables from the level-4 table at `root`; `read(table, index)` returns an
/// entry. `execute_disable` is whether EFER.NXE is on.
pub fn find_writable_executable(
    root: u64,
    execute_disable: bool,
    read: &impl Fn(u64, usize) -> u64,
) -> Option<WritableExecutable> {
    walk(root, 4, 0, true, false, execute_disable, read)
}

fn walk(
    table: u64,
    level: u32,
    base: u64,
    writable: bool,
    no_execute: bool,
    execute_disable: bool,
    read: &impl Fn(u64, usize) -> u64,
) -> Option<WritableExecutable> {
    let span = 1u64 << (12 + 9 * (level - 1));
    for index in 0..512 {
        let entry = read(table, index);
        if entry & PRESENT == 0 {
            continue;
        }
        let mut address = base + index as u64 * span;
        if level == 4 && index >= 256 {
            // Canonical form: bits 63:48 copy bit 47.
            address |= 0xffff_0000_0000_0000;
        }
        let writable = writable && entry & WRITABLE != 0;
        let no_execute = no_execute || (execute_disable && entry & EXECUTE_DISABLE != 0);
        let leaf = level == 1 || (level <= 3 && entry & PAGE_SIZE_BIT != 0);
        if leaf {
            if writable && !no_execute {
                return Some(WritableExecutable {
                    address,
                    size: span,
                });
            }
        } else if let Some(found) = walk(
            entry & ADDRESS_MASK,
            level - 1,
            address,
            writable,
            no_execute,
            execute_disable,
            read,
        ) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// One 4 KiB table frame of host memory (host addresses stand for physical ones).
    #[repr(C, align(4096))]
    struct Frame([u64; 512]);

    /// Frames handed out one by one, kept alive for the test.
    struct Frames(Vec<Box<Frame>>);

    impl Frames {
        fn new_table(&mut self) -> Option<u64> {
            let frame = Box::new(Frame([0x5a5a_5a5a; 512]));
            let address = &*frame as *const Frame as u64;
            self.0.push(frame);
            Some(address)
        }
    }

    #[test]
    fn entry_makes_the_tables_on_the_way_once() {
        let mut frames = Frames(Vec::new());
        let root = frames.new_table().unwrap();
        // SAFETY: the root is zeroed by hand (new_table leaves junk for `entry` to clear).
        unsafe { core::ptr::write_bytes(root as *mut u8, 0, TABLE_BYTES) };
        let mut new_table = || frames.new_table();
        let address = 0x7f12_3456_7000;
        // SAFETY: host frames stand for identity-mapped tables.
        let leaf = unsafe { entry(root, address, 1, &mut new_table) }.unwrap();
        // SAFETY: as above.
        unsafe { leaf.write(0x20_0000 | PRESENT) };
        // Same page: the same slot, no new table; the next page: the next slot.
        // SAFETY: as above.
        let again = unsafe { entry(root, address, 1, &mut || None) }.unwrap();
        assert_eq!(again, leaf);
        // SAFETY: as above.
        let next = unsafe { entry(root, address + 0x1000, 1, &mut || None) }.unwrap();
        assert_eq!(next as u64, leaf as u64 + 8);
        assert_eq!(frames.0.len(), 4);
        // The new tables were zeroed: only the one leaf is present.
        // SAFETY: as above.
        unsafe {
            assert!(is_mapped(root, address));
            assert!(!is_mapped(root, address + 0x1000));
            assert!(!is_mapped(root, 0x1000));
        }
        // The level-4 entry is at index (address >> 39) & 511 and allows everything.
        // SAFETY: as above.
        let top = unsafe { ((root + 8 * ((address >> 39) & 511)) as *const u64).read() };
        assert_eq!(top & !ADDRESS_MASK, PRESENT | WRITABLE);
    }

    #[test]
    fn entry_stops_at_a_large_page_and_at_missing_tables() {
        let mut frames = Frames(Vec::new());
        let root = frames.new_table().unwrap();
        // SAFETY: as in the test above.
        unsafe { core::ptr::write_bytes(root as *mut u8, 0, TABLE_BYTES) };
        // SAFETY: host frames stand for identity-mapped tables.
        unsafe {
            assert_eq!(
                entry(root, 0x4000_0000, 1, &mut || None),
                Err(WalkError::NoTable)
            );
            let large = entry(root, 0x4000_0000, 2, &mut || frames.new_table()).unwrap();
            large.write(0x4000_0000 | PRESENT | PAGE_SIZE_BIT);
            assert_eq!(
                entry(root, 0x4000_1000, 1, &mut || None),
                Err(WalkError::InsideLargePage)
            );
            assert!(is_mapped(root, 0x401f_f000));
            assert!(!is_mapped(root, 0x4020_0000));
        }
        assert_eq!(level_size(2), 0x20_0000);
        assert_eq!(level_size(3), 0x4000_0000);
    }

    /// Tables as a map from (table address, index) to entry.
    fn reader(entries: &[(u64, usize, u64)]) -> impl Fn(u64, usize) -> u64 {
        let map: HashMap<(u64, usize), u64> = entries
            .iter()
            .map(|&(table, index, entry)| ((table, index), entry))
            .collect();
        move |table, index| map.get(&(table, index)).copied().unwrap_or(0)
    }

    const TABLE: u64 = PRESENT | WRITABLE;

    #[test]
    fn code_and_data_pass() {
        // 0x100000 text (RX), 0x101000 data (RW, XD), a 2 MiB heap page (RW, XD).
        let read = reader(&[
            (0x1000, 0, 0x2000 | TABLE),
            (0x2000, 0, 0x3000 | TABLE),
            (0x3000, 0, 0x4000 | TABLE),
            (
                0x3000,
                1,
                0x20_0000 | PRESENT | WRITABLE | PAGE_SIZE_BIT | EXECUTE_DISABLE,
            ),
            (0x4000, 0x100, 0x10_0000 | PRESENT),
            (
                0x4000,
                0x101,
                0x10_1000 | PRESENT | WRITABLE | EXECUTE_DISABLE,
            ),
        ]);
        assert_eq!(find_writable_executable(0x1000, true, &read), None);
        // Without NXE the data page is executable too.
        assert_eq!(
            find_writable_executable(0x1000, false, &read),
            Some(WritableExecutable {
                address: 0x10_1000,
                size: 0x1000
            })
        );
    }

    #[test]
    fn a_writable_executable_page_is_found() {
        let read = reader(&[
            (0x1000, 0, 0x2000 | TABLE),
            (0x2000, 0, 0x3000 | TABLE),
            (0x3000, 0, 0x4000 | TABLE),
            (0x4000, 0x105, 0x10_5000 | PRESENT | WRITABLE),
        ]);
        assert_eq!(
            find_writable_executable(0x1000, true, &read),
            Some(WritableExecutable {
                address: 0x10_5000,
                size: 0x1000
            })
        );
    }

    #[test]
    fn upper_levels_combine() {
        // XD at the level-3 entry covers the page; a read-only level-2 entry too.
        let read = reader(&[
            (0x1000, 0, 0x2000 | TABLE),
            (0x2000, 0, 0x3000 | TABLE | EXECUTE_DISABLE),
            (0x3000, 0, 0x4000 | TABLE),
            (0x4000, 0, PRESENT | WRITABLE),
            (0x2000, 1, 0x5000 | TABLE),
            (0x5000, 0, 0x6000 | PRESENT),
            (0x6000, 3, PRESENT | WRITABLE),
        ]);
        assert_eq!(find_writable_executable(0x1000, true, &read), None);
    }
}
