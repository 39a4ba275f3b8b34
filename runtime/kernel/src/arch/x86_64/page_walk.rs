//! The boot-time W^X check's walk over x86_64 page tables (Intel SDM vol. 3A 5.5,
//! "4-Level Paging"; 5.6.1 for how access rights combine): pure logic over a reader of
//! table entries, so the host tests can feed it made-up tables.
//!
//! A translation is writable when R/W (bit 1) is set at every level, and executable
//! when XD (bit 63) is clear at every level (and EFER.NXE is on: without it nothing is
//! execute-disabled). Leaves are 1 GiB (PS at level 3), 2 MiB (PS at level 2) or 4 KiB
//! pages.

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const PAGE_SIZE_BIT: u64 = 1 << 7;
const EXECUTE_DISABLE: u64 = 1 << 63;
const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

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
