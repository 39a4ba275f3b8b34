//! Randomness: the boot's few draws straight from the CPU, and the runtime's one random
//! number generator for everything that needs a stream — `getrandom` (function and
//! system call), `getentropy`, `/dev/urandom` and `/dev/random`, AT_RANDOM, the
//! network stack's seed.
//!
//! - The boot's draws (the stack-protector canary, the pointer guard, the heap's check
//!   secret; ASLR's bits, `crate::aslr`) take 64 bits each from the CPU's random
//!   instruction ([`hardware_u64`]): a handful of values, each one instruction's output
//!   (RDSEED and RDRAND are conditioned, RNDR a DRBG's), so the generator below is only
//!   linked into images whose program draws a stream (`--gc-sections` drops it from the
//!   others). On a CPU without the instruction they take their fixed fallbacks; a
//!   virtio-rng device could not stand in, it opens later, at program start.
//!
//! - Generator: ChaCha20 (RFC 8439's block function, the `chacha20` crate's
//!   `ChaCha20Rng`), with *fast key erasure* (Bernstein, "Fast-key-erasure random-number
//!   generators", 2017): after every request the key is replaced by the generator's own
//!   next 32 bytes, so the state in memory never reveals earlier output.
//! - Seed: 32 bytes from the CPU's hardware source, drawn on first use — RDSEED, else
//!   RDRAND on x86_64 (Intel DRNG guide 5.2: RDSEED is the conditioned entropy source,
//!   RDRAND a DRBG over it); RNDR on aarch64 (FEAT_RNG). On a CPU without one, a
//!   device source when one was registered ([`set_device_source`]: the `rng-virtio`
//!   component's virtio-rng driver, at program start — what the boot draws before
//!   that, the canary and AT_RANDOM, stays unrandomized there).
//! - Reseed policy: after every [`RESEED_INTERVAL_BYTES`] of output, 32 fresh hardware
//!   bytes are mixed into the key (new key = own output XOR hardware bytes). A reseed
//!   that finds the hardware failing keeps the current key (it is already secret) and
//!   is tried again at the next request.
//! - No hardware source: the generator is never seeded and every request fails with
//!   [`NoEntropy`] ("fail closed"). Nothing is ever derived from a clock or a counter.
//!
//! One global generator behind a lock taken with interrupts off (no preemption while
//! held, so one CPU never spins on its own lock).

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// Output after which the generator mixes in fresh hardware bytes.
pub const RESEED_INTERVAL_BYTES: u64 = 1 << 20;

/// The CPU has no hardware random source (or it keeps failing): no random bytes can be
/// given out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoEntropy;

/// A seeded generator and its reseed bookkeeping; the source of fresh entropy is passed
/// in (the CPU's on the target, a fake in the host tests).
struct Generator {
    chacha: ChaCha20Rng,
    output_since_reseed: u64,
}

/// 32 bytes from `source`, or `None` when it fails.
fn hardware_seed(source: &mut impl FnMut() -> Option<u64>) -> Option<[u8; 32]> {
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        chunk.copy_from_slice(&source()?.to_le_bytes());
    }
    Some(seed)
}

impl Generator {
    fn seeded(source: &mut impl FnMut() -> Option<u64>) -> Result<Generator, NoEntropy> {
        let seed = hardware_seed(source).ok_or(NoEntropy)?;
        Ok(Generator {
            chacha: ChaCha20Rng::from_seed(seed),
            output_since_reseed: 0,
        })
    }

    /// Fills `buffer`, then erases the key that produced it.
    fn fill(&mut self, buffer: &mut [u8], source: &mut impl FnMut() -> Option<u64>) {
        if self.output_since_reseed >= RESEED_INTERVAL_BYTES
            && let Some(fresh) = hardware_seed(source)
        {
            let mut key = [0u8; 32];
            self.chacha.fill_bytes(&mut key);
            for (byte, fresh) in key.iter_mut().zip(fresh) {
                *byte ^= fresh;
            }
            self.chacha = ChaCha20Rng::from_seed(key);
            self.output_since_reseed = 0;
        }
        self.chacha.fill_bytes(buffer);
        self.output_since_reseed = self.output_since_reseed.saturating_add(buffer.len() as u64);
        let mut next_key = [0u8; 32];
        self.chacha.fill_bytes(&mut next_key);
        self.chacha = ChaCha20Rng::from_seed(next_key);
    }
}

