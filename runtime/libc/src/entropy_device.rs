//! The `rng-virtio` component (runtime/components.toml): a virtio-rng device as the
//! random generator's seed source on a CPU without a random number instruction
//! (`unik run --rng` adds the device; the driver is `unik_kernel::virtio_rng`).
//!
//! Its init function runs at program start, before `main` and the other components'
//! inits that draw random bytes: with RDRAND/RDSEED or RNDR it does nothing (the
//! instruction is the source); without, it opens the device if the machine has one.
//! The boot's own draws (the stack-protector canary, the heap's check secret,
//! AT_RANDOM) take the CPU's instruction only (`unik_kernel::random::hardware_u64`): on
//! such a CPU they stay unrandomized even with the device.

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn __unik_init_rng_virtio() {
    use unik_kernel::virtio_rng::{self, EntropyDeviceError};
    if crate::kernel::random::has_hardware_source() {
        return;
    }
    let reason: &[u8] = match virtio_rng::open(crate::start::kernel_command_line()) {
        Ok(()) | Err(EntropyDeviceError::NoDevice) => return,
        Err(EntropyDeviceError::Mapping) => b"its registers could not be mapped",
        Err(EntropyDeviceError::Setup) => b"it refused the driver's set-up",
        Err(EntropyDeviceError::Silent) => b"it gave no random bytes",
    };
    let console = crate::kernel::console::write_err;
    console(b"unik: warning: the virtio-rng device cannot be used (");
    console(reason);
    console(b"): there is no random source, random requests fail\n");
}
