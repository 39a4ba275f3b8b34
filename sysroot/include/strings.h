/* unik libc: <strings.h> (POSIX; bzero and bcmp from BSD). */
#ifndef _STRINGS_H
#define _STRINGS_H 1

#include <features.h>
#include <bits/unik-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif

__BEGIN_DECLS

int strcasecmp(const char *left, const char *right) __THROW;
int strncasecmp(const char *left, const char *right, size_t count) __THROW;
int ffs(int value) __THROW __attribute__((__const__));
#if defined __UNIK_USE_MISC || defined _XOPEN_SOURCE
int bcmp(const void *left, const void *right, size_t count) __THROW;
void bzero(void *memory, size_t count) __THROW;
#endif
#ifdef __UNIK_USE_GNU
int ffsl(long int value) __THROW __attribute__((__const__));
int ffsll(long long int value) __THROW __attribute__((__const__));
#endif

__END_DECLS

#endif
