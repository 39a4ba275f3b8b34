//! The host-testable rules of the module: `sysconf` names, `mmap` argument checks.

/// `sysconf` names (glibc `bits/confname.h`, the same on x86_64 and aarch64).
pub const SC_ARG_MAX: i32 = 0;
pub const SC_CHILD_MAX: i32 = 1;
pub const SC_CLK_TCK: i32 = 2;
pub const SC_OPEN_MAX: i32 = 4;
pub const SC_PAGESIZE: i32 = 30;
pub const SC_LINE_MAX: i32 = 43;
pub const SC_GETGR_R_SIZE_MAX: i32 = 69;
pub const SC_GETPW_R_SIZE_MAX: i32 = 70;
pub const SC_THREAD_STACK_MIN: i32 = 75;
pub const SC_NPROCESSORS_CONF: i32 = 83;
pub const SC_NPROCESSORS_ONLN: i32 = 84;

/// What the machine looks like to `sysconf`.
#[derive(Clone, Copy, Debug)]
pub struct Machine {
    pub processors: i64,
}

/// The answer to `sysconf(name)`: `Some(value)` (-1 meaning "no limit", errno
/// untouched, as POSIX says for indeterminate limits), or `None` for a name this
/// libc does not know (the caller sets EINVAL).
pub fn sysconf(name: i32, machine: Machine) -> Option<i64> {
    Some(match name {
        // Linux's ARG_MAX floor and `ulimit -u`-like values are meaningless here;
        // these are the values a program sizing buffers with them expects.
        SC_ARG_MAX => 131_072,
        SC_CHILD_MAX => -1,
        // USER_HZ: what glibc reports on Linux, and clock() is per CLOCKS_PER_SEC.
        SC_CLK_TCK => 100,
        SC_OPEN_MAX => 1024,
        SC_PAGESIZE => crate::auxv::PAGE_SIZE as i64,
        SC_LINE_MAX => 2048,
        SC_GETGR_R_SIZE_MAX | SC_GETPW_R_SIZE_MAX => -1,
        // PTHREAD_STACK_MIN of glibc (x86_64: 16384; aarch64: 131072 — the larger
        // is safe for both).
        SC_THREAD_STACK_MIN => 131_072,
        SC_NPROCESSORS_CONF | SC_NPROCESSORS_ONLN => machine.processors,
        _ => return None,
    })
}

/// `mmap` protections and flags (Linux uapi `asm-generic/mman-common.h`).
pub const PROT_READ: i32 = 0x1;
pub const PROT_WRITE: i32 = 0x2;
pub const PROT_EXEC: i32 = 0x4;
pub const MAP_SHARED: i32 = 0x01;
pub const MAP_PRIVATE: i32 = 0x02;
pub const MAP_FIXED: i32 = 0x10;
pub const MAP_ANONYMOUS: i32 = 0x20;

/// Why an `mmap` request is refused, as its errno.
pub fn mmap_refusal(length: usize, protection: i32, flags: i32) -> Option<i32> {
    use crate::errno::{EINVAL, ENODEV, ENOMEM};
    if length == 0 {
        return Some(EINVAL);
    }
    if flags & (MAP_SHARED | MAP_PRIVATE) == 0 {
        return Some(EINVAL);
    }
    if flags & MAP_ANONYMOUS == 0 {
        // No files to map yet: the descriptor layer has no mappable files.
        return Some(ENODEV);
    }
    if flags & MAP_FIXED != 0 {
        // One address space shared with the runtime: a fixed address could be anything.
        return Some(ENOMEM);
    }
    if protection & PROT_EXEC != 0 {
        // Heap memory is no-execute (DESIGN.md decision 6).
        return Some(crate::errno::EACCES);
    }
    None
}

/// The length of a mapping: `length` rounded up to whole pages, or `None` when that
/// overflows.
pub fn mapping_length(length: usize) -> Option<usize> {
    let page = crate::auxv::PAGE_SIZE as usize;
    length
        .checked_add(page - 1)
        .map(|total| total & !(page - 1))
}

/// The disposition reported for a signal nobody has set: fault signals are the
/// runtime's (see the module docs), the others are SIG_DFL.
pub fn runtime_handles(signal: i32) -> bool {
    // SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11 (the same numbers on x86_64
    // and aarch64 Linux).
    matches!(signal, 4 | 5 | 7 | 8 | 11)
}

/// Highest signal number (Linux `_NSIG - 1`).
pub const SIGNAL_MAX: i32 = 64;

/// Whether `signal`'s disposition may be changed (SIGKILL and SIGSTOP: never).
pub fn changeable(signal: i32) -> bool {
    (1..=SIGNAL_MAX).contains(&signal) && signal != 9 && signal != 19
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINE: Machine = Machine { processors: 1 };

    #[test]
    fn sysconf_answers_what_std_asks() {
        assert_eq!(sysconf(SC_PAGESIZE, MACHINE), Some(4096));
        assert_eq!(sysconf(SC_NPROCESSORS_ONLN, MACHINE), Some(1));
        assert_eq!(sysconf(85, MACHINE), None); // _SC_PHYS_PAGES: not known
        assert_eq!(sysconf(SC_GETPW_R_SIZE_MAX, MACHINE), Some(-1));
        assert_eq!(sysconf(9999, MACHINE), None);
        assert_eq!(sysconf(-1, MACHINE), None);
    }

    #[test]
    fn mmap_takes_only_anonymous_private_memory() {
        let anonymous = MAP_PRIVATE | MAP_ANONYMOUS;
        let rw = PROT_READ | PROT_WRITE;
        assert_eq!(mmap_refusal(4096, rw, anonymous), None);
        assert_eq!(mmap_refusal(0, rw, anonymous), Some(crate::errno::EINVAL));
        assert_eq!(
            mmap_refusal(4096, rw, MAP_PRIVATE),
            Some(crate::errno::ENODEV)
        );
        assert_eq!(
            mmap_refusal(4096, rw, anonymous | MAP_FIXED),
            Some(crate::errno::ENOMEM)
        );
        assert_eq!(
            mmap_refusal(4096, rw | PROT_EXEC, anonymous),
            Some(crate::errno::EACCES)
        );
        assert_eq!(
            mmap_refusal(4096, rw, MAP_ANONYMOUS),
            Some(crate::errno::EINVAL)
        );
    }

    #[test]
    fn mappings_are_whole_pages() {
        assert_eq!(mapping_length(1), Some(4096));
        assert_eq!(mapping_length(4096), Some(4096));
        assert_eq!(mapping_length(4097), Some(8192));
        assert_eq!(mapping_length(usize::MAX), None);
    }

    #[test]
    fn fault_signals_are_the_runtimes() {
        assert!(runtime_handles(11));
        assert!(!runtime_handles(13));
        assert!(!changeable(9));
        assert!(!changeable(0));
        assert!(!changeable(65));
        assert!(changeable(13));
    }
}
