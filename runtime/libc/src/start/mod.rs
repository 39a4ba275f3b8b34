//! Program start (runtime/README.md, "Program start and exit"): heap, `argv` and the
//! environment from the command line, constructors, `main`, `exit`.

pub mod command_line;

use core::ffi::c_char;
use core::ptr::null_mut;

use crate::global::CVariable;
use crate::memory::{Array, HEAP};
use crate::stdlib::environment;
use command_line::{Parameter, classify_parameter, layout, split_words, words};

/// glibc's `program_invocation_name`: `argv[0]` (GNU, declared in `<errno.h>`).
#[cfg_attr(not(test), unsafe(no_mangle))]
#[allow(non_upper_case_globals)]
pub static program_invocation_name: CVariable<*mut c_char> =
    CVariable::new(c"app".as_ptr().cast_mut());

/// glibc's `program_invocation_short_name`: `argv[0]` after its last `/`.
#[cfg_attr(not(test), unsafe(no_mangle))]
#[allow(non_upper_case_globals)]
pub static program_invocation_short_name: CVariable<*mut c_char> =
    CVariable::new(c"app".as_ptr().cast_mut());

/// The program's name for messages (`__assert_fail`): the short name, as glibc uses
/// `__progname`.
pub fn program_name() -> &'static [u8] {
    let name = program_invocation_short_name.get();
    // SAFETY: the variable holds a static C string or points into argv[0], which lives
    // for ever (a program that assigns it must keep the same promise, as with glibc).
    unsafe { core::ffi::CStr::from_ptr(name) }.to_bytes()
}

/// The offset of the name after the last `/` of a path (`basename` without copying).
pub fn short_name_offset(path: &[u8]) -> usize {
    path.iter()
        .rposition(|&byte| byte == b'/')
        .map_or(0, |slash| slash + 1)
}

/// Why start could not set the program up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    OutOfMemory,
}

/// Builds `argv` (NULL-terminated, on the heap) from the command line and adds the
/// `KEY=VALUE` parameters to the environment. Returns `(argc, argv)`.
pub fn build_arguments(command_line: &[u8]) -> Result<(i32, *mut *mut c_char), StartError> {
    let buffer_length = command_line.len() + 1;
    let buffer = HEAP
        .allocate(buffer_length, 1)
        .ok_or(StartError::OutOfMemory)?;
    // SAFETY: the block holds `buffer_length` bytes; it is never freed, since argv and
    // environ point into it for the rest of the program.
    let split = unsafe { core::slice::from_raw_parts_mut(buffer.as_ptr(), buffer_length) };
    let found = split_words(command_line, split).ok_or(StartError::OutOfMemory)?;
    let count = found.words;
    let split: &[u8] = split;
    let base = buffer.as_ptr();
    let address_of = |word: &[u8]| -> *mut c_char {
        // SAFETY: `word` is a subslice of `split`, which starts at `base`.
        unsafe { base.add(word.as_ptr().offset_from(split.as_ptr()) as usize) }.cast()
    };
    let layout = layout(found);
    let mut arguments: Array<*mut c_char> = Array::new();
    for (index, word) in words(split, count).enumerate() {
        if command_line::is_device_description(word) {
            continue;
        }
        if index < layout.parameters_end {
            if classify_parameter(word) == Parameter::Environment {
                // SAFETY: the word is NUL-terminated in `split`, which is never freed.
                let added = unsafe { environment::add_at_start(address_of(word)) };
                if !added {
                    return Err(StartError::OutOfMemory);
                }
            }
        } else if index >= layout.arguments_start && !arguments.push(address_of(word)) {
            return Err(StartError::OutOfMemory);
        }
    }
    if arguments.is_empty() {
        // A writable copy: programs may modify their argv strings.
        let name = command_line::DEFAULT_PROGRAM_NAME;
        let copy = HEAP
            .allocate(name.len() + 1, 1)
            .ok_or(StartError::OutOfMemory)?;
        // SAFETY: the block holds name.len() + 1 bytes.
        unsafe {
            copy.as_ptr()
                .copy_from_nonoverlapping(name.as_ptr(), name.len());
            copy.as_ptr().add(name.len()).write(0);
        }
        if !arguments.push(copy.as_ptr().cast()) {
            return Err(StartError::OutOfMemory);
        }
    }
    let argc = i32::try_from(arguments.len()).map_err(|_| StartError::OutOfMemory)?;
    if !arguments.push(null_mut()) {
        return Err(StartError::OutOfMemory);
    }
    // An environment that is empty is still a valid (empty) array, never NULL.
    if !environment::ensure_initialized() {
        return Err(StartError::OutOfMemory);
    }
    let argv = arguments.as_mut_ptr();
    // SAFETY: argv holds at least one string (argv[0]), NUL-terminated.
    let (name, bytes) = unsafe { (*argv, core::ffi::CStr::from_ptr(*argv).to_bytes()) };
    program_invocation_name.set(name);
    // SAFETY: the offset is within argv[0] (at most its length).
    program_invocation_short_name.set(unsafe { name.add(short_name_offset(bytes)) });
    // The array stays alive for ever: `arguments` is not dropped-and-freed (Array has no
    // Drop), so argv remains valid.
    Ok((argc, argv))
}

