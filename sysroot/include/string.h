/* unik libc: <string.h> (C11 7.24) and glibc's POSIX/BSD/GNU additions. */
#ifndef _STRING_H
#define _STRING_H 1

#include <features.h>
#include <bits/unik-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif

#undef NULL
#define NULL __UNIK_NULL

__BEGIN_DECLS

void *memcpy(void *__UNIK_RESTRICT destination, const void *__UNIK_RESTRICT source, size_t count) __THROW;
void *memmove(void *destination, const void *source, size_t count) __THROW;
void *memset(void *destination, int value, size_t count) __THROW;
int memcmp(const void *left, const void *right, size_t count) __THROW;
void *memchr(const void *memory, int character, size_t count) __THROW;

char *strcpy(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source) __THROW;
char *strncpy(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source, size_t count) __THROW;
char *strcat(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source) __THROW;
char *strncat(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source, size_t count) __THROW;
int strcmp(const char *left, const char *right) __THROW;
int strncmp(const char *left, const char *right, size_t count) __THROW;
int strcoll(const char *left, const char *right) __THROW;
size_t strxfrm(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source, size_t size) __THROW;
char *strchr(const char *string, int character) __THROW;
char *strrchr(const char *string, int character) __THROW;
size_t strspn(const char *string, const char *accept) __THROW;
size_t strcspn(const char *string, const char *reject) __THROW;
char *strpbrk(const char *string, const char *accept) __THROW;
char *strstr(const char *haystack, const char *needle) __THROW;
char *strtok(char *__UNIK_RESTRICT string, const char *__UNIK_RESTRICT delimiters) __THROW;
size_t strlen(const char *string) __THROW;
char *strerror(int number) __THROW;

#ifdef __UNIK_USE_POSIX
size_t strnlen(const char *string, size_t limit) __THROW;
char *strdup(const char *string) __THROW __attribute__((__malloc__));
char *strndup(const char *string, size_t limit) __THROW __attribute__((__malloc__));
char *strsignal(int number) __THROW;
char *strtok_r(char *__UNIK_RESTRICT string, const char *__UNIK_RESTRICT delimiters,
               char **__UNIK_RESTRICT state) __THROW;
char *stpcpy(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source) __THROW;
char *stpncpy(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source, size_t count) __THROW;
/* Two strerror_r: the GNU one (returns char *) with _GNU_SOURCE, else the XSI one
 * (returns int), as glibc selects them. */
# ifdef __UNIK_USE_GNU
char *strerror_r(int number, char *buffer, size_t size) __THROW;
# else
int strerror_r(int number, char *buffer, size_t size) __THROW __asm__("__xpg_strerror_r");
# endif
#endif

#ifdef __UNIK_USE_MISC
char *strsep(char **__UNIK_RESTRICT string, const char *__UNIK_RESTRICT delimiters) __THROW;
void explicit_bzero(void *memory, size_t count) __THROW;
size_t strlcpy(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source, size_t size) __THROW;
size_t strlcat(char *__UNIK_RESTRICT destination, const char *__UNIK_RESTRICT source, size_t size) __THROW;
#endif

#ifdef __UNIK_USE_GNU
void *memrchr(const void *memory, int character, size_t count) __THROW;
void *memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) __THROW;
void *mempcpy(void *__UNIK_RESTRICT destination, const void *__UNIK_RESTRICT source, size_t count) __THROW;
char *strchrnul(const char *string, int character) __THROW;
char *strcasestr(const char *haystack, const char *needle) __THROW;
#endif

__END_DECLS

#ifdef __UNIK_USE_MISC
# include <strings.h>
#endif

#endif
