/* unik libc: the scanf family's variadic entry points. Each copies its va_list and
 * hands the copy's address to the Rust engine (runtime/libc/src/scanf), which takes
 * one pointer argument per stored conversion through __unik_va_pointer. */
#include <stdarg.h>
#include <stdio.h>

#define UNIK_PUBLIC __attribute__((__weak__))

int __unik_vsscanf(const char *input, const char *format, va_list *list);
int __unik_vfscanf(FILE *stream, const char *format, va_list *list);
void __unik_store_long_double(void *destination, double value);

/* `long double` differs per architecture (x87 80-bit on x86_64, binary128 on
 * aarch64); the compiler knows how to store one. */
void __unik_store_long_double(void *destination, double value) {
  *(long double *)destination = (long double)value;
}

UNIK_PUBLIC int vsscanf(const char *input, const char *format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  int result = __unik_vsscanf(input, format, &copy);
  va_end(copy);
  return result;
}

UNIK_PUBLIC int sscanf(const char *input, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = __unik_vsscanf(input, format, &arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int vfscanf(FILE *stream, const char *format, va_list arguments) {
  va_list copy;
  va_copy(copy, arguments);
  int result = __unik_vfscanf(stream, format, &copy);
  va_end(copy);
  return result;
}

UNIK_PUBLIC int fscanf(FILE *stream, const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = __unik_vfscanf(stream, format, &arguments);
  va_end(arguments);
  return result;
}

UNIK_PUBLIC int vscanf(const char *format, va_list arguments) {
  return vfscanf(stdin, format, arguments);
}

UNIK_PUBLIC int scanf(const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int result = __unik_vfscanf(stdin, format, &arguments);
  va_end(arguments);
  return result;
}
