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

    /// The range without its first `bytes` bytes (empty when it is shorter).
    pub fn skip(&self, bytes: u64) -> Self {
        Self {
            start: self.start.saturating_add(bytes).min(self.end),
            end: self.end,
        }
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
    /// The boot archive (initrd) the loader reported overlaps the image.
    InitrdOverlapsImage {
        initrd: PhysicalRange,
        image: PhysicalRange,
    },
}

/// The least free RAM the early allocations (page tables, the command line copy, the
/// TLS block) look for: a smaller gap between the image and an initrd the loader put
/// close behind it (GRUB's Multiboot2 modules) is passed over for the RAM after the
/// initrd, and left unused.
pub const BOOT_DATA_MINIMUM: u64 = 1 << 20;

/// Where everything goes: decided once from the RAM map, the image's place and the
/// boot archive's (the initrd the loader put in RAM).
pub struct MemoryPlan {
    /// The first free RAM above the image in the image's own RAM range (the initrd cut
    /// out) of at least [`BOOT_DATA_MINIMUM`] (else the first at all): the early
    /// allocator takes page tables, the command line copy and the TLS block from its
    /// start.
    pub after_image: PhysicalRange,
    /// The largest free RAM range above the image start that is not the image nor the
    /// initrd: either `after_image` itself or another range. Its start moves up past
    /// the early allocations when it is `after_image`.
    pub heap: PhysicalRange,
    /// The initrd's whole pages (empty without one): reserved from the allocators and
    /// mapped read-only, no-execute, for the run.
    pub initrd: PhysicalRange,
}

impl PhysicalRange {
    /// The smallest range of whole pages holding this one.
    pub fn page_aligned_around(&self) -> Self {
        match align_up(self.end, PAGE_SIZE) {
            Some(end) if !self.is_empty() => Self {
                start: align_down(self.start, PAGE_SIZE),
                end,
            },
            _ => Self::EMPTY,
        }
    }

    pub fn overlaps(&self, other: &Self) -> bool {
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }

    /// What is left of the range without `hole`: the part below it and the part above
    /// it (each possibly empty).
    pub fn without(&self, hole: &Self) -> [Self; 2] {
        if !self.overlaps(hole) {
            return [*self, Self::EMPTY];
        }
        let below = Self {
            start: self.start,
            end: hole.start,
        };
        let above = Self {
            start: hole.end,
            end: self.end,
        };
        [below, above].map(|piece| if piece.is_empty() { Self::EMPTY } else { piece })
    }
}

