//! Physical memory at boot: the RAM ranges the firmware reports, where the image sits
//! in them, the early allocator for page tables and boot data, and the heap.
//!
//! Arch independent: the arch boot path fills a [`RamMap`] from its firmware's table
//! (PVH memory map, device tree) and asks for the [`MemoryPlan`].

/// The size of a page (4 KiB) on every supported architecture's base granule.
pub const PAGE_SIZE: u64 = 4096;

pub const fn align_down(value: u64, alignment: u64) -> u64 {
    value & !(alignment - 1)
}

/// Rounds up; `None` when the result does not fit in 64 bits.
pub const fn align_up(value: u64, alignment: u64) -> Option<u64> {
    match value.checked_add(alignment - 1) {
        Some(sum) => Some(align_down(sum, alignment)),
        None => None,
    }
}

/// A half-open range of physical addresses `[start, end)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PhysicalRange {
    pub start: u64,
    pub end: u64,
}

impl PhysicalRange {
    pub const EMPTY: Self = Self { start: 0, end: 0 };

    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, address: u64) -> bool {
        self.start <= address && address < self.end
    }

    /// The whole pages inside the range.
    pub fn page_aligned_inside(&self) -> Self {
        let start = align_up(self.start, PAGE_SIZE).unwrap_or(u64::MAX);
        let end = align_down(self.end, PAGE_SIZE);
        if start >= end {
            Self::EMPTY
        } else {
            Self { start, end }
        }
    }
}

/// The usable RAM ranges (whole pages), at most [`RamMap::CAPACITY`] of them.
pub struct RamMap {
    ranges: [PhysicalRange; Self::CAPACITY],
    count: usize,
    /// RAM ranges that did not fit (reported in the boot log, otherwise unused).
    pub dropped: usize,
}

impl RamMap {
    /// More ranges than any virtual machine reports; a firmware with more loses the
    /// smallest uses of them, never correctness.
    pub const CAPACITY: usize = 64;

    pub const fn new() -> Self {
        Self {
            ranges: [PhysicalRange::EMPTY; Self::CAPACITY],
            count: 0,
            dropped: 0,
        }
    }

    /// Adds a RAM range, trimmed to whole pages; empty ranges are ignored.
    pub fn add(&mut self, range: PhysicalRange) {
        let range = range.page_aligned_inside();
        if range.is_empty() {
            return;
        }
        if self.count == Self::CAPACITY {
            self.dropped += 1;
            return;
        }
        self.ranges[self.count] = range;
        self.count += 1;
    }

    pub fn ranges(&self) -> &[PhysicalRange] {
        &self.ranges[..self.count]
    }
}

/// Why the memory layout cannot work.
pub enum MemoryError {
    /// The image is not inside one RAM range.
    ImageOutsideRam { image: PhysicalRange },
    /// No RAM left for boot data above the image.
    NoRamAfterImage { image: PhysicalRange },
}

/// Where everything goes: decided once from the RAM map and the image's place.
pub struct MemoryPlan {
    /// The RAM above the image in the image's own RAM range: the early allocator takes
    /// page tables, the command line copy and the TLS block from its start.
    pub after_image: PhysicalRange,
    /// The largest RAM range above the image start that is not the image: either
    /// `after_image` itself or another range. Its start moves up past the early
    /// allocations when it is `after_image`.
    pub heap: PhysicalRange,
}

impl MemoryPlan {
    /// Lays memory out. RAM below the image (the first MiB on x86) is left alone:
    /// it holds firmware tables and stays unmapped, so stray low pointers fault.
    pub fn new(ram: &RamMap, image: PhysicalRange) -> Result<Self, MemoryError> {
        let image_range = ram
            .ranges()
            .iter()
            .find(|range| range.start <= image.start && image.end <= range.end)
            .ok_or(MemoryError::ImageOutsideRam { image })?;
        let after_image = PhysicalRange {
            start: image.end,
            end: image_range.end,
        }
        .page_aligned_inside();
        if after_image.is_empty() {
            return Err(MemoryError::NoRamAfterImage { image });
        }
        let mut heap = after_image;
        for range in ram.ranges() {
            if range.start >= image.end && range.len() > heap.len() {
                heap = *range;
            }
        }
        Ok(Self { after_image, heap })
    }
}

/// The early allocator: hands out page-aligned, zeroed blocks from the start of
/// [`MemoryPlan::after_image`], never frees. What it gave out is removed from the heap.
pub struct BootAllocator {
    next: u64,
    end: u64,
}

