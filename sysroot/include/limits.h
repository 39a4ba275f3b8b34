/* unik libc: <limits.h> (C11 5.2.4.2.1) for LP64, plus the POSIX limits that are
 * compile-time constants on Linux. */
#ifndef _LIMITS_H
#define _LIMITS_H 1

#include <features.h>

#define CHAR_BIT 8
#define MB_LEN_MAX 16

#define SCHAR_MIN (-128)
#define SCHAR_MAX 127
#define UCHAR_MAX 255
/* char is signed on x86_64 and unsigned on aarch64; the compiler says which. */
#ifdef __CHAR_UNSIGNED__
# define CHAR_MIN 0
# define CHAR_MAX UCHAR_MAX
#else
# define CHAR_MIN SCHAR_MIN
# define CHAR_MAX SCHAR_MAX
#endif

#define SHRT_MIN (-32768)
#define SHRT_MAX 32767
#define USHRT_MAX 65535
#define INT_MIN (-INT_MAX - 1)
#define INT_MAX 2147483647
#define UINT_MAX 4294967295U
#define LONG_MAX 9223372036854775807L
#define LONG_MIN (-LONG_MAX - 1L)
#define ULONG_MAX 18446744073709551615UL
#define LLONG_MAX 9223372036854775807LL
#define LLONG_MIN (-LLONG_MAX - 1LL)
#define ULLONG_MAX 18446744073709551615ULL

#ifdef __UNIK_USE_POSIX
# define SSIZE_MAX LONG_MAX
# define _POSIX_SSIZE_MAX 32767
/* Linux's values (linux/limits.h). */
# define PATH_MAX 4096
# define NAME_MAX 255
#endif

#endif
