//! `<math.h>`'s functions (C11 7.12), for `double` and `float`, from the `libm` crate
//! (a port of musl's libm: correctly rounded where C requires it, within an ulp or
//! two elsewhere, as glibc is).
//!
//! Error reporting follows glibc, whose `math_errhandling` is
//! `MATH_ERRNO | MATH_ERREXCEPT` (sysroot/include/math.h): a domain error (a NaN
//! result from non-NaN arguments: `sqrt(-1)`, `log(-1)`, `fmod(x, 0)`,
//! `acos(2)`) sets `errno` to `EDOM`; a pole error or an overflow (an infinite
//! result from finite arguments: `log(0)`, `pow(0, -1)`, `exp(1000)`) sets `ERANGE`
//! (C11 7.12.1). An underflow to zero sets `ERANGE` where glibc does so: the
//! exponentials, `pow`, `ldexp` and `scalbn` (a zero those functions return for
//! nonzero finite arguments can only be an underflow). `long double` functions are
//! not provided: on x86_64 they need 80-bit arithmetic the crate does not have.

/// The `errno` value a result calls for, given the arguments (C11 7.12.1).
pub fn error_of(result: f64, arguments: &[f64]) -> Option<i32> {
    if result.is_nan() && !arguments.iter().any(|argument| argument.is_nan()) {
        Some(crate::errno::EDOM)
    } else if result.is_infinite() && arguments.iter().all(|argument| argument.is_finite()) {
        Some(crate::errno::ERANGE)
    } else {
        None
    }
}

/// Whether a zero result of an exponential-like function is an underflow: the
/// argument that scales the result (`x` of `exp(x)` is not one: pass none) is
/// nonzero and every argument is finite.
pub fn is_underflow(result: f64, scaled: Option<f64>, arguments: &[f64]) -> bool {
    result == 0.0
        && scaled.is_none_or(|value| value != 0.0)
        && arguments.iter().all(|argument| argument.is_finite())
}

/// `checked`, and `ERANGE` for an underflow to zero (see [`is_underflow`]).
fn checked_underflow(result: f64, scaled: Option<f64>, arguments: &[f64]) -> f64 {
    if is_underflow(result, scaled, arguments) {
        crate::errno::set(crate::errno::ERANGE);
    }
    checked(result, arguments)
}

/// The same for `float` functions.
fn checked_underflow_float(result: f32, scaled: Option<f32>, arguments: &[f32]) -> f32 {
    let mut wide = [0.0f64; 2];
    for (slot, argument) in wide.iter_mut().zip(arguments) {
        *slot = f64::from(*argument);
    }
    checked_underflow(
        f64::from(result),
        scaled.map(f64::from),
        &wide[..arguments.len()],
    );
    result
}

/// `result`, after setting `errno` when it is a domain, pole or overflow error.
fn checked(result: f64, arguments: &[f64]) -> f64 {
    if let Some(error) = error_of(result, arguments) {
        crate::errno::set(error);
    }
    result
}

/// The same for `float` functions (the classification is exact in `f64`).
fn checked_float(result: f32, arguments: &[f32]) -> f32 {
    let mut wide = [0.0f64; 3];
    for (slot, argument) in wide.iter_mut().zip(arguments) {
        *slot = f64::from(*argument);
    }
    checked(f64::from(result), &wide[..arguments.len()]);
    result
}

/// C `logb` (C11 7.12.6.11): the exponent as a floating value; `logb(0)` is a pole.
pub fn logb(x: f64) -> f64 {
    if x == 0.0 {
        crate::errno::set(crate::errno::ERANGE);
        f64::NEG_INFINITY
    } else if x.is_nan() {
        x
    } else if x.is_infinite() {
        f64::INFINITY
    } else {
        f64::from(libm::ilogb(x))
    }
}

/// C `logbf`.
pub fn logbf(x: f32) -> f32 {
    logb(f64::from(x)) as f32
}

