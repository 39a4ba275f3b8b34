/* unik libc: <math.h> (C11 7.12) — the constants, types and classification macros,
 * which the compiler implements, and the functions for double and float
 * (runtime/libc/src/math.rs: errno as glibc sets it for domain, pole and overflow
 * errors). The long double functions (sinl, …) are not provided, so they are not
 * declared: a program calling one fails to compile, visibly. */
#ifndef _MATH_H
#define _MATH_H 1

#include <features.h>

#define HUGE_VAL (__builtin_huge_val())
#define HUGE_VALF (__builtin_huge_valf())
#define HUGE_VALL (__builtin_huge_vall())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))

/* glibc's values. */
#define FP_NAN 0
#define FP_INFINITE 1
#define FP_ZERO 2
#define FP_SUBNORMAL 3
#define FP_NORMAL 4

#define MATH_ERRNO 1
#define MATH_ERREXCEPT 2
#define math_errhandling (MATH_ERRNO | MATH_ERREXCEPT)

/* FLT_EVAL_METHOD is 0 on x86_64 (SSE) and aarch64. */
typedef float float_t;
typedef double double_t;

#define fpclassify(x) __builtin_fpclassify(FP_NAN, FP_INFINITE, FP_NORMAL, FP_SUBNORMAL, FP_ZERO, x)
#define isfinite(x) __builtin_isfinite(x)
#define isinf(x) __builtin_isinf_sign(x)
#define isnan(x) __builtin_isnan(x)
#define isnormal(x) __builtin_isnormal(x)
#define signbit(x) __builtin_signbit(x)
#define isgreater(x, y) __builtin_isgreater(x, y)
#define isgreaterequal(x, y) __builtin_isgreaterequal(x, y)
#define isless(x, y) __builtin_isless(x, y)
#define islessequal(x, y) __builtin_islessequal(x, y)
#define islessgreater(x, y) __builtin_islessgreater(x, y)
#define isunordered(x, y) __builtin_isunordered(x, y)

#if defined __UNIK_USE_MISC || defined _XOPEN_SOURCE
# define M_E 2.7182818284590452354
# define M_LOG2E 1.4426950408889634074
# define M_LOG10E 0.43429448190325182765
# define M_LN2 0.69314718055994530942
# define M_LN10 2.30258509299404568402
# define M_PI 3.14159265358979323846
# define M_PI_2 1.57079632679489661923
# define M_PI_4 0.78539816339744830962
# define M_1_PI 0.31830988618379067154
# define M_2_PI 0.63661977236758134308
# define M_2_SQRTPI 1.12837916709551257390
# define M_SQRT2 1.41421356237309504880
# define M_SQRT1_2 0.70710678118654752440
#endif

__BEGIN_DECLS

#define FP_ILOGB0 (-2147483647 - 1)
#define FP_ILOGBNAN (-2147483647 - 1)

#define __UNIK_MATH_1(name) double name(double __x) __THROW; float name##f(float __x) __THROW;
#define __UNIK_MATH_2(name) double name(double __x, double __y) __THROW; float name##f(float __x, float __y) __THROW;
__UNIK_MATH_1(acos) __UNIK_MATH_1(asin) __UNIK_MATH_1(atan) __UNIK_MATH_2(atan2)
__UNIK_MATH_1(cos) __UNIK_MATH_1(sin) __UNIK_MATH_1(tan)
__UNIK_MATH_1(acosh) __UNIK_MATH_1(asinh) __UNIK_MATH_1(atanh)
__UNIK_MATH_1(cosh) __UNIK_MATH_1(sinh) __UNIK_MATH_1(tanh)
__UNIK_MATH_1(exp) __UNIK_MATH_1(exp2) __UNIK_MATH_1(expm1)
__UNIK_MATH_1(log) __UNIK_MATH_1(log10) __UNIK_MATH_1(log1p) __UNIK_MATH_1(log2) __UNIK_MATH_1(logb)
__UNIK_MATH_1(cbrt) __UNIK_MATH_1(fabs) __UNIK_MATH_2(hypot) __UNIK_MATH_2(pow) __UNIK_MATH_1(sqrt)
__UNIK_MATH_1(erf) __UNIK_MATH_1(erfc) __UNIK_MATH_1(lgamma) __UNIK_MATH_1(tgamma)
__UNIK_MATH_1(ceil) __UNIK_MATH_1(floor) __UNIK_MATH_1(nearbyint) __UNIK_MATH_1(rint)
__UNIK_MATH_1(round) __UNIK_MATH_1(trunc)
__UNIK_MATH_2(fmod) __UNIK_MATH_2(remainder) __UNIK_MATH_2(copysign) __UNIK_MATH_2(nextafter)
__UNIK_MATH_2(fdim) __UNIK_MATH_2(fmax) __UNIK_MATH_2(fmin)
#undef __UNIK_MATH_1
#undef __UNIK_MATH_2

double fma(double __x, double __y, double __z) __THROW;
float fmaf(float __x, float __y, float __z) __THROW;
double frexp(double __x, int *__exponent) __THROW;
float frexpf(float __x, int *__exponent) __THROW;
double ldexp(double __x, int __exponent) __THROW;
float ldexpf(float __x, int __exponent) __THROW;
double scalbn(double __x, int __exponent) __THROW;
float scalbnf(float __x, int __exponent) __THROW;
int ilogb(double __x) __THROW;
int ilogbf(float __x) __THROW;
double modf(double __x, double *__integral) __THROW;
float modff(float __x, float *__integral) __THROW;
double remquo(double __x, double __y, int *__quotient) __THROW;
long int lround(double __x) __THROW;
long int lroundf(float __x) __THROW;
long long int llround(double __x) __THROW;
long int lrint(double __x) __THROW;
long int lrintf(float __x) __THROW;
long long int llrint(double __x) __THROW;
double nan(const char *__tag) __THROW;
float nanf(const char *__tag) __THROW;

#if defined __UNIK_USE_MISC || defined _XOPEN_SOURCE
double j0(double __x) __THROW;
double j1(double __x) __THROW;
double jn(int __order, double __x) __THROW;
double y0(double __x) __THROW;
double y1(double __x) __THROW;
double yn(int __order, double __x) __THROW;
#endif
#ifdef _GNU_SOURCE
double exp10(double __x) __THROW;
float exp10f(float __x) __THROW;
void sincos(double __x, double *__sine, double *__cosine) __THROW;
#endif

__END_DECLS

#endif