impl MemoryPlan {
    /// Lays memory out. RAM below the image (the first MiB on x86) is left alone:
    /// it holds firmware tables and stays unmapped, so stray low pointers fault.
    pub fn new(
        ram: &RamMap,
        image: PhysicalRange,
        initrd: Option<PhysicalRange>,
    ) -> Result<Self, MemoryError> {
        let initrd = initrd.map_or(PhysicalRange::EMPTY, |range| range.page_aligned_around());
        if initrd.overlaps(&image) {
            return Err(MemoryError::InitrdOverlapsImage { initrd, image });
        }
        let image_range = ram
            .ranges()
            .iter()
            .find(|range| range.start <= image.start && image.end <= range.end)
            .ok_or(MemoryError::ImageOutsideRam { image })?;
        let free_pieces = |range: &PhysicalRange| {
            PhysicalRange {
                start: range.start.max(image.end),
                end: range.end,
            }
            .page_aligned_inside()
            .without(&initrd)
        };
        let pieces = free_pieces(image_range);
        let after_image = pieces
            .iter()
            .find(|piece| piece.len() >= BOOT_DATA_MINIMUM)
            .or_else(|| pieces.iter().find(|piece| !piece.is_empty()))
            .copied()
            .ok_or(MemoryError::NoRamAfterImage { image })?;
        let mut heap = after_image;
        for piece in ram
            .ranges()
            .iter()
            .filter(|range| range.end > image.end)
            .flat_map(free_pieces)
        {
            if piece.len() > heap.len() {
                heap = piece;
            }
        }
        Ok(Self {
            after_image,
            heap,
            initrd,
        })
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

/// The RAM after the early allocations that is not the heap: the rest of
/// `after_image` when the heap is another range (aarch64 with an initrd in the middle
/// of RAM: the side of it that is not the heap). Mapped read-write like the heap; empty
/// when there is none.
pub fn spare_ram(plan: &MemoryPlan, allocator: &BootAllocator) -> PhysicalRange {
    if plan.heap == plan.after_image {
        return PhysicalRange::EMPTY;
    }
    PhysicalRange {
        start: allocator.next_free(),
        end: plan.after_image.end,
    }
    .page_aligned_inside()
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
        let plan = MemoryPlan::new(&map, range(MIB, 3 * MIB + 0x800), None)
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
        let plan = MemoryPlan::new(&map, range(MIB, 3 * MIB), None)
            .ok()
            .unwrap();
        assert_eq!(plan.after_image, range(3 * MIB, 2 * GIB));
        assert_eq!(plan.heap, range(4 * GIB, 8 * GIB));
        let allocator = BootAllocator::new(plan.after_image);
        assert_eq!(final_heap(&plan, &allocator), range(4 * GIB, 8 * GIB));
    }

    #[test]
    fn image_outside_ram_is_an_error() {
        let map = ram(&[range(0, 0x9f000)]);
        assert!(matches!(
            MemoryPlan::new(&map, range(MIB, 2 * MIB), None),
            Err(MemoryError::ImageOutsideRam { .. })
        ));
        let map = ram(&[range(MIB, 2 * MIB)]);
        assert!(matches!(
            MemoryPlan::new(&map, range(MIB, 2 * MIB), None),
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

    #[test]
    fn the_initrd_is_cut_out_of_the_heap_and_the_boot_data() {
        // QEMU x86 puts the initrd at the top of low RAM: the heap ends below it.
        let map = ram(&[range(0, 0x9fc00), range(MIB, 128 * MIB)]);
        let initrd = range(120 * MIB, 120 * MIB + 5000);
        let plan = MemoryPlan::new(&map, range(MIB, 3 * MIB), Some(initrd))
            .ok()
            .unwrap();
        assert_eq!(plan.initrd, range(120 * MIB, 120 * MIB + 2 * PAGE_SIZE));
        assert_eq!(plan.after_image, range(3 * MIB, 120 * MIB));
        assert_eq!(plan.heap, plan.after_image);
        let allocator = BootAllocator::new(plan.after_image);
        assert_eq!(spare_ram(&plan, &allocator), PhysicalRange::EMPTY);

        // QEMU virt puts it in the middle of RAM: the heap is the larger side.
        let map = ram(&[range(GIB, GIB + 128 * MIB)]);
        let initrd = range(GIB + 64 * MIB, GIB + 65 * MIB);
        let plan = MemoryPlan::new(&map, range(GIB + 2 * MIB, GIB + 4 * MIB), Some(initrd))
            .ok()
            .unwrap();
        assert_eq!(plan.after_image, range(GIB + 4 * MIB, GIB + 64 * MIB));
        assert_eq!(plan.heap, range(GIB + 65 * MIB, GIB + 128 * MIB));
        // The other side, after the early allocations, is spare RAM for the allocator.
        let mut allocator = BootAllocator::new(plan.after_image);
        allocator.allocate(3 * PAGE_SIZE).unwrap();
        assert_eq!(final_heap(&plan, &allocator), plan.heap);
        assert_eq!(
            spare_ram(&plan, &allocator),
            range(GIB + 4 * MIB + 3 * PAGE_SIZE, GIB + 64 * MIB)
        );

        // Right after the image: the boot data goes above it.
        let plan = MemoryPlan::new(
            &map,
            range(GIB, GIB + 2 * MIB),
            Some(range(GIB + 2 * MIB, GIB + 3 * MIB)),
        )
        .ok()
        .unwrap();
        assert_eq!(plan.after_image, range(GIB + 3 * MIB, GIB + 128 * MIB));
        assert_eq!(plan.heap, plan.after_image);

        // A few pages after the image (GRUB's first module close behind it): too
        // little for the boot data, which goes after the initrd.
        let plan = MemoryPlan::new(
            &map,
            range(GIB, GIB + 2 * MIB),
            Some(range(GIB + 2 * MIB + 10 * PAGE_SIZE, GIB + 3 * MIB + 5000)),
        )
        .ok()
        .unwrap();
        assert_eq!(
            plan.after_image,
            range(GIB + 3 * MIB + 2 * PAGE_SIZE, GIB + 128 * MIB)
        );
        assert_eq!(plan.heap, plan.after_image);
        // Only a small gap at all: it is still used.
        let small = ram(&[range(GIB, GIB + 3 * MIB)]);
        let plan = MemoryPlan::new(
            &small,
            range(GIB, GIB + 2 * MIB),
            Some(range(GIB + 2 * MIB + 10 * PAGE_SIZE, GIB + 3 * MIB)),
        )
        .ok()
        .unwrap();
        assert_eq!(
            plan.after_image,
            range(GIB + 2 * MIB, GIB + 2 * MIB + 10 * PAGE_SIZE)
        );

        // In another RAM range: that range loses it, the image's range is untouched.
        let map = ram(&[range(MIB, 64 * MIB), range(4 * GIB, 5 * GIB)]);
        let plan = MemoryPlan::new(
            &map,
            range(MIB, 2 * MIB),
            Some(range(4 * GIB, 4 * GIB + MIB)),
        )
        .ok()
        .unwrap();
        assert_eq!(plan.after_image, range(2 * MIB, 64 * MIB));
        assert_eq!(plan.heap, range(4 * GIB + MIB, 5 * GIB));
    }

    #[test]
    fn an_initrd_over_the_image_or_filling_its_range_is_an_error() {
        let map = ram(&[range(MIB, 8 * MIB)]);
        assert!(matches!(
            MemoryPlan::new(&map, range(MIB, 3 * MIB), Some(range(2 * MIB, 4 * MIB))),
            Err(MemoryError::InitrdOverlapsImage { .. })
        ));
        assert!(matches!(
            MemoryPlan::new(&map, range(MIB, 3 * MIB), Some(range(3 * MIB, 8 * MIB))),
            Err(MemoryError::NoRamAfterImage { .. })
        ));
    }

    #[test]
    fn ranges_without_a_hole() {
        let whole = range(0, 10 * PAGE_SIZE);
        assert_eq!(
            whole.without(&range(2 * PAGE_SIZE, 3 * PAGE_SIZE)),
            [
                range(0, 2 * PAGE_SIZE),
                range(3 * PAGE_SIZE, 10 * PAGE_SIZE)
            ]
        );
        assert_eq!(
            whole.without(&range(0, 20 * PAGE_SIZE)),
            [PhysicalRange::EMPTY; 2]
        );
        assert_eq!(
            whole.without(&PhysicalRange::EMPTY),
            [whole, PhysicalRange::EMPTY]
        );
        assert_eq!(
            range(1, 4097).page_aligned_around(),
            range(0, 2 * PAGE_SIZE)
        );
        assert_eq!(range(5, 5).page_aligned_around(), PhysicalRange::EMPTY);
    }
}