#[cfg(not(test))]
mod global {
    use core::cell::UnsafeCell;
    use core::sync::atomic::{AtomicBool, Ordering};

    use super::{Generator, NoEntropy};
    use crate::arch::threading as arch;

    /// The generator and the device source, behind one lock.
    struct State {
        generator: Option<Generator>,
        /// 64 bits from a device (virtio-rng), for a CPU without a random instruction.
        device_source: Option<fn() -> Option<u64>>,
    }

    struct Locked {
        taken: AtomicBool,
        state: UnsafeCell<State>,
    }

    // SAFETY: `state` is only touched by `locked`, which holds `taken` (acquire/release)
    // for the whole access.
    unsafe impl Sync for Locked {}

    static GENERATOR: Locked = Locked {
        taken: AtomicBool::new(false),
        state: UnsafeCell::new(State {
            generator: None,
            device_source: None,
        }),
    };

    /// Runs `body` on the state under the lock (interrupts off).
    fn locked<T>(body: impl FnOnce(&mut State) -> T) -> T {
        let interrupts = arch::disable_interrupts();
        while GENERATOR
            .taken
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held: no other reference to the state exists.
        let result = body(unsafe { &mut *GENERATOR.state.get() });
        GENERATOR.taken.store(false, Ordering::Release);
        arch::restore_interrupts(interrupts);
        result
    }

    /// Makes `source` (64 bits from a device, `None` when it fails) the seed source for
    /// a CPU without a random number instruction. The source is called with the
    /// generator's lock held and interrupts off: it must not block or allocate.
    pub fn set_device_source(source: fn() -> Option<u64>) {
        locked(|state| state.device_source = Some(source));
    }

    /// Runs `body` with the generator (seeded on first use) under the lock.
    fn with_generator<T>(
        body: impl FnOnce(&mut Generator, &mut dyn FnMut() -> Option<u64>) -> T,
    ) -> Result<T, NoEntropy> {
        locked(|state| {
            let device = state.device_source;
            let mut source = move || arch::hardware_random().or_else(|| device?());
            if state.generator.is_none() {
                state.generator = Some(Generator::seeded(&mut source)?);
            }
            let generator = state.generator.as_mut().ok_or(NoEntropy)?;
            Ok(body(generator, &mut source))
        })
    }

    /// Fills `buffer` with random bytes; [`NoEntropy`] (the buffer untouched) when there
    /// is no random source (no CPU instruction, no device source).
    pub fn fill(buffer: &mut [u8]) -> Result<(), NoEntropy> {
        with_generator(|generator, source| {
            // Requests are served in pieces so that the lock (and interrupts off) is
            // never held for long.
            for piece in buffer.chunks_mut(4096) {
                generator.fill(piece, &mut || source());
            }
        })
    }
}

#[cfg(not(test))]
pub use global::{fill, set_device_source};

/// 64 bits straight from the CPU's random instruction (RDSEED, else RDRAND; RNDR), for
/// the boot's few draws; `None` on a CPU without one (or when it keeps failing).
/// Stateless and lock-free: usable at any point of the boot.
#[cfg(not(test))]
pub fn hardware_u64() -> Option<u64> {
    crate::arch::threading::hardware_random()
}

/// Whether the CPU offers a hardware random source (the boot log).
#[cfg(not(test))]
pub fn has_hardware_source() -> bool {
    hardware_u64().is_some()
}

/// glibc's terminator canary, the value `_dl_setup_stack_chk_guard` uses when the
/// kernel gave no AT_RANDOM: bytes 0, …, 0, `\n`, 0xff (little-endian). A string copy
/// stops at its NUL or newline, so it cannot write the canary back; it is the same on
/// every boot, which is why it is only the fallback.
pub const TERMINATOR_CANARY: u64 = 0xff0a_0000_0000_0000;

