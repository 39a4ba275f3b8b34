/* unik libc: feature-test macros and declaration helpers (after glibc's <features.h>).
 *
 * Which names the headers declare follows glibc's rules, so programs see what they see
 * on Linux:
 *   _GNU_SOURCE                         everything (ISO C, POSIX, BSD/SVID, GNU)
 *   no feature macro, not -std=cNN      POSIX 2008 + BSD/SVID ("_DEFAULT_SOURCE")
 *   _DEFAULT_SOURCE, _BSD_SOURCE        POSIX 2008 + BSD/SVID
 *   _POSIX_C_SOURCE, _XOPEN_SOURCE      POSIX
 *   -std=c99/c11 alone (__STRICT_ANSI__) ISO C only
 */
#ifndef _FEATURES_H
#define _FEATURES_H 1

#define __unik_libc__ 1

#ifdef _GNU_SOURCE
# undef  _DEFAULT_SOURCE
# define _DEFAULT_SOURCE 1
#endif
#if (defined _BSD_SOURCE || defined _SVID_SOURCE) && !defined _DEFAULT_SOURCE
# define _DEFAULT_SOURCE 1
#endif
#if !defined __STRICT_ANSI__ && !defined _ISOC99_SOURCE && !defined _ISOC11_SOURCE \
    && !defined _POSIX_SOURCE && !defined _POSIX_C_SOURCE && !defined _XOPEN_SOURCE \
    && !defined _DEFAULT_SOURCE
# define _DEFAULT_SOURCE 1
#endif

#if defined _DEFAULT_SOURCE || defined _POSIX_SOURCE || defined _POSIX_C_SOURCE \
    || defined _XOPEN_SOURCE
# define __UNIK_USE_POSIX 1
#endif
#ifdef _DEFAULT_SOURCE
# define __UNIK_USE_MISC 1
#endif
#ifdef _GNU_SOURCE
# define __UNIK_USE_GNU 1
#endif

#ifdef __cplusplus
# define __BEGIN_DECLS extern "C" {
# define __END_DECLS }
# if __cplusplus >= 201103L
#  define __THROW noexcept(true)
# else
#  define __THROW throw()
# endif
# define __UNIK_NORETURN [[noreturn]]
#else
# define __BEGIN_DECLS
# define __END_DECLS
# define __THROW
# define __UNIK_NORETURN _Noreturn
#endif

/* `restrict` is C99; C++ compilers know `__restrict`. */
#define __UNIK_RESTRICT __restrict

/* printf-style format checking (-Wformat). */
#define __UNIK_PRINTF(format_index, first_argument) \
  __attribute__((__format__(__printf__, format_index, first_argument)))

/* The headers describe the glibc LP64 ABI of x86_64 and aarch64 only. */
#if __SIZEOF_LONG__ != 8 || __SIZEOF_POINTER__ != 8
# error "unik: the sysroot headers are for LP64 targets (x86_64, aarch64)"
#endif

#endif /* _FEATURES_H */
