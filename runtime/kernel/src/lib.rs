//! unik kernel: boot, arch, memory, console and exit. (skeleton; see ../README.md)
#![no_std]

pub struct BootInfo {
    pub cmdline: &'static [u8],
    pub heap_start: usize,
    pub heap_len: usize,
}

pub mod console {
    pub fn write(_bytes: &[u8]) {}
    pub fn write_err(_bytes: &[u8]) {}
    pub fn read(_buf: &mut [u8]) -> usize {
        0
    }
}

pub fn exit(_status: i32) -> ! {
    loop {}
}

pub fn runtime_panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    exit(134)
}
