//! CPU feature queries and randomness.

use core::arch::x86_64::{__cpuid, _rdtsc};

use ::x86_64::registers::model_specific::{Efer, EferFlags};

/// Whether execute-disable is on (the entry code sets EFER.NXE when CPUID has NX).
/// Without it, bit 63 of a page table entry is reserved and must stay clear.
pub fn has_execute_disable() -> bool {
    Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE)
}

/// CPUID.1:ECX bit 30: the RDRAND instruction (Intel SDM vol. 2, CPUID, table 3-10).
fn has_rdrand() -> bool {
    // CPUID exists on every x86_64 CPU; leaf 1 always exists.
    let leaf = __cpuid(1);
    leaf.ecx & (1 << 30) != 0
}

/// 64 random bits from RDRAND, or `None` when the CPU has none or it keeps failing.
fn rdrand() -> Option<u64> {
    if !has_rdrand() {
        return None;
    }
    // Intel's DRNG guide: retry up to 10 times, a failure after that means the
    // generator is broken.
    for _ in 0..10 {
        let value: u64;
        let success: u8;
        // SAFETY: RDRAND exists (CPUID above); it only writes the two registers named.
        unsafe {
            core::arch::asm!(
                "rdrand {value}",
                "setc {success}",
                value = out(reg) value,
                success = out(reg_byte) success,
                options(nomem, nostack),
            );
        }
        if success != 0 {
            return Some(value);
        }
    }
    None
}

/// A value that differs from boot to boot: RDRAND when the CPU has it, otherwise the
/// time-stamp counter mixed with itself (weak, but never constant).
pub fn boot_random() -> u64 {
    if let Some(value) = rdrand() {
        return value;
    }
    // SAFETY: RDTSC is always available in ring 0 (CR4.TSD only restricts ring 3).
    let timestamp = unsafe { _rdtsc() };
    // SplitMix64's finaliser: spreads the low, fast-changing bits over the whole word.
    let mut mixed = timestamp.wrapping_add(0x9e37_79b9_7f4a_7c15);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    mixed ^ (mixed >> 31)
}
