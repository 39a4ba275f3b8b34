//! `qsort`'s algorithm over untyped elements (C11 7.22.5.2).
//!
//! A stable merge sort through a scratch buffer, as glibc's `qsort` does whenever it can
//! get the memory (glibc ≤ 2.36 `msort.c`): programs that (wrongly but commonly) rely on
//! the order of equal elements then behave as on Linux. Without scratch memory it falls
//! back to heapsort in place. Both are O(n log n) in the worst case.

use core::cmp::Ordering;

/// Sorts `data`, a sequence of `size`-byte elements, with `compare`. `scratch`, when
/// given, must be as long as `data`.
pub fn sort(
    data: &mut [u8],
    size: usize,
    scratch: Option<&mut [u8]>,
    compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering,
) {
    if size == 0 || data.len() / size < 2 {
        return;
    }
    match scratch {
        Some(scratch) if scratch.len() == data.len() => merge_sort(data, scratch, size, compare),
        _ => heap_sort(data, size, compare),
    }
}

/// Bottom-up merge sort: runs of `width` elements are merged pairwise from one buffer
/// into the other, doubling `width`, until one run covers everything.
fn merge_sort(
    data: &mut [u8],
    scratch: &mut [u8],
    size: usize,
    compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering,
) {
    let count = data.len() / size;
    // Short runs first by insertion sort (stable), which is cheaper than merging pairs.
    const RUN: usize = 8;
    let mut start = 0;
    while start < count {
        let end = (start + RUN).min(count);
        insertion_sort(&mut data[start * size..end * size], size, compare);
        start = end;
    }
    let mut width = RUN;
    let mut in_data = true;
    while width < count {
        let (from, to): (&mut [u8], &mut [u8]) = if in_data {
            (data, scratch)
        } else {
            (scratch, data)
        };
        let from: &[u8] = from;
        let mut left = 0;
        while left < count {
            let middle = (left + width).min(count);
            let right_end = (left + 2 * width).min(count);
            merge(
                &from[left * size..right_end * size],
                (middle - left) * size,
                &mut to[left * size..right_end * size],
                size,
                compare,
            );
            left = right_end;
        }
        in_data = !in_data;
        width *= 2;
    }
    if !in_data {
        data.copy_from_slice(scratch);
    }
}

/// Merges the sorted halves `source[..split]` and `source[split..]` into `destination`;
/// ties take the left element first (stability).
fn merge(
    source: &[u8],
    split: usize,
    destination: &mut [u8],
    size: usize,
    compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering,
) {
    let (mut left, mut right, mut out) = (0, split, 0);
    while left < split && right < source.len() {
        let take_right =
            compare(&source[left..left + size], &source[right..right + size]) == Ordering::Greater;
        let from = if take_right { &mut right } else { &mut left };
        destination[out..out + size].copy_from_slice(&source[*from..*from + size]);
        *from += size;
        out += size;
    }
    destination[out..out + split - left].copy_from_slice(&source[left..split]);
    out += split - left;
    destination[out..].copy_from_slice(&source[right..]);
}

fn insertion_sort(data: &mut [u8], size: usize, compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering) {
    let count = data.len() / size;
    for index in 1..count {
        let mut position = index;
        while position > 0 {
            let (before, current) = data.split_at_mut(position * size);
            if compare(&before[(position - 1) * size..], &current[..size]) != Ordering::Greater {
                break;
            }
            swap(data, position - 1, position, size);
            position -= 1;
        }
    }
}

/// Swaps elements `first < second`.
fn swap(data: &mut [u8], first: usize, second: usize, size: usize) {
    let (low, high) = data.split_at_mut(second * size);
    low[first * size..first * size + size].swap_with_slice(&mut high[..size]);
}

fn element(data: &[u8], index: usize, size: usize) -> &[u8] {
    &data[index * size..(index + 1) * size]
}

fn heap_sort(data: &mut [u8], size: usize, compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering) {
    let count = data.len() / size;
    for root in (0..count / 2).rev() {
        sift_down(data, root, count, size, compare);
    }
    for end in (1..count).rev() {
        swap(data, 0, end, size);
        sift_down(data, 0, end, size, compare);
    }
}