impl BootAllocator {
    pub fn new(range: PhysicalRange) -> Self {
        Self {
            next: range.start,
            end: range.end,
        }
    }

    /// Allocates `size` bytes (rounded up to whole pages) and returns the start address.
    /// The memory is not zeroed here: the caller maps or clears it.
    pub fn allocate(&mut self, size: u64) -> Option<u64> {
        let size = align_up(size.max(1), PAGE_SIZE)?;
        let start = self.next;
        let end = start.checked_add(size)?;
        if end > self.end {
            return None;
        }
        self.next = end;
        Some(start)
    }

    /// The first address not handed out.
    pub fn next_free(&self) -> u64 {
        self.next
    }
}

/// The heap after the early allocations: `heap` without what the allocator used.
pub fn final_heap(plan: &MemoryPlan, allocator: &BootAllocator) -> PhysicalRange {
    if plan.heap == plan.after_image {
        PhysicalRange {
            start: allocator.next_free(),
            end: plan.heap.end,
        }
    } else {
        plan.heap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * MIB;

    fn range(start: u64, end: u64) -> PhysicalRange {
        PhysicalRange { start, end }
    }

    fn ram(ranges: &[PhysicalRange]) -> RamMap {
        let mut map = RamMap::new();
        for &range in ranges {
            map.add(range);
        }
        map
    }

    #[test]
    fn ranges_are_trimmed_to_whole_pages() {
        let map = ram(&[
            range(0, 0x9fc00),
            range(0x100, 0x200),
            range(MIB, 128 * MIB),
        ]);
        assert_eq!(map.ranges(), &[range(0, 0x9f000), range(MIB, 128 * MIB)]);
    }

    #[test]
    fn heap_follows_the_image_in_its_range() {
        let map = ram(&[range(0, 0x9fc00), range(MIB, 128 * MIB)]);
        let plan = MemoryPlan::new(&map, range(MIB, 3 * MIB + 0x800))
            .ok()
            .unwrap();
        assert_eq!(plan.after_image, range(3 * MIB + 0x1000, 128 * MIB));
        assert_eq!(plan.heap, plan.after_image);

        let mut allocator = BootAllocator::new(plan.after_image);
        assert_eq!(allocator.allocate(1), Some(3 * MIB + 0x1000));
        assert_eq!(allocator.allocate(4097), Some(3 * MIB + 0x2000));
        assert_eq!(
            final_heap(&plan, &allocator),
            range(3 * MIB + 0x4000, 128 * MIB)
        );
    }

    #[test]
    fn larger_range_above_the_image_becomes_the_heap() {
        let map = ram(&[range(MIB, 2 * GIB), range(4 * GIB, 8 * GIB)]);
        let plan = MemoryPlan::new(&map, range(MIB, 3 * MIB)).ok().unwrap();
        assert_eq!(plan.after_image, range(3 * MIB, 2 * GIB));
        assert_eq!(plan.heap, range(4 * GIB, 8 * GIB));
        let allocator = BootAllocator::new(plan.after_image);
        assert_eq!(final_heap(&plan, &allocator), range(4 * GIB, 8 * GIB));
    }

    #[test]
    fn image_outside_ram_is_an_error() {
        let map = ram(&[range(0, 0x9f000)]);
        assert!(matches!(
            MemoryPlan::new(&map, range(MIB, 2 * MIB)),
            Err(MemoryError::ImageOutsideRam { .. })
        ));
        let map = ram(&[range(MIB, 2 * MIB)]);
        assert!(matches!(
            MemoryPlan::new(&map, range(MIB, 2 * MIB)),
            Err(MemoryError::NoRamAfterImage { .. })
        ));
    }

    #[test]
    fn allocator_stops_at_its_end() {
        let mut allocator = BootAllocator::new(range(MIB, MIB + 2 * PAGE_SIZE));
        assert!(allocator.allocate(PAGE_SIZE).is_some());
        assert!(allocator.allocate(2 * PAGE_SIZE).is_none());
        assert!(allocator.allocate(PAGE_SIZE).is_some());
        assert!(allocator.allocate(1).is_none());
        assert!(allocator.allocate(u64::MAX).is_none());
    }

    #[test]
    fn too_many_ranges_are_counted() {
        let mut map = RamMap::new();
        for index in 0..(RamMap::CAPACITY as u64 + 3) {
            map.add(range(index * 2 * MIB, index * 2 * MIB + MIB));
        }
        assert_eq!(map.ranges().len(), RamMap::CAPACITY);
        assert_eq!(map.dropped, 3);
    }
}