/// The `long` a rounded value converts to; out of range it is unspecified in C
/// (7.12.9.5): glibc gives `LONG_MIN` on x86_64, we saturate.
fn to_long(rounded: f64) -> i64 {
    rounded as i64
}

#[cfg(not(test))]
mod exports {
    use core::ffi::{c_char, c_int, c_long, c_longlong};

    use super::{checked, checked_float, checked_underflow, checked_underflow_float, to_long};

    /// `double f(double)` and `float f(float)` functions with the C names.
    macro_rules! unary {
        ($($name:ident),* $(,)?) => {$(
            #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
            pub extern "C" fn $name(x: f64) -> f64 {
                checked(libm::$name(x), &[x])
            }
        )*};
    }
    macro_rules! unary_float {
        ($($name:ident),* $(,)?) => {$(
            #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
            pub extern "C" fn $name(x: f32) -> f32 {
                checked_float(libm::$name(x), &[x])
            }
        )*};
    }
    macro_rules! binary {
        ($($name:ident),* $(,)?) => {$(
            #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
            pub extern "C" fn $name(x: f64, y: f64) -> f64 {
                checked(libm::$name(x, y), &[x, y])
            }
        )*};
    }
    macro_rules! binary_float {
        ($($name:ident),* $(,)?) => {$(
            #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
            pub extern "C" fn $name(x: f32, y: f32) -> f32 {
                checked_float(libm::$name(x, y), &[x, y])
            }
        )*};
    }

    unary!(
        acos, asin, atan, cos, sin, tan, cosh, sinh, tanh, acosh, asinh, atanh, expm1, log, log10,
        log1p, log2, sqrt, cbrt, fabs, ceil, floor, round, trunc, rint, erf, erfc, tgamma, lgamma,
        j0, j1, y0, y1,
    );
    unary_float!(
        acosf, asinf, atanf, cosf, sinf, tanf, coshf, sinhf, tanhf, acoshf, asinhf, atanhf, expm1f,
        logf, log10f, log1pf, log2f, sqrtf, cbrtf, fabsf, ceilf, floorf, roundf, truncf, rintf,
        erff, erfcf, tgammaf, lgammaf, j0f, j1f, y0f, y1f,
    );
    binary!(
        atan2, fmod, remainder, copysign, fdim, fmax, fmin, hypot, nextafter
    );
    binary_float!(
        atan2f, fmodf, remainderf, copysignf, fdimf, fmaxf, fminf, hypotf, nextafterf,
    );

    /// The exponentials: a zero result is an underflow.
    macro_rules! exponential {
        ($($name:ident: $type:ty, $check:ident),* $(,)?) => {$(
            #[unsafe(export_name = concat!("__unik_", stringify!($name)))]
            pub extern "C" fn $name(x: $type) -> $type {
                $check(libm::$name(x), None, &[x])
            }
        )*};
    }
    exponential!(
        exp: f64, checked_underflow,
        exp2: f64, checked_underflow,
        exp10: f64, checked_underflow,
        expf: f32, checked_underflow_float,
        exp2f: f32, checked_underflow_float,
        exp10f: f32, checked_underflow_float,
    );

    /// C `pow`: a zero result from a nonzero base is an underflow.
    #[unsafe(export_name = "__unik_pow")]
    pub extern "C" fn pow(x: f64, y: f64) -> f64 {
        checked_underflow(libm::pow(x, y), Some(x), &[x, y])
    }

    /// C `powf`.
    #[unsafe(export_name = "__unik_powf")]
    pub extern "C" fn powf(x: f32, y: f32) -> f32 {
        checked_underflow_float(libm::powf(x, y), Some(x), &[x, y])
    }

    /// C `fma`: `x * y + z` rounded once.
    #[unsafe(export_name = "__unik_fma")]
    pub extern "C" fn fma(x: f64, y: f64, z: f64) -> f64 {
        checked(libm::fma(x, y, z), &[x, y, z])
    }

