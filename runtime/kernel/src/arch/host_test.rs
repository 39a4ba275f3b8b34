//! Stand-in backend for the kernel's host unit tests: no console, and `exit` panics so
//! that a test reaching it fails loudly.

pub mod serial {
    #[derive(Clone, Copy)]
    pub enum Channel {
        Output,
        Error,
    }

    pub fn write(_channel: Channel, _bytes: &[u8]) {}

    pub fn read(_buffer: &mut [u8]) -> usize {
        0
    }

    pub fn input_pending() -> bool {
        false
    }

    pub fn has_error_channel() -> bool {
        false
    }
}

pub fn exit(status: u8) -> ! {
    panic!("the kernel called exit({status}) in a host test")
}

pub fn reboot() -> ! {
    panic!("the kernel called reboot() in a host test")
}