/// The stack-protector canary for a boot's `draw` of 64 random bits: random, with a
/// zero low byte like glibc's, so that a string overflow (which stops at NUL) cannot
/// reproduce it; the terminator canary when there is no draw (no hardware source).
pub fn stack_guard_from(draw: Option<u64>) -> u64 {
    draw.map_or(TERMINATOR_CANARY, |value| value & !0xff)
}

/// The stack-protector canary, drawn from the CPU ([`stack_guard_from`]).
#[cfg(not(test))]
pub fn stack_guard() -> u64 {
    stack_guard_from(hardware_u64())
}

/// The pointer guard (`%fs:0x30`): random, 0 without a hardware source.
#[cfg(not(test))]
pub fn pointer_guard() -> u64 {
    hardware_u64().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting_source() -> impl FnMut() -> Option<u64> {
        let mut next = 0u64;
        move || {
            next += 1;
            Some(next.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        }
    }

    #[test]
    fn the_canary_has_a_zero_low_byte_and_a_fixed_fallback() {
        assert_eq!(
            stack_guard_from(Some(0x1234_5678_9abc_deff)),
            0x1234_5678_9abc_de00
        );
        assert_eq!(stack_guard_from(None), TERMINATOR_CANARY);
    }

    #[test]
    fn no_source_no_generator() {
        assert_eq!(Generator::seeded(&mut || None).err(), Some(NoEntropy));
        // A source that fails part-way gives no seed either.
        let mut calls = 0;
        let mut flaky = || {
            calls += 1;
            (calls < 3).then_some(7)
        };
        assert_eq!(Generator::seeded(&mut flaky).err(), Some(NoEntropy));
    }

    #[test]
    fn output_is_chacha20_of_the_seed_first() {
        // The first request is plain ChaCha20Rng output for the hardware seed.
        let mut source = counting_source();
        let seed = hardware_seed(&mut counting_source()).unwrap();
        let mut generator = Generator::seeded(&mut source).unwrap();
        let mut ours = [0u8; 48];
        generator.fill(&mut ours, &mut source);
        let mut reference = [0u8; 48];
        ChaCha20Rng::from_seed(seed).fill_bytes(&mut reference);
        assert_eq!(ours, reference);
    }

    #[test]
    fn key_is_erased_after_each_request() {
        // Two requests of 16 bytes differ from one stream's first 32 bytes: the key
        // changed in between.
        let mut source = counting_source();
        let mut generator = Generator::seeded(&mut source).unwrap();
        let (mut first, mut second) = ([0u8; 16], [0u8; 16]);
        generator.fill(&mut first, &mut source);
        generator.fill(&mut second, &mut source);
        let mut stream = [0u8; 32];
        let seed = hardware_seed(&mut counting_source()).unwrap();
        ChaCha20Rng::from_seed(seed).fill_bytes(&mut stream);
        assert_eq!(first, stream[..16]);
        assert_ne!(second, stream[16..]);
        assert_ne!(first, second);
    }

    #[test]
    fn reseeds_after_the_interval_and_survives_a_failing_source() {
        let mut draws = 0u32;
        let mut source = || {
            draws += 1;
            Some(u64::from(draws))
        };
        let mut generator = Generator::seeded(&mut source).unwrap();
        let mut buffer = vec![0u8; RESEED_INTERVAL_BYTES as usize];
        generator.fill(&mut buffer, &mut source);
        assert_eq!(generator.output_since_reseed, RESEED_INTERVAL_BYTES);
        // Hardware failing at reseed time: output continues, the reseed waits.
        generator.fill(&mut buffer[..8], &mut || None);
        assert_eq!(generator.output_since_reseed, RESEED_INTERVAL_BYTES + 8);
        let mut draws = 0u32;
        generator.fill(&mut buffer[..8], &mut || {
            draws += 1;
            Some(1)
        });
        assert_eq!(draws, 4, "32 fresh bytes mixed in");
        assert_eq!(generator.output_since_reseed, 8);
    }
}
