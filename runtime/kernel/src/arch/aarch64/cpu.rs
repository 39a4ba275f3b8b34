//! System registers the Rust side needs, and randomness.
//!
//! Register encodings: Arm ARM (DDI 0487) D19 "AArch64 System Register Descriptions".

/// ID_AA64ISAR0_EL1.RNDR (bits 63:60) = 0b0001: the RNDR/RNDRRS registers exist
/// (FEAT_RNG).
fn has_random_number_register() -> bool {
    let features: u64;
    // SAFETY: ID_AA64ISAR0_EL1 is readable at EL1 on every ARMv8 CPU; reading it has no
    // side effect.
    unsafe {
        core::arch::asm!("mrs {}, id_aa64isar0_el1", out(reg) features, options(nomem, nostack));
    }
    (features >> 60) & 0xf >= 1
}

/// 64 bits from RNDR (FEAT_RNG), or `None` when the CPU has none or it keeps failing.
/// Stateless: touches no memory, usable at any point of the boot.
pub fn hardware_random() -> Option<u64> {
    if !has_random_number_register() {
        return None;
    }
    // FEAT_RNG: RNDR sets NZCV to 0b0100 (Z) when it could not produce a number in
    // reasonable time; retry a few times like for x86's RDRAND.
    for _ in 0..10 {
        let value: u64;
        let failed: u64;
        // SAFETY: RNDR exists (checked above); the read only writes the named
        // registers and the flags. `s3_3_c2_c4_0` is RNDR's encoding, spelled out for
        // assemblers without FEAT_RNG enabled.
        unsafe {
            core::arch::asm!(
                "mrs {value}, s3_3_c2_c4_0",
                "cset {failed}, eq",
                value = out(reg) value,
                failed = out(reg) failed,
                options(nomem, nostack),
            );
        }
        if failed == 0 {
            return Some(value);
        }
    }
    None
}

/// The virtual counter (CNTVCT_EL0): ticks at the system counter frequency.
pub fn virtual_counter() -> u64 {
    let value: u64;
    // SAFETY: CNTVCT_EL0 is readable at EL1 (EL2 was told not to trap counter access);
    // the `isb` keeps the read from being taken early.
    unsafe {
        core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack));
    }
    value
}

/// Points TPIDR_EL0, the thread pointer of AArch64 TLS (AAELF64 "Thread Local
/// Storage"), at `thread_pointer`.
///
/// # Safety
/// `thread_pointer` must point at a TCB followed by the TLS block, valid for the run.
pub unsafe fn set_thread_pointer(thread_pointer: u64) {
    // SAFETY: writing TPIDR_EL0 changes only what TLS accesses resolve to; the caller
    // guarantees the block is valid.
    unsafe {
        core::arch::asm!("msr tpidr_el0, {}", in(reg) thread_pointer, options(nomem, nostack))
    };
}
