//! `reboot(2)` (<sys/reboot.h>, glibc's prototype): a unikernel is the whole machine,
//! so the program may restart or stop it. The commands are Linux's magic numbers
//! (uapi linux/reboot.h, as glibc's `RB_*`).
//!
//! - `RB_AUTOBOOT`: resets the machine (`unik_kernel::reboot`: `unik run` reports "the
//!   guest rebooted").
//! - `RB_POWER_OFF`, `RB_HALT_SYSTEM`: the machine stops as at the program's end with
//!   status 0 (the exit device, or ACPI / PSCI power-off); a halted unikernel would be
//!   a machine that hangs, so halting also switches off.
//! - `RB_ENABLE_CAD`, `RB_DISABLE_CAD`: accepted, nothing to do (no Ctrl-Alt-Del).
//! - anything else (`RB_KEXEC`, `RB_SW_SUSPEND`, unknown): EINVAL.
//!
//! As with Linux, nothing is flushed: stdio's buffers are the program's to flush first.

use crate::errno::{self, EINVAL};

pub const RB_AUTOBOOT: u32 = 0x0123_4567;
pub const RB_HALT_SYSTEM: u32 = 0xcdef_0123;
pub const RB_ENABLE_CAD: u32 = 0x89ab_cdef;
pub const RB_DISABLE_CAD: u32 = 0;
pub const RB_POWER_OFF: u32 = 0x4321_fedc;

/// What a reboot command asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Restart,
    PowerOff,
    Nothing,
    Invalid,
}

pub fn command(howto: u32) -> Command {
    match howto {
        RB_AUTOBOOT => Command::Restart,
        RB_POWER_OFF | RB_HALT_SYSTEM => Command::PowerOff,
        RB_ENABLE_CAD | RB_DISABLE_CAD => Command::Nothing,
        _ => Command::Invalid,
    }
}

/// glibc `reboot`: returns only for the commands that do nothing (0) or fail (-1).
pub fn reboot(howto: u32) -> i32 {
    match command(howto) {
        #[cfg(not(test))]
        Command::Restart => unik_kernel::reboot(),
        #[cfg(not(test))]
        Command::PowerOff => crate::kernel::exit(0),
        #[cfg(test)]
        Command::Restart | Command::PowerOff => unreachable!("not in host tests"),
        Command::Nothing => 0,
        Command::Invalid => {
            errno::set(EINVAL);
            -1
        }
    }
}

#[cfg(not(test))]
mod exports {
    use core::ffi::c_int;

    /// glibc `reboot` (<sys/reboot.h>).
    #[unsafe(export_name = "__unik_reboot")]
    pub extern "C" fn reboot(howto: c_int) -> c_int {
        super::reboot(howto as u32)
    }

    crate::weak_c_symbols!(reboot);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_linux_magic_numbers() {
        assert_eq!(command(0x0123_4567), Command::Restart);
        assert_eq!(command(0x4321_fedc), Command::PowerOff);
        assert_eq!(command(0xcdef_0123), Command::PowerOff);
        assert_eq!(command(0x89ab_cdef), Command::Nothing);
        assert_eq!(command(0), Command::Nothing);
        // RB_KEXEC, RB_SW_SUSPEND and garbage.
        for howto in [0x4558_4543, 0xd000_fce2, 42] {
            assert_eq!(command(howto), Command::Invalid);
            assert_eq!(reboot(howto), -1);
        }
        assert_eq!(reboot(RB_DISABLE_CAD), 0);
    }
}
