//! The C symbols of [`super`]: thin wrappers over [`super::logic`].

use core::ffi::{c_char, c_int, c_long, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

use super::logic::{self, Machine};
use crate::errno::{self, EINVAL};

/// The runtime schedules every thread on one CPU (`sched_getaffinity` reports bit 0).
const PROCESSORS: i64 = 1;

/// glibc `sysconf`.
#[unsafe(export_name = "__unik_sysconf")]
pub extern "C" fn sysconf(name: c_int) -> c_long {
    match logic::sysconf(
        name,
        Machine {
            processors: PROCESSORS,
        },
    ) {
        Some(value) => value as c_long,
        None => {
            errno::set(EINVAL);
            -1
        }
    }
}

/// `MAP_FAILED`.
const MAP_FAILED: *mut c_void = usize::MAX as *mut c_void;

/// glibc `mmap`: anonymous private memory only (module docs).
#[unsafe(export_name = "__unik_mmap")]
pub extern "C" fn mmap(
    address: *mut c_void,
    length: usize,
    protection: c_int,
    flags: c_int,
    _descriptor: c_int,
    _offset: i64,
) -> *mut c_void {
    // A non-fixed address is only a hint (mmap(2)); it is not taken.
    let _ = address;
    if let Some(error) = logic::mmap_refusal(length, protection, flags) {
        errno::set(error);
        return MAP_FAILED;
    }
    let Some(length) = logic::mapping_length(length) else {
        errno::set(errno::ENOMEM);
        return MAP_FAILED;
    };
    let page = crate::auxv::PAGE_SIZE as usize;
    match crate::memory::allocate_or_set_errno(length, page) {
        Some(block) => {
            // SAFETY: the fresh block holds `length` writable bytes; anonymous mappings
            // are zero-filled (mmap(2)), and freed heap memory is not.
            unsafe { block.as_ptr().write_bytes(0, length) };
            block.as_ptr().cast()
        }
        None => MAP_FAILED,
    }
}

/// glibc `munmap`: ends a whole mapping made by [`mmap`].
///
/// # Safety
/// `address` is what `mmap` returned and nothing uses the mapping any more.
#[unsafe(export_name = "__unik_munmap")]
pub unsafe extern "C" fn munmap(address: *mut c_void, length: usize) -> c_int {
    let page = crate::auxv::PAGE_SIZE as usize;
    if address.is_null() || !(address as usize).is_multiple_of(page) || length == 0 {
        errno::set(EINVAL);
        return -1;
    }
    // SAFETY: caller's contract: a block of the heap (a foreign pointer ends the run
    // with free()'s misuse report, as a heap corruption would).
    unsafe { crate::memory::free_pointer(address.cast()) };
    0
}

/// glibc `mprotect`: heap memory is read-write and no-execute and stays so; asking for
/// exactly that succeeds, anything else fails with EACCES (never silently ignored).
#[unsafe(export_name = "__unik_mprotect")]
pub extern "C" fn mprotect(address: *mut c_void, _length: usize, protection: c_int) -> c_int {
    let page = crate::auxv::PAGE_SIZE as usize;
    if !(address as usize).is_multiple_of(page) {
        errno::set(EINVAL);
        return -1;
    }
    if protection == logic::PROT_READ | logic::PROT_WRITE {
        return 0;
    }
    errno::set(errno::EACCES);
    -1
}

/// The disposition set for each signal (0: none set yet), the `sa_handler` word.
static HANDLERS: [AtomicUsize; logic::SIGNAL_MAX as usize + 1] =
    [const { AtomicUsize::new(0) }; logic::SIGNAL_MAX as usize + 1];

/// What a fault signal's disposition is until a program sets one: faults end the run
/// with a crash report before any handler could run (module docs), so this is never
/// called by the runtime; a program calling it by hand ends as the signal would.
extern "C" fn runtime_fault_handler(signal: c_int) {
    crate::kernel::exit(128 + signal)
}

fn current_handler(signal: c_int) -> usize {
    match HANDLERS[signal as usize].load(Ordering::Acquire) {
        0 if logic::runtime_handles(signal) => runtime_fault_handler as *const () as usize,
        value => value,
    }
}

/// Size of glibc's `struct sigaction` on x86_64 and aarch64: the handler, a 128-byte
/// `sigset_t`, `int sa_flags` (padded), the restorer.
const SIGACTION_SIZE: usize = 152;

/// glibc `sigaction`: keeps and reports dispositions (module docs).
///
/// # Safety
/// `action` and `old` are NULL or point to a `struct sigaction`.
#[unsafe(export_name = "__unik_sigaction")]
pub unsafe extern "C" fn sigaction(signal: c_int, action: *const u8, old: *mut u8) -> c_int {
    let valid = (1..=logic::SIGNAL_MAX).contains(&signal);
    if !valid || (!action.is_null() && !logic::changeable(signal)) {
        errno::set(EINVAL);
        return -1;
    }
    if !old.is_null() {
        // SAFETY: caller's contract: `old` is a writable struct sigaction, whose first
        // word is the handler.
        unsafe {
            old.write_bytes(0, SIGACTION_SIZE);
            old.cast::<usize>().write_unaligned(current_handler(signal));
        }
    }
    if !action.is_null() {
        // SAFETY: caller's contract.
        let handler = unsafe { action.cast::<usize>().read_unaligned() };
        HANDLERS[signal as usize].store(handler, Ordering::Release);
    }
    0
}

/// glibc `signal` (BSD semantics, as glibc): the previous handler, or SIG_ERR.
#[unsafe(export_name = "__unik_signal")]
pub extern "C" fn signal(signal: c_int, handler: usize) -> usize {
    if !logic::changeable(signal) {
        errno::set(EINVAL);
        return usize::MAX; // SIG_ERR
    }
    let previous = current_handler(signal);
    HANDLERS[signal as usize].store(handler, Ordering::Release);
    previous
}

/// `SS_DISABLE` (Linux uapi `asm-generic/signal-defs.h`).
const SS_DISABLE: c_int = 2;

/// glibc `sigaltstack`: no signal is ever delivered, so an alternate stack is never
/// used; a new one is accepted and the current one reported disabled.
///
/// # Safety
/// `old` is NULL or points to a writable `stack_t`.
#[unsafe(export_name = "__unik_sigaltstack")]
pub unsafe extern "C" fn sigaltstack(_stack: *const c_void, old: *mut c_void) -> c_int {
    if !old.is_null() {
        // SAFETY: caller's contract: stack_t is { void *ss_sp; int ss_flags; size_t
        // ss_size } (24 bytes on LP64).
        unsafe {
            let old = old.cast::<u8>();
            old.write_bytes(0, 24);
            old.add(8).cast::<c_int>().write_unaligned(SS_DISABLE);
        }
    }
    0
}

/// glibc `struct dl_phdr_info` (`<link.h>`), as far as `dlpi_tls_data`.
#[repr(C)]
pub struct ObjectInfo {
    address: u64,
    name: *const c_char,
    program_headers: *const c_void,
    header_count: u16,
    adds: u64,
    subs: u64,
    tls_module: usize,
    tls_data: *mut c_void,
}

type ObjectCallback = unsafe extern "C" fn(*mut ObjectInfo, usize, *mut c_void) -> c_int;

/// glibc `dl_iterate_phdr`: the image is the only object; its load bias is how far
/// the kernel moved it from its link address (ASLR, 0 without), its program headers
/// are the ones the ELF header points to.
///
/// # Safety
/// `callback` is a valid function of that type.
#[unsafe(export_name = "__unik_dl_iterate_phdr")]
pub unsafe extern "C" fn dl_iterate_phdr(callback: ObjectCallback, data: *mut c_void) -> c_int {
    let headers = crate::auxv::exports::program_headers();
    let mut info = ObjectInfo {
        address: unik_kernel::aslr::image_offset(),
        name: c"".as_ptr(),
        program_headers: headers.address as *const c_void,
        header_count: headers.count as u16,
        adds: 1,
        subs: 0,
        tls_module: 0,
        tls_data: core::ptr::null_mut(),
    };
    // SAFETY: caller's contract; `info` lives across the call.
    unsafe { callback(&mut info, core::mem::size_of::<ObjectInfo>(), data) }
}

/// glibc `dlsym`: the image has no dynamic symbol table, so every lookup finds
/// nothing (NULL), which is what code probing for an optional function with
/// `dlsym(RTLD_DEFAULT, name)` (Rust std's weak symbols) expects when the C library
/// lacks it. `dlopen` stays unavailable: there is nothing to load.
#[unsafe(export_name = "__unik_dlsym")]
pub extern "C" fn dlsym(_handle: *mut c_void, _name: *const c_char) -> *mut c_void {
    core::ptr::null_mut()
}

/// glibc `gnu_get_libc_version`: the glibc release whose ABI the runtime follows
/// (Debian bookworm's 2.36, the reference of the differential tests). Rust's std
/// reads it to choose `posix_spawn` over fork/exec for `process::Command`; a
/// stub's NULL or -1 would crash it.
#[unsafe(export_name = "__unik_gnu_get_libc_version")]
pub extern "C" fn gnu_get_libc_version() -> *const c_char {
    c"2.36".as_ptr()
}

crate::weak_c_symbols!(
    gnu_get_libc_version,
    dlsym,
    sysconf,
    mmap,
    munmap,
    mprotect,
    sigaction,
    signal,
    sigaltstack,
    dl_iterate_phdr
);

// Large-file names of the same functions (glibc's LP64 `mmap64` is `mmap`).
core::arch::global_asm!(".weak mmap64", ".set mmap64, __unik_mmap");
