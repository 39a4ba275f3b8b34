/* unik libc: <stdlib.h> (C11 7.22) and the POSIX/BSD/GNU additions glibc has. */
#ifndef _STDLIB_H
#define _STDLIB_H 1

#include <features.h>
#include <bits/unik-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif
#if !defined __cplusplus && !defined __unik_wchar_t_defined
#define __unik_wchar_t_defined 1
typedef __unik_wchar_t wchar_t;
#endif

#undef NULL
#define NULL __UNIK_NULL

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647
/* The "C" locale's characters are single bytes. */
#define MB_CUR_MAX ((size_t)1)

__BEGIN_DECLS

typedef struct { int quot; int rem; } div_t;
typedef struct { long int quot; long int rem; } ldiv_t;
typedef struct { long long int quot; long long int rem; } lldiv_t;

/* Memory (malloc on the heap the kernel reports; NULL with ENOMEM when exhausted). */
void *malloc(size_t size) __THROW __attribute__((__malloc__));
void *calloc(size_t count, size_t size) __THROW __attribute__((__malloc__));
void *realloc(void *pointer, size_t size) __THROW;
void free(void *pointer) __THROW;
void *aligned_alloc(size_t alignment, size_t size) __THROW __attribute__((__malloc__));
#ifdef __UNIK_USE_POSIX
int posix_memalign(void **result, size_t alignment, size_t size) __THROW;
#endif
#ifdef __UNIK_USE_MISC
void *valloc(size_t size) __THROW __attribute__((__malloc__));
void *reallocarray(void *pointer, size_t count, size_t size) __THROW;
#endif

/* Program end. */
__UNIK_NORETURN void abort(void) __THROW;
int atexit(void (*function)(void)) __THROW;
__UNIK_NORETURN void exit(int status);
__UNIK_NORETURN void _Exit(int status) __THROW;

/* Environment. */
char *getenv(const char *name) __THROW;
/* C11 7.22.4.8. A unikernel has no command processor: system is not in the
 * runtime (components.toml [unavailable]), a call fails the link with the reason
 * unless unikcc --stub-missing links a stub. Declared because ISO C declares it. */
int system(const char *command);
#ifdef __UNIK_USE_POSIX
int setenv(const char *name, const char *value, int overwrite) __THROW;
int unsetenv(const char *name) __THROW;
int putenv(char *string) __THROW;
#endif
#ifdef __UNIK_USE_MISC
int clearenv(void) __THROW;
#endif

/* Number conversion. */
int atoi(const char *text) __THROW;
long int atol(const char *text) __THROW;
long long int atoll(const char *text) __THROW;
double atof(const char *text) __THROW;
long int strtol(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end, int base) __THROW;
unsigned long int strtoul(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end, int base) __THROW;
long long int strtoll(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end, int base) __THROW;
unsigned long long int strtoull(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end, int base) __THROW;
double strtod(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end) __THROW;
float strtof(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end) __THROW;
/* Parsed as double, then widened: long double gets double's precision. */
long double strtold(const char *__UNIK_RESTRICT text, char **__UNIK_RESTRICT end) __THROW;

/* Sorting and searching. */
void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t count, size_t size,
              int (*compare)(const void *, const void *));
#ifdef __UNIK_USE_GNU
void qsort_r(void *base, size_t count, size_t size,
             int (*compare)(const void *, const void *, void *), void *argument);
#endif

/* Integer arithmetic. */
int abs(int value) __THROW __attribute__((__const__));
long int labs(long int value) __THROW __attribute__((__const__));
long long int llabs(long long int value) __THROW __attribute__((__const__));
div_t div(int numerator, int denominator) __THROW __attribute__((__const__));
ldiv_t ldiv(long int numerator, long int denominator) __THROW __attribute__((__const__));
lldiv_t lldiv(long long int numerator, long long int denominator) __THROW __attribute__((__const__));

/* Pseudo-random numbers (glibc's generator: srand(1) then rand() gives 1804289383, ...). */
int rand(void) __THROW;
void srand(unsigned int seed) __THROW;
#ifdef __UNIK_USE_POSIX
int rand_r(unsigned int *seed) __THROW;
#endif
#if defined __UNIK_USE_MISC || defined _XOPEN_SOURCE
/* The canonical absolute path of a file of the RAM file system. */
char *realpath(const char *__UNIK_RESTRICT path, char *__UNIK_RESTRICT resolved) __THROW;
#endif
#if defined __UNIK_USE_MISC || defined _XOPEN_SOURCE
long int random(void) __THROW;
void srandom(unsigned int seed) __THROW;
#endif

__END_DECLS

#endif
