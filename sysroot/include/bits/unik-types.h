/* unik libc: the basic types shared by several headers, each defined once (glibc LP64
 * layouts). Internal: include the public headers instead. */
#ifndef _BITS_UNIK_TYPES_H
#define _BITS_UNIK_TYPES_H 1

typedef __SIZE_TYPE__ __unik_size_t;
typedef long int __unik_ssize_t;
typedef long int __unik_off_t;
typedef int __unik_pid_t;
typedef long int __unik_time_t;
typedef long int __unik_clock_t;
typedef int __unik_clockid_t;
typedef long int __unik_suseconds_t;
typedef unsigned int __unik_useconds_t;

#ifndef __cplusplus
typedef __WCHAR_TYPE__ __unik_wchar_t;
#endif

#ifdef __cplusplus
# define __UNIK_NULL __null
#else
# define __UNIK_NULL ((void *)0)
#endif

#endif
