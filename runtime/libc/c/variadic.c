/* unik libc: the variadic entry points, the one thing Rust (stable) cannot define.
 *
 * Each function copies its va_list and hands the copy's address to the Rust back end
 * (runtime/libc/src/stdio/printf.rs), which pulls each argument through the
 * __unik_va_* fetchers below as the format string asks for it. Keep this file tiny:
 * all logic lives in Rust. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The public functions are weak, like the Rust exports (see weak_c_symbols in lib.rs):
 * a program that defines its own `printf` links, and its definition wins. */
#define UNIK_PUBLIC __attribute__((__weak__))

/* The Rust back end (stdio/printf.rs). `list` is a `va_list *`. */
int __unik_vfprintf(FILE *stream, const char *format, va_list *list);
int __unik_vsnprintf(char *buffer, size_t size, const char *format, va_list *list);
int __unik_vdprintf(int descriptor, const char *format, va_list *list);
int __unik_vasprintf(char **result, const char *format, va_list *list);

/* Argument fetchers, called from Rust with the address of the copied va_list. */
int __unik_va_int(va_list *list);
long __unik_va_long(va_list *list);
double __unik_va_double(va_list *list);
double __unik_va_long_double(va_list *list);
unsigned long __unik_va_pointer(va_list *list);

int __unik_va_int(va_list *list) { return va_arg(*list, int); }
long __unik_va_long(va_list *list) { return va_arg(*list, long); }
double __unik_va_double(va_list *list) { return va_arg(*list, double); }
/* The engine formats long double at double precision (its documented contract). */
double __unik_va_long_double(va_list *list) { return (double)va_arg(*list, long double); }
unsigned long __unik_va_pointer(va_list *list) { return (unsigned long)va_arg(*list, void *); }

UNIK_PUBLIC int vfprintf(FILE *stream, const char *format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  int result = __unik_vfprintf(stream, format, &copy);
  va_end(copy);
  return result;
}

UNIK_PUBLIC int vprintf(const char *format, va_list arguments) { return vfprintf(stdout, format, arguments); }

UNIK_PUBLIC int vsnprintf(char *buffer, size_t size, const char *format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  int result = __unik_vsnprintf(buffer, size, format, &copy);
  va_end(copy);
  return result;
}

/* Unbounded by contract: the caller's buffer is large enough. */
UNIK_PUBLIC int vsprintf(char *buffer, const char *format, va_list arguments) {
  return vsnprintf(buffer, (size_t)-1, format, arguments);
}

UNIK_PUBLIC int vdprintf(int descriptor, const char *format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  int result = __unik_vdprintf(descriptor, format, &copy);
  va_end(copy);
  return result;
}

UNIK_PUBLIC int vasprintf(char **result, const char *format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  int length = __unik_vasprintf(result, format, &copy);
  va_end(copy);
  return length;
}

UNIK_PUBLIC int printf(const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = vfprintf(stdout, format, arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int fprintf(FILE *stream, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = vfprintf(stream, format, arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int sprintf(char *buffer, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = vsprintf(buffer, format, arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int snprintf(char *buffer, size_t size, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = vsnprintf(buffer, size, format, arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int dprintf(int descriptor, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = vdprintf(descriptor, format, arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int asprintf(char **result, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int length = vasprintf(result, format, arguments);
  va_end(arguments);
  return length;
}

/* long double has no Rust type: strtold parses at double precision and widens. */
UNIK_PUBLIC long double strtold(const char *text, char **end) { return strtod(text, end); }
