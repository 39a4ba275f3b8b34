//! `rand`/`srand`/`random`/`srandom` with glibc's exact algorithm, and `rand_r`'s.
//!
//! glibc's `random()` (stdlib/random_r.c, default TYPE_3) is an additive lagged
//! Fibonacci generator `r[i] = r[i-3] + r[i-31]` over 32-bit words, seeded by a
//! Park–Miller minimal-standard LCG (16807 mod 2^31-1, Schrage's method) and run 310
//! steps before first use; each result is the new word shifted right by one. `rand()` is
//! `random()`. With seed 1 the sequence starts 1804289383, 846930886, 1681692777, …

use crate::global::Global;

/// TYPE_3's degree and separation (r[i-31], r[i-3]).
const DEGREE: usize = 31;
const SEPARATION: usize = 3;

/// The generator's state: the last 31 words, as a ring.
#[derive(Clone)]
pub struct Generator {
    words: [u32; DEGREE],
    /// Index of r[i-31] (the oldest word) in the ring; r[i-3] is 28 after it.
    oldest: usize,
}

impl Generator {
    /// glibc's `srandom_r`: seed 0 is taken as 1.
    pub const fn new(seed: u32) -> Self {
        let mut words = [0u32; DEGREE];
        let seed = if seed == 0 { 1 } else { seed };
        words[0] = seed;
        // Park–Miller by Schrage's method, 16807 * word mod (2^31 - 1) without overflow,
        // exactly as glibc computes it: `int32_t word`, products in `long int`.
        let mut word = seed as i32;
        let mut index = 1;
        while index < DEGREE {
            let high = word as i64 / 127_773;
            let low = word as i64 % 127_773;
            word = (16_807 * low - 2_836 * high) as i32;
            if word < 0 {
                word += 2_147_483_647;
            }
            words[index] = word as u32;
            index += 1;
        }
        // glibc's first step adds state[0] (its rear pointer) into state[3] (front).
        let mut generator = Generator {
            words,
            oldest: SEPARATION,
        };
        // glibc discards 10 * 31 outputs.
        let mut discarded = 0;
        while discarded < 10 * DEGREE {
            generator.step();
            discarded += 1;
        }
        generator
    }

    /// One step: the new word replaces the oldest.
    const fn step(&mut self) -> u32 {
        let front = (self.oldest + DEGREE - SEPARATION) % DEGREE;
        let word = self.words[self.oldest].wrapping_add(self.words[front]);
        self.words[self.oldest] = word;
        self.oldest = (self.oldest + 1) % DEGREE;
        word
    }

    /// The next value in 0..=RAND_MAX.
    pub fn next_value(&mut self) -> i32 {
        (self.step() >> 1) as i32
    }
}

/// glibc's `rand_r` (stdlib/rand_r.c): three LCG steps combined into 31 bits.
pub fn rand_r_step(seed: &mut u32) -> i32 {
    let mut next = *seed;
    let mut step = || {
        next = next.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        next / 65_536
    };
    let mut result = step() % 2048;
    result = (result << 10) ^ (step() % 1024);
    result = (result << 10) ^ (step() % 1024);
    *seed = next;
    result as i32
}

/// The process's generator: as if `srand(1)` was called (C11 7.22.2.2).
pub static GENERATOR: Global<Generator> = Global::new(Generator::new(1));

#[cfg(not(test))]
mod exports {
    use super::*;
    use core::ffi::{c_int, c_long, c_uint};

    /// C `rand` (C11 7.22.2.1).
    #[unsafe(export_name = "__unik_rand")]
    pub extern "C" fn rand() -> c_int {
        GENERATOR.with(|generator| generator.next_value())
    }

    /// C `srand` (C11 7.22.2.2).
    #[unsafe(export_name = "__unik_srand")]
    pub extern "C" fn srand(seed: c_uint) {
        GENERATOR.with(|generator| *generator = Generator::new(seed));
    }

    /// POSIX `random`: the same generator as `rand` (as in glibc).
    #[unsafe(export_name = "__unik_random")]
    pub extern "C" fn random() -> c_long {
        c_long::from(rand())
    }

    /// POSIX `srandom`.
    #[unsafe(export_name = "__unik_srandom")]
    pub extern "C" fn srandom(seed: c_uint) {
        srand(seed)
    }

    /// POSIX `rand_r`.
    ///
    /// # Safety
    /// `seed` is readable and writable.
    #[unsafe(export_name = "__unik_rand_r")]
    pub unsafe extern "C" fn rand_r(seed: *mut c_uint) -> c_int {
        // SAFETY: caller's contract.
        rand_r_step(unsafe { &mut *seed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn random_r(buffer: *mut RandomData, result: *mut i32) -> i32;
        fn srandom_r(seed: u32, buffer: *mut RandomData) -> i32;
        fn initstate_r(seed: u32, state: *mut u8, size: usize, buffer: *mut RandomData) -> i32;
        fn rand_r(seed: *mut u32) -> i32;
    }

    /// glibc's `struct random_data` (x86_64).
    #[repr(C)]
    struct RandomData {
        front: *mut i32,
        rear: *mut i32,
        state: *mut i32,
        kind: i32,
        degree: i32,
        separation: i32,
        end: *mut i32,
    }

    fn host_sequence(seed: u32, count: usize) -> Vec<i32> {
        let mut state = [0u8; 128];
        // SAFETY: zeroed random_data (plain pointers and ints) is valid for initstate_r.
        let mut data: RandomData = unsafe { core::mem::zeroed() };
        // SAFETY: glibc's reentrant API with a 128-byte (TYPE_3) state buffer we own.
        unsafe {
            assert_eq!(
                initstate_r(seed, state.as_mut_ptr(), state.len(), &mut data),
                0
            );
            assert_eq!(srandom_r(seed, &mut data), 0);
        }
        (0..count)
            .map(|_| {
                let mut value = 0;
                // SAFETY: initialised above.
                unsafe { random_r(&mut data, &mut value) };
                value
            })
            .collect()
    }

    #[test]
    fn srand_1_gives_glibcs_sequence() {
        let mut generator = Generator::new(1);
        let first: Vec<i32> = (0..5).map(|_| generator.next_value()).collect();
        assert_eq!(
            first,
            [1804289383, 846930886, 1681692777, 1714636915, 1957747793]
        );
    }

    #[test]
    fn equals_the_host_glibc_for_many_seeds() {
        for seed in [
            0u32,
            1,
            2,
            42,
            12345,
            0x7fff_ffff,
            0x8000_0000,
            0xdead_beef,
            u32::MAX,
        ] {
            let mut generator = Generator::new(seed);
            let ours: Vec<i32> = (0..1000).map(|_| generator.next_value()).collect();
            assert_eq!(ours, host_sequence(seed, 1000), "seed {seed}");
        }
    }

    #[test]
    fn rand_r_equals_the_host_glibc() {
        for seed in [0u32, 1, 7, 0xffff_ffff] {
            let (mut ours, mut theirs) = (seed, seed);
            for _ in 0..100 {
                // SAFETY: a valid seed variable.
                assert_eq!(rand_r_step(&mut ours), unsafe { rand_r(&mut theirs) });
                assert_eq!(ours, theirs);
            }
        }
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(rand, srand, random, srandom, rand_r);
