//! The printf engine: C99 `printf` format strings rendered into a byte sink.
//! Pure, safe Rust; the varargs come through [`Arguments`], implemented over a C
//! `va_list` by the stdio module (and over a vector in the host tests).
//! (Interface skeleton; the engine itself is being written.)

/// Where formatted bytes go. Implementations count, truncate or buffer as they need.
pub trait Sink {
    fn write(&mut self, bytes: &[u8]);
}

/// The size of an integer argument, from the length modifier (`hh h l ll z j t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerSize {
    /// `int` (no modifier), also `hh` and `h` (promoted to int in varargs).
    Int,
    /// `long` (`l`), `long long` (`ll`), `size_t` (`z`), `intmax_t` (`j`), `ptrdiff_t` (`t`):
    /// all 64-bit on LP64.
    Long,
}

/// The next variadic argument, as the conversion asks for it.
pub trait Arguments {
    /// Fetches an integer argument of this size, sign- or zero-extended to 64 bits as the
    /// engine will reinterpret it (the engine truncates for `hh`/`h`).
    fn integer(&mut self, size: IntegerSize) -> u64;
    /// Fetches a `double` argument (`%f %e %g %a` without `L`).
    fn double(&mut self) -> f64;
    /// Fetches a `long double` argument (`L` modifier), converted to the nearest `f64`.
    fn long_double(&mut self) -> f64;
    /// Fetches a pointer argument (`%p`, `%s`, `%n`) as an address.
    fn pointer(&mut self) -> usize;
    /// Reads the NUL-terminated string at `address` (for `%s`), at most `limit` bytes when
    /// a precision is given. Returns the bytes without the NUL.
    fn string(&mut self, address: usize, limit: Option<usize>) -> &[u8];
    /// Stores `count` through the `%n` pointer at `address`, as the given C type width in bytes.
    fn store_count(&mut self, address: usize, width_bytes: usize, count: i64);
}

/// Renders `format` with `arguments` into `out`; returns the number of bytes produced.
pub fn format(_out: &mut dyn Sink, _format: &[u8], _arguments: &mut dyn Arguments) -> usize {
    0
}
