//! `tmpnam` (C11 7.21.4.4): file names in `/tmp` that name no file when made.
//!
//! Names are glibc's shape, `/tmp/file` and six characters (so they fit
//! `L_tmpnam`, 20 bytes with the NUL), drawn from a counter; each candidate is
//! checked with `access` on the RAM file system (the `files` component) and the
//! first free one is returned. Up to `TMP_MAX` (238328, glibc's) names are made.

/// glibc's `L_tmpnam` (sysroot/include/stdio.h).
pub const NAME_SIZE: usize = 20;
/// glibc's `TMP_MAX`: how many names one program may ask for.
pub const ATTEMPTS: u32 = 238_328;

const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The candidate name for `counter`, NUL-terminated.
pub fn candidate(counter: u32) -> [u8; NAME_SIZE] {
    let mut name = [0u8; NAME_SIZE];
    let prefix = b"/tmp/file";
    name[..prefix.len()].copy_from_slice(prefix);
    // Spread successive counters over the alphabet (a multiplicative hash), so
    // names do not look sequential; distinct for distinct counters below 62^6.
    let mut value = u64::from(counter).wrapping_mul(0x9e37_79b9) % 56_800_235_584;
    for slot in &mut name[prefix.len()..prefix.len() + 6] {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    name
}

#[cfg(not(test))]
mod exports {
    use core::ffi::{c_char, c_int};
    use core::sync::atomic::{AtomicU32, Ordering};

    use super::{ATTEMPTS, NAME_SIZE, candidate};

    unsafe extern "C" {
        /// The files component's `access` (POSIX).
        fn access(path: *const c_char, mode: c_int) -> c_int;
    }

    static COUNTER: AtomicU32 = AtomicU32::new(0);
    static NAME: crate::global::StaticBuffer<NAME_SIZE> = crate::global::StaticBuffer::new();

    /// C `tmpnam`: a name no file has, in `buffer` (at least `L_tmpnam` bytes) or,
    /// when it is NULL, in a static buffer overwritten by the next call; NULL when
    /// every name is taken.
    ///
    /// # Safety
    ///
    /// `buffer` is NULL or points to `L_tmpnam` writable bytes.
    #[unsafe(export_name = "__unik_tmpnam")]
    pub unsafe extern "C" fn tmpnam(buffer: *mut c_char) -> *mut c_char {
        let saved_errno = crate::errno::get();
        for _ in 0..ATTEMPTS {
            let name = candidate(COUNTER.fetch_add(1, Ordering::Relaxed));
            // SAFETY: `name` is NUL-terminated; F_OK (0) only asks for existence.
            let taken = unsafe { access(name.as_ptr().cast(), 0) } == 0;
            if taken {
                continue;
            }
            // `access` set errno (ENOENT); tmpnam reports nothing through it.
            crate::errno::set(saved_errno);
            if buffer.is_null() {
                let length = name.iter().position(|&byte| byte == 0).unwrap_or(NAME_SIZE);
                return NAME.store_c_string(&name[..length]).cast();
            }
            // SAFETY: the caller's buffer holds L_tmpnam (NAME_SIZE) bytes.
            unsafe { core::ptr::copy_nonoverlapping(name.as_ptr(), buffer.cast(), NAME_SIZE) };
            return buffer;
        }
        crate::errno::set(saved_errno);
        core::ptr::null_mut()
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(tmpnam);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_l_tmpnam_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for counter in 0..10_000 {
            let name = candidate(counter);
            assert_eq!(name[NAME_SIZE - 1], 0);
            assert!(name.starts_with(b"/tmp/file"));
            assert!(name[9..15].iter().all(u8::is_ascii_alphanumeric));
            assert!(seen.insert(name), "counter {counter} repeats a name");
        }
    }
}