/// Restores the max-heap property below `root` within the first `count` elements.
fn sift_down(
    data: &mut [u8],
    mut root: usize,
    count: usize,
    size: usize,
    compare: &mut dyn FnMut(&[u8], &[u8]) -> Ordering,
) {
    loop {
        let mut largest = root;
        for child in [2 * root + 1, 2 * root + 2] {
            if child < count
                && compare(element(data, child, size), element(data, largest, size))
                    == Ordering::Greater
            {
                largest = child;
            }
        }
        if largest == root {
            return;
        }
        swap(data, root, largest, size);
        root = largest;
    }
}

/// C `bsearch` (C11 7.22.5.1) over `count` elements: the index of a matching element.
/// `compare(element)` is `compar(key, element)`.
pub fn binary_search(count: usize, mut compare: impl FnMut(usize) -> Ordering) -> Option<usize> {
    let (mut low, mut high) = (0, count);
    while low < high {
        let middle = low + (high - low) / 2;
        match compare(middle) {
            Ordering::Equal => return Some(middle),
            Ordering::Less => high = middle,
            Ordering::Greater => low = middle + 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elements of 8 bytes: a 4-byte key then a 4-byte original position, to see
    /// stability.
    fn encode(keys: &[u32]) -> Vec<u8> {
        keys.iter()
            .enumerate()
            .flat_map(|(position, key)| {
                [key.to_le_bytes(), (position as u32).to_le_bytes()].concat()
            })
            .collect()
    }

    fn decode(data: &[u8]) -> Vec<(u32, u32)> {
        data.chunks(8)
            .map(|chunk| {
                (
                    u32::from_le_bytes(chunk[..4].try_into().unwrap()),
                    u32::from_le_bytes(chunk[4..].try_into().unwrap()),
                )
            })
            .collect()
    }

    fn by_key(left: &[u8], right: &[u8]) -> Ordering {
        left[..4].iter().rev().cmp(right[..4].iter().rev())
    }

    fn pseudo_random(count: usize, modulus: u32) -> Vec<u32> {
        let mut state = 0x2545_f491u32;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state % modulus
            })
            .collect()
    }

    #[test]
    fn merge_sort_is_sorted_and_stable() {
        for count in [0, 1, 2, 7, 8, 9, 16, 17, 100, 1000, 4097] {
            let keys = pseudo_random(count, 50);
            let mut data = encode(&keys);
            let mut scratch = vec![0u8; data.len()];
            sort(&mut data, 8, Some(&mut scratch), &mut by_key);
            let mut expected: Vec<(u32, u32)> = keys
                .iter()
                .enumerate()
                .map(|(position, &key)| (key, position as u32))
                .collect();
            expected.sort_by_key(|&(key, _)| key); // std's sort is stable
            assert_eq!(decode(&data), expected, "{count}");
        }
    }

    #[test]
    fn heap_sort_fallback_sorts() {
        for count in [2, 3, 10, 1000, 1023] {
            let keys = pseudo_random(count, 1 << 20);
            let mut data = encode(&keys);
            sort(&mut data, 8, None, &mut by_key);
            let sorted: Vec<u32> = decode(&data).into_iter().map(|(key, _)| key).collect();
            let mut expected = keys.clone();
            expected.sort();
            assert_eq!(sorted, expected);
        }
    }

    #[test]
    fn odd_element_sizes() {
        let mut data: Vec<u8> = b"zzzaaammmbbb".to_vec();
        sort(&mut data, 3, None, &mut |left, right| left.cmp(right));
        assert_eq!(data, b"aaabbbmmmzzz");
        let mut scratch = vec![0; 12];
        let mut data: Vec<u8> = b"zzzaaammmbbb".to_vec();
        sort(&mut data, 3, Some(&mut scratch), &mut |left, right| {
            left.cmp(right)
        });
        assert_eq!(data, b"aaabbbmmmzzz");
    }

    #[test]
    fn binary_search_finds() {
        let values = [1, 3, 5, 7, 9];
        for (index, value) in values.iter().enumerate() {
            assert_eq!(
                binary_search(values.len(), |middle| value.cmp(&values[middle])),
                Some(index)
            );
        }
        assert_eq!(
            binary_search(values.len(), |middle| 4.cmp(&values[middle])),
            None
        );
        assert_eq!(binary_search(0, |_| Ordering::Equal), None);
    }
}