/// A constructor in `.preinit_array`/`.init_array`: glibc passes `argc, argv, envp`.
type Constructor = Option<unsafe extern "C" fn(i32, *mut *mut c_char, *mut *mut c_char)>;

/// Runs the constructors in `start..end` in order.
///
/// # Safety
/// `start..end` is an array of constructor pointers (or NULL/-1 entries, skipped).
unsafe fn run_constructors(
    start: *const Constructor,
    end: *const Constructor,
    argc: i32,
    argv: *mut *mut c_char,
    envp: *mut *mut c_char,
) {
    let mut cursor = start;
    while cursor < end {
        // SAFETY: cursor lies within the array (caller's contract).
        let entry = unsafe { cursor.read() };
        // Some toolchains mark unused slots with -1 (as `.ctors` did); skip them and NULL.
        if let Some(constructor) = entry.filter(|function| *function as usize != usize::MAX) {
            // SAFETY: the linker collected this pointer from a constructor section.
            unsafe { constructor(argc, argv, envp) };
        }
        // SAFETY: still within or one past the array.
        cursor = unsafe { cursor.add(1) };
    }
}

/// An entry of the component init table: `extern "C" fn()`.
type ComponentInit = Option<unsafe extern "C" fn()>;

/// Runs the component init functions in `start..end` in order (the driver wrote them
/// in dependency order: a component's requirements first; sysroot/MANIFEST.md).
///
/// # Safety
/// `start..end` is an array of init function pointers (NULL entries are skipped).
unsafe fn run_component_inits(start: *const ComponentInit, end: *const ComponentInit) {
    let mut cursor = start;
    while cursor < end {
        // SAFETY: cursor lies within the array (caller's contract).
        if let Some(init) = unsafe { cursor.read() } {
            // SAFETY: unikcc's generated object put only init functions here.
            unsafe { init() };
        }
        // SAFETY: still within or one past the array.
        cursor = unsafe { cursor.add(1) };
    }
}

#[cfg(not(test))]
unsafe extern "C" {
    // Linker-script symbols around the component init table that unikcc generates
    // (`.unik_init`) and the constructor arrays (sysroot/link/<target>.ld).
    static __unik_init_start: [ComponentInit; 0];
    static __unik_init_end: [ComponentInit; 0];
    // Linker-script symbols around the constructor arrays (sysroot/link/<target>.ld).
    static __preinit_array_start: [Constructor; 0];
    static __preinit_array_end: [Constructor; 0];
    static __init_array_start: [Constructor; 0];
    static __init_array_end: [Constructor; 0];
    /// The program's `main` (C11 5.1.2.2.1, with glibc's third `envp` argument).
    fn main(argc: i32, argv: *mut *mut c_char, envp: *mut *mut c_char) -> i32;
}

/// The kernel command line (set once by [`start`], before any init function runs), for
/// components that take runtime options from it (`unik.ip=` …, the `net` component).
static COMMAND_LINE: crate::global::Global<&'static [u8]> = crate::global::Global::new(&[]);

/// The kernel command line as the boot handed it over.
pub fn kernel_command_line() -> &'static [u8] {
    COMMAND_LINE.with(|line| *line)
}