    /// C `fmaf`.
    #[unsafe(export_name = "__unik_fmaf")]
    pub extern "C" fn fmaf(x: f32, y: f32, z: f32) -> f32 {
        checked_float(libm::fmaf(x, y, z), &[x, y, z])
    }

    /// C `nearbyint`: `rint` without the inexact exception (none is raised here).
    #[unsafe(export_name = "__unik_nearbyint")]
    pub extern "C" fn nearbyint(x: f64) -> f64 {
        libm::rint(x)
    }

    /// C `nearbyintf`.
    #[unsafe(export_name = "__unik_nearbyintf")]
    pub extern "C" fn nearbyintf(x: f32) -> f32 {
        libm::rintf(x)
    }

    /// C `logb`.
    #[unsafe(export_name = "__unik_logb")]
    pub extern "C" fn logb(x: f64) -> f64 {
        super::logb(x)
    }

    /// C `logbf`.
    #[unsafe(export_name = "__unik_logbf")]
    pub extern "C" fn logbf(x: f32) -> f32 {
        super::logbf(x)
    }

    /// C `ilogb`.
    #[unsafe(export_name = "__unik_ilogb")]
    pub extern "C" fn ilogb(x: f64) -> c_int {
        libm::ilogb(x)
    }

    /// C `ilogbf`.
    #[unsafe(export_name = "__unik_ilogbf")]
    pub extern "C" fn ilogbf(x: f32) -> c_int {
        libm::ilogbf(x)
    }

    /// C `ldexp`: `x * 2^exponent`.
    #[unsafe(export_name = "__unik_ldexp")]
    pub extern "C" fn ldexp(x: f64, exponent: c_int) -> f64 {
        checked_underflow(libm::ldexp(x, exponent), Some(x), &[x])
    }

    /// C `ldexpf`.
    #[unsafe(export_name = "__unik_ldexpf")]
    pub extern "C" fn ldexpf(x: f32, exponent: c_int) -> f32 {
        checked_underflow_float(libm::ldexpf(x, exponent), Some(x), &[x])
    }

    /// C `scalbn` (the same as `ldexp` in binary floating point).
    #[unsafe(export_name = "__unik_scalbn")]
    pub extern "C" fn scalbn(x: f64, exponent: c_int) -> f64 {
        checked_underflow(libm::scalbn(x, exponent), Some(x), &[x])
    }

    /// C `scalbnf`.
    #[unsafe(export_name = "__unik_scalbnf")]
    pub extern "C" fn scalbnf(x: f32, exponent: c_int) -> f32 {
        checked_underflow_float(libm::scalbnf(x, exponent), Some(x), &[x])
    }

    /// C `jn`.
    #[unsafe(export_name = "__unik_jn")]
    pub extern "C" fn jn(order: c_int, x: f64) -> f64 {
        libm::jn(order, x)
    }

    /// C `yn`.
    #[unsafe(export_name = "__unik_yn")]
    pub extern "C" fn yn(order: c_int, x: f64) -> f64 {
        checked(libm::yn(order, x), &[x])
    }

    /// C `lround`.
    #[unsafe(export_name = "__unik_lround")]
    pub extern "C" fn lround(x: f64) -> c_long {
        to_long(libm::round(x))
    }

    /// C `llround`.
    #[unsafe(export_name = "__unik_llround")]
    pub extern "C" fn llround(x: f64) -> c_longlong {
        to_long(libm::round(x))
    }

    /// C `lrint` (the current rounding mode is always round-to-nearest-even here).
    #[unsafe(export_name = "__unik_lrint")]
    pub extern "C" fn lrint(x: f64) -> c_long {
        to_long(libm::rint(x))
    }

    /// C `llrint`.
    #[unsafe(export_name = "__unik_llrint")]
    pub extern "C" fn llrint(x: f64) -> c_longlong {
        to_long(libm::rint(x))
    }

