/* unik libc: <stddef.h> (C11 7.19). */
#ifndef _STDDEF_H
#define _STDDEF_H 1

#include <bits/unik-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif

typedef __PTRDIFF_TYPE__ ptrdiff_t;

#if !defined __cplusplus && !defined __unik_wchar_t_defined
#define __unik_wchar_t_defined 1
typedef __unik_wchar_t wchar_t;
#endif

/* The most aligned scalar type, as GCC and glibc define it. */
#if (defined __STDC_VERSION__ && __STDC_VERSION__ >= 201112L) || (defined __cplusplus && __cplusplus >= 201103L)
typedef struct {
  long long __unik_long_long __attribute__((__aligned__(__alignof__(long long))));
  long double __unik_long_double __attribute__((__aligned__(__alignof__(long double))));
} max_align_t;
#endif

#undef NULL
#define NULL __UNIK_NULL

#define offsetof(type, member) __builtin_offsetof(type, member)

#endif
