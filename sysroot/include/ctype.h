/* unik libc: <ctype.h> (C11 7.4), "C" locale. Plain functions (no table macros). */
#ifndef _CTYPE_H
#define _CTYPE_H 1

#include <features.h>

__BEGIN_DECLS

int isalnum(int character) __THROW;
int isalpha(int character) __THROW;
int isblank(int character) __THROW;
int iscntrl(int character) __THROW;
int isdigit(int character) __THROW;
int isgraph(int character) __THROW;
int islower(int character) __THROW;
int isprint(int character) __THROW;
int ispunct(int character) __THROW;
int isspace(int character) __THROW;
int isupper(int character) __THROW;
int isxdigit(int character) __THROW;
int tolower(int character) __THROW;
int toupper(int character) __THROW;

#if defined __UNIK_USE_MISC || defined _XOPEN_SOURCE
int isascii(int character) __THROW;
int toascii(int character) __THROW;
#endif

__END_DECLS

#endif