/// The libc's program start: sets up the heap, `argv` and `environ`, runs the
/// constructors, calls `main` and exits with its status.
#[cfg(not(test))]
pub fn start(boot: &'static crate::kernel::BootInfo) -> ! {
    // The heap's check secret comes straight from the CPU's random instruction (one
    // draw: the ChaCha20 generator stays out of images that need no stream); without
    // one the checks still catch accidents, with a fixed key.
    let secret = crate::kernel::random::hardware_u64().unwrap_or(0x756e_696b_6865_6170);
    // SAFETY: the kernel hands over `heap_start..heap_start + heap_len` as free RAM,
    // mapped read-write, used by nothing else (BootInfo contract).
    let claimed = unsafe { HEAP.claim(boot.heap_start as *mut u8, boot.heap_len, secret) };
    if !claimed {
        crate::kernel::console::write_err(b"unik: the heap is too small to start the program\n");
        crate::kernel::exit(134);
    }
    if boot.spare_len > 0 {
        // SAFETY: as above, for the second free range (BootInfo contract). A range too
        // small for the allocator is left unused: the program runs without it.
        let _ = unsafe { HEAP.claim(boot.spare_start as *mut u8, boot.spare_len, secret) };
    }
    COMMAND_LINE.with(|line| *line = boot.cmdline);
    let Ok((argc, argv)) = build_arguments(boot.cmdline) else {
        crate::kernel::console::write_err(b"unik: out of memory while building argv and environ\n");
        crate::kernel::exit(134);
    };
    let envp = crate::stdlib::environment::current();
    // The selected components' init functions run before any constructor, so that
    // constructors may use every component the program links.
    // SAFETY: the linker script brackets `.unik_init`, an array of init pointers.
    unsafe {
        run_component_inits(
            unik_kernel::symbol_address!(__unik_init_start) as *const _,
            unik_kernel::symbol_address!(__unik_init_end) as *const _,
        );
    }
    // SAFETY: the linker script defines each pair around an array of constructor
    // pointers; argv and envp are the NULL-terminated arrays built above.
    unsafe {
        run_constructors(
            unik_kernel::symbol_address!(__preinit_array_start) as *const _,
            unik_kernel::symbol_address!(__preinit_array_end) as *const _,
            argc,
            argv,
            envp,
        );
        run_constructors(
            unik_kernel::symbol_address!(__init_array_start) as *const _,
            unik_kernel::symbol_address!(__init_array_end) as *const _,
            argc,
            argv,
            envp,
        );
    }
    // SAFETY: the program defines `main` with the C signature; the arguments follow C's
    // rules (argv[argc] == NULL, strings writable).
    let status = unsafe { main(argc, argv, envp) };
    crate::process::exit(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicI32, Ordering};

    static CALLS: AtomicI32 = AtomicI32::new(0);

    unsafe extern "C" fn record(argc: i32, _: *mut *mut c_char, _: *mut *mut c_char) {
        CALLS.fetch_add(argc * 10, Ordering::Relaxed);
    }

    static INITS: AtomicI32 = AtomicI32::new(0);

    unsafe extern "C" fn init_first() {
        INITS.store(INITS.load(Ordering::Relaxed) * 10 + 1, Ordering::Relaxed);
    }

    unsafe extern "C" fn init_second() {
        INITS.store(INITS.load(Ordering::Relaxed) * 10 + 2, Ordering::Relaxed);
    }

    #[test]
    fn component_inits_run_in_table_order() {
        let entries: [ComponentInit; 3] = [Some(init_first), None, Some(init_second)];
        let range = entries.as_ptr_range();
        // SAFETY: the range is exactly the array.
        unsafe { run_component_inits(range.start, range.end) };
        assert_eq!(INITS.load(Ordering::Relaxed), 12);
    }

    #[test]
    fn constructors_run_and_skip_empty_slots() {
        let skipped: Constructor =
            // SAFETY: -1 is only compared, never called.
            unsafe { core::mem::transmute::<usize, Constructor>(usize::MAX) };
        let entries: [Constructor; 4] = [Some(record), None, skipped, Some(record)];
        let range = entries.as_ptr_range();
        // SAFETY: the range is exactly the array; `record` ignores argv and envp.
        unsafe { run_constructors(range.start, range.end, 2, null_mut(), null_mut()) };
        assert_eq!(CALLS.load(Ordering::Relaxed), 40);
    }

    fn strings(argv: *mut *mut c_char) -> Vec<String> {
        let mut result = Vec::new();
        let mut index = 0;
        loop {
            // SAFETY: argv is NULL-terminated.
            let entry = unsafe { *argv.add(index) };
            if entry.is_null() {
                return result;
            }
            // SAFETY: entries are C strings.
            result.push(
                unsafe { core::ffi::CStr::from_ptr(entry) }
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
            index += 1;
        }
    }

    #[test]
    fn arguments_and_environment_from_the_command_line() {
        let _serial = crate::global::serialize_test();
        crate::memory::claim_test_heap();
        let (argc, argv) = build_arguments(b"t a 'b c'").unwrap();
        assert_eq!(argc, 3);
        assert_eq!(strings(argv), ["t", "a", "b c"]);
        let (argc, argv) = build_arguments(b"").unwrap();
        assert_eq!((argc, strings(argv)), (1, vec!["app".to_owned()]));
        let (argc, argv) =
            build_arguments(b"UNIK_TEST_START=yes unik.verbose quiet -- prog -- x").unwrap();
        assert_eq!(
            (argc, strings(argv)),
            (3, vec!["prog".to_owned(), "--".to_owned(), "x".to_owned()])
        );
        assert!(environment::lookup(b"UNIK_TEST_START").is_some());
        assert!(environment::lookup(b"quiet").is_none());
        assert_eq!(program_name(), b"prog");
        let (_, _) = build_arguments(b"-- /usr/bin/tool x").unwrap();
        assert_eq!(program_name(), b"tool");
        assert_eq!(short_name_offset(b"/a/b"), 3);
        assert_eq!(short_name_offset(b"plain"), 0);
        assert_eq!(short_name_offset(b"dir/"), 4);
        let (argc, argv) = build_arguments(b"A=1 --").unwrap();
        assert_eq!((argc, strings(argv)), (1, vec!["app".to_owned()]));
    }
}
