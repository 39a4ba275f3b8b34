//! CPU feature queries and randomness.

use core::arch::x86_64::{__cpuid, __cpuid_count};

use ::x86_64::registers::model_specific::{Efer, EferFlags};

/// Whether execute-disable is on (the entry code sets EFER.NXE when CPUID has NX).
/// Without it, bit 63 of a page table entry is reserved and must stay clear.
pub fn has_execute_disable() -> bool {
    Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE)
}

/// CPUID.80000001H:EDX bit 26: 1 GiB pages (Intel SDM vol. 2, CPUID, table 3-8).
pub fn has_1_gib_pages() -> bool {
    // Extended leaves exist up to the one CPUID.80000000H:EAX names.
    __cpuid(0x8000_0000).eax >= 0x8000_0001 && __cpuid(0x8000_0001).edx & (1 << 26) != 0
}

/// CPUID.1:ECX bit 30: the RDRAND instruction (Intel SDM vol. 2, CPUID, table 3-10).
fn has_rdrand() -> bool {
    // CPUID exists on every x86_64 CPU; leaf 1 always exists.
    let leaf = __cpuid(1);
    leaf.ecx & (1 << 30) != 0
}

/// CPUID.(EAX=07H,ECX=0):EBX bit 18: the RDSEED instruction (SDM vol. 2, table 3-8).
fn has_rdseed() -> bool {
    // Leaf 7 exists when leaf 0 reports it (EAX = highest leaf).
    __cpuid(0).eax >= 7 && __cpuid_count(7, 0).ebx & (1 << 18) != 0
}

/// One RDSEED; `None` when the CPU reported no value ready (CF = 0). The intrinsic is
/// the instruction plus `setc` (Intel SDM vol. 2, RDSEED).
#[target_feature(enable = "rdseed")]
fn rdseed() -> Option<u64> {
    let mut value = 0;
    (core::arch::x86_64::_rdseed64_step(&mut value) == 1).then_some(value)
}

/// One RDRAND; `None` when the CPU reported no value ready (CF = 0).
#[target_feature(enable = "rdrand")]
fn rdrand() -> Option<u64> {
    let mut value = 0;
    (core::arch::x86_64::_rdrand64_step(&mut value) == 1).then_some(value)
}

/// The first value of up to `attempts` tries of `step` (a spin-loop hint in between).
fn first_success(attempts: u32, mut step: impl FnMut() -> Option<u64>) -> Option<u64> {
    (0..attempts).find_map(|_| {
        let value = step();
        if value.is_none() {
            core::hint::spin_loop();
        }
        value
    })
}

/// 64 bits from the CPU's random number generator: RDSEED (the conditioned entropy
/// source, preferred for seeding), else RDRAND; `None` when the CPU has neither or they
/// keep failing. Stateless: touches no memory, usable at any point of the boot.
pub fn hardware_random() -> Option<u64> {
    // Intel's DRNG guide (5.2.1, 5.3.1): RDRAND may fail transiently, retry up to 10
    // times; RDSEED fails more often under load, so it gets more tries (with `pause`)
    // before RDRAND is used instead.
    let seeded = if has_rdseed() {
        // SAFETY: CPUID says the CPU has RDSEED (the function's only requirement).
        first_success(100, || unsafe { rdseed() })
    } else {
        None
    };
    seeded.or_else(|| {
        // SAFETY: CPUID says the CPU has RDRAND.
        has_rdrand().then(|| first_success(10, || unsafe { rdrand() }))?
    })
}
