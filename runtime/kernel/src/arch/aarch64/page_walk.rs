//! The boot-time W^X check's walk over AArch64 translation tables (Arm ARM DDI 0487
//! D8.3 descriptor formats, D8.4.1 hierarchical permissions): pure logic over a reader
//! of descriptors, so the host tests can feed it made-up tables.
//!
//! 4 KiB granule, 39-bit input addresses: the walk starts at level 1 (1 GiB per entry).
//! At EL1 a translation is writable when AP[2] (bit 7) is clear and no table above it
//! has APTable[1] (bit 62); it is executable when PXN (bit 53) is clear and no table
//! above has PXNTable (bit 59).

const VALID: u64 = 1 << 0;
const TABLE_OR_PAGE: u64 = 1 << 1;
const READ_ONLY: u64 = 1 << 7;
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const TABLE_PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 59;
const TABLE_READ_ONLY: u64 = 1 << 62;
const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;

/// The first translation found writable and executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WritableExecutable {
    /// Its virtual address and size (4 KiB, 2 MiB or 1 GiB).
    pub address: u64,
    pub size: u64,
}

/// Walks the tables from the level-1 table at `root`; `read(table, index)` returns a
/// descriptor.
pub fn find_writable_executable(
    root: u64,
    read: &impl Fn(u64, usize) -> u64,
) -> Option<WritableExecutable> {
    walk(root, 1, 0, true, false, read)
}

fn walk(
    table: u64,
    level: u32,
    base: u64,
    writable: bool,
    execute_never: bool,
    read: &impl Fn(u64, usize) -> u64,
) -> Option<WritableExecutable> {
    let span = 1u64 << (12 + 9 * (3 - level));
    for index in 0..512 {
        let descriptor = read(table, index);
        if descriptor & VALID == 0 {
            continue;
        }
        let address = base + index as u64 * span;
        // Level 3: bit 1 set is a page (clear is reserved, treated as invalid by the
        // walker). Levels 1-2: bit 1 set is a table, clear a block.
        if level == 3 && descriptor & TABLE_OR_PAGE == 0 {
            continue;
        }
        let is_table = level < 3 && descriptor & TABLE_OR_PAGE != 0;
        if is_table {
            let writable = writable && descriptor & TABLE_READ_ONLY == 0;
            let execute_never = execute_never || descriptor & TABLE_PRIVILEGED_EXECUTE_NEVER != 0;
            if let Some(found) = walk(
                descriptor & ADDRESS_MASK,
                level + 1,
                address,
                writable,
                execute_never,
                read,
            ) {
                return Some(found);
            }
        } else {
            let writable = writable && descriptor & READ_ONLY == 0;
            let execute_never = execute_never || descriptor & PRIVILEGED_EXECUTE_NEVER != 0;
            if writable && !execute_never {
                return Some(WritableExecutable {
                    address,
                    size: span,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn reader(entries: &[(u64, usize, u64)]) -> impl Fn(u64, usize) -> u64 {
        let map: HashMap<(u64, usize), u64> = entries
            .iter()
            .map(|&(table, index, entry)| ((table, index), entry))
            .collect();
        move |table, index| map.get(&(table, index)).copied().unwrap_or(0)
    }

    const TABLE: u64 = VALID | TABLE_OR_PAGE;
    const PAGE: u64 = VALID | TABLE_OR_PAGE;

    #[test]
    fn code_data_and_blocks() {
        // Level 1 entry 1 (0x40000000) → level 2; 2 MiB block RW+PXN; level 3 pages:
        // text RO+X, data RW+PXN.
        let read = reader(&[
            (0x1000, 1, 0x2000 | TABLE),
            (0x2000, 1, 0x4020_0000 | VALID | PRIVILEGED_EXECUTE_NEVER),
            (0x2000, 0, 0x3000 | TABLE),
            (0x3000, 0, 0x4000_0000 | PAGE | READ_ONLY),
            (0x3000, 1, 0x4000_1000 | PAGE | PRIVILEGED_EXECUTE_NEVER),
        ]);
        assert_eq!(find_writable_executable(0x1000, &read), None);
    }

    #[test]
    fn writable_executable_page_and_block_are_found() {
        let page = reader(&[
            (0x1000, 1, 0x2000 | TABLE),
            (0x2000, 0, 0x3000 | TABLE),
            (0x3000, 5, 0x4000_5000 | PAGE),
        ]);
        assert_eq!(
            find_writable_executable(0x1000, &page),
            Some(WritableExecutable {
                address: 0x4000_5000,
                size: 0x1000
            })
        );
        let block = reader(&[(0x1000, 2, 0x8000_0000 | VALID)]);
        assert_eq!(
            find_writable_executable(0x1000, &block),
            Some(WritableExecutable {
                address: 0x8000_0000,
                size: 1 << 30
            })
        );
    }

    #[test]
    fn table_attributes_restrict() {
        let read = reader(&[
            (0x1000, 1, 0x2000 | TABLE | TABLE_PRIVILEGED_EXECUTE_NEVER),
            (0x2000, 0, 0x3000 | TABLE),
            (0x3000, 5, 0x4000_5000 | PAGE),
            (0x1000, 2, 0x4000 | TABLE | TABLE_READ_ONLY),
            (0x4000, 7, 0x8000_0000 | VALID),
        ]);
        assert_eq!(find_writable_executable(0x1000, &read), None);
    }
}