    /// C `lroundf`.
    #[unsafe(export_name = "__unik_lroundf")]
    pub extern "C" fn lroundf(x: f32) -> c_long {
        to_long(f64::from(libm::roundf(x)))
    }

    /// C `lrintf`.
    #[unsafe(export_name = "__unik_lrintf")]
    pub extern "C" fn lrintf(x: f32) -> c_long {
        to_long(f64::from(libm::rintf(x)))
    }

    /// C `frexp`: the fraction in [0.5, 1) and the exponent.
    ///
    /// # Safety
    ///
    /// `exponent` points to a writable `int` (C11 7.12.6.4).
    #[unsafe(export_name = "__unik_frexp")]
    pub unsafe extern "C" fn frexp(x: f64, exponent: *mut c_int) -> f64 {
        let (fraction, power) = libm::frexp(x);
        // SAFETY: the caller passes a writable int, as C requires.
        unsafe { exponent.write(power) };
        fraction
    }

    /// C `frexpf`.
    ///
    /// # Safety
    ///
    /// As for `frexp`.
    #[unsafe(export_name = "__unik_frexpf")]
    pub unsafe extern "C" fn frexpf(x: f32, exponent: *mut c_int) -> f32 {
        let (fraction, power) = libm::frexpf(x);
        // SAFETY: the caller passes a writable int, as C requires.
        unsafe { exponent.write(power) };
        fraction
    }

    /// C `modf`: the fractional part, with the integral part stored.
    ///
    /// # Safety
    ///
    /// `integral` points to a writable `double` (C11 7.12.6.12).
    #[unsafe(export_name = "__unik_modf")]
    pub unsafe extern "C" fn modf(x: f64, integral: *mut f64) -> f64 {
        let (fraction, whole) = libm::modf(x);
        // SAFETY: the caller passes a writable double, as C requires.
        unsafe { integral.write(whole) };
        fraction
    }

    /// C `modff`.
    ///
    /// # Safety
    ///
    /// `integral` points to a writable `float`.
    #[unsafe(export_name = "__unik_modff")]
    pub unsafe extern "C" fn modff(x: f32, integral: *mut f32) -> f32 {
        let (fraction, whole) = libm::modff(x);
        // SAFETY: the caller passes a writable float, as C requires.
        unsafe { integral.write(whole) };
        fraction
    }

    /// C `remquo`: the remainder and the low bits of the quotient.
    ///
    /// # Safety
    ///
    /// `quotient` points to a writable `int` (C11 7.12.10.3).
    #[unsafe(export_name = "__unik_remquo")]
    pub unsafe extern "C" fn remquo(x: f64, y: f64, quotient: *mut c_int) -> f64 {
        let (remainder, bits) = libm::remquo(x, y);
        // SAFETY: the caller passes a writable int, as C requires.
        unsafe { quotient.write(bits) };
        checked(remainder, &[x, y])
    }

    /// C `sincos` (a GNU extension programs use for speed).
    ///
    /// # Safety
    ///
    /// `sine` and `cosine` point to writable `double`s.
    #[unsafe(export_name = "__unik_sincos")]
    pub unsafe extern "C" fn sincos(x: f64, sine: *mut f64, cosine: *mut f64) {
        let (sin, cos) = libm::sincos(x);
        // SAFETY: the caller passes writable doubles.
        unsafe {
            sine.write(sin);
            cosine.write(cos);
        }
    }

    /// C `nan`: a quiet NaN (the payload string is accepted and ignored, as
    /// glibc's result carries no payload for an empty or non-numeric tag either).
    #[unsafe(export_name = "__unik_nan")]
    pub extern "C" fn nan(_tag: *const c_char) -> f64 {
        f64::NAN
    }

    /// C `nanf`.
    #[unsafe(export_name = "__unik_nanf")]
    pub extern "C" fn nanf(_tag: *const c_char) -> f32 {
        f32::NAN
    }
}

