/* unik libc: <stdarg.h> (C11 7.16), over the compiler's builtins. */
#ifndef _STDARG_H
#define _STDARG_H 1

typedef __builtin_va_list va_list;
/* glibc's name for the same type, used by some headers and programs. */
typedef __builtin_va_list __gnuc_va_list;

#define va_start(list, last) __builtin_va_start(list, last)
#define va_arg(list, type) __builtin_va_arg(list, type)
#define va_end(list) __builtin_va_end(list)
#define va_copy(destination, source) __builtin_va_copy(destination, source)
#define __va_copy(destination, source) __builtin_va_copy(destination, source)

#endif