#[cfg(not(test))]
crate::weak_c_symbols!(
    acos, asin, atan, cos, sin, tan, cosh, sinh, tanh, acosh, asinh, atanh, exp, exp2, exp10,
    expm1, log, log10, log1p, log2, sqrt, cbrt, fabs, ceil, floor, round, trunc, rint, erf, erfc,
    tgamma, lgamma, j0, j1, y0, y1, acosf, asinf, atanf, cosf, sinf, tanf, coshf, sinhf, tanhf,
    acoshf, asinhf, atanhf, expf, exp2f, exp10f, expm1f, logf, log10f, log1pf, log2f, sqrtf, cbrtf,
    fabsf, ceilf, floorf, roundf, truncf, rintf, erff, erfcf, tgammaf, lgammaf, j0f, j1f, y0f, y1f,
    atan2, pow, fmod, remainder, copysign, fdim, fmax, fmin, hypot, nextafter, atan2f, powf, fmodf,
    remainderf, copysignf, fdimf, fmaxf, fminf, hypotf, nextafterf, fma, fmaf, nearbyint,
    nearbyintf, logb, logbf, ilogb, ilogbf, ldexp, ldexpf, scalbn, scalbnf, jn, yn, lround,
    llround, lrint, llrint, lroundf, lrintf, frexp, frexpf, modf, modff, remquo, sincos, nan, nanf,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::{EDOM, ERANGE};

    #[test]
    fn errors_follow_c11_7_12_1() {
        assert_eq!(error_of(libm::sqrt(-1.0), &[-1.0]), Some(EDOM));
        assert_eq!(error_of(libm::log(0.0), &[0.0]), Some(ERANGE));
        assert_eq!(error_of(libm::pow(0.0, -1.0), &[0.0, -1.0]), Some(ERANGE));
        assert_eq!(error_of(libm::exp(1000.0), &[1000.0]), Some(ERANGE));
        assert_eq!(error_of(libm::fmod(1.0, 0.0), &[1.0, 0.0]), Some(EDOM));
        // NaN in, NaN out and infinity in, infinity out are no errors.
        assert_eq!(error_of(libm::sqrt(f64::NAN), &[f64::NAN]), None);
        assert_eq!(error_of(libm::exp(f64::INFINITY), &[f64::INFINITY]), None);
        assert_eq!(error_of(libm::pow(2.0, 10.0), &[2.0, 10.0]), None);
    }

    #[test]
    fn underflow_is_a_zero_from_nonzero_finite_arguments() {
        assert!(is_underflow(libm::exp(-1000.0), None, &[-1000.0]));
        assert!(!is_underflow(
            libm::exp(f64::NEG_INFINITY),
            None,
            &[f64::NEG_INFINITY]
        ));
        assert!(is_underflow(
            libm::pow(0.5, 2000.0),
            Some(0.5),
            &[0.5, 2000.0]
        ));
        assert!(!is_underflow(libm::pow(0.0, 2.0), Some(0.0), &[0.0, 2.0]));
        assert!(is_underflow(libm::ldexp(1.0, -2000), Some(1.0), &[1.0]));
        assert!(!is_underflow(libm::ldexp(0.0, 5), Some(0.0), &[0.0]));
        assert!(!is_underflow(libm::exp(-1.0), None, &[-1.0]));
    }

    #[test]
    fn logb_and_rounding_to_long() {
        assert_eq!(logb(8.0), 3.0);
        assert_eq!(logb(0.1), -4.0);
        assert_eq!(logb(f64::INFINITY), f64::INFINITY);
        assert_eq!(logb(0.0), f64::NEG_INFINITY);
        assert_eq!(to_long(libm::round(2.5)), 3);
        assert_eq!(to_long(libm::rint(2.5)), 2);
        assert_eq!(to_long(libm::round(-2.5)), -3);
    }
}
