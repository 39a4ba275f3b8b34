/* unik libc: <stdio.h> (C11 7.21) on the console: stdin, stdout (line buffered),
 * stderr (unbuffered); streams on files (fopen) over the RAM file system. */
#ifndef _STDIO_H
#define _STDIO_H 1

#include <features.h>
#include <bits/unik-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif
#if defined __UNIK_USE_POSIX && !defined __unik_ssize_t_defined
#define __unik_ssize_t_defined 1
typedef __unik_ssize_t ssize_t;
#endif
#if defined __UNIK_USE_POSIX && !defined __unik_off_t_defined
#define __unik_off_t_defined 1
typedef __unik_off_t off_t;
#endif

#undef NULL
#define NULL __UNIK_NULL

/* Opaque, with glibc's tag name. */
typedef struct _IO_FILE FILE;

#define EOF (-1)
#define BUFSIZ 8192
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2

__BEGIN_DECLS

extern FILE *stdin;
extern FILE *stdout;
extern FILE *stderr;
#define stdin stdin
#define stdout stdout
#define stderr stderr

int fputc(int character, FILE *stream) __THROW;
int putc(int character, FILE *stream) __THROW;
int putchar(int character) __THROW;
int fputs(const char *__UNIK_RESTRICT string, FILE *__UNIK_RESTRICT stream) __THROW;
int puts(const char *string) __THROW;
size_t fwrite(const void *__UNIK_RESTRICT data, size_t size, size_t count, FILE *__UNIK_RESTRICT stream) __THROW;
size_t fread(void *__UNIK_RESTRICT data, size_t size, size_t count, FILE *__UNIK_RESTRICT stream) __THROW;
int fflush(FILE *stream) __THROW;

/* Streams on files of the RAM file system (runtime/libc/src/fs). */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define FOPEN_MAX 16
#define FILENAME_MAX 4096
/* glibc's LP64 fpos_t: the offset and a conversion state. */
typedef struct {
  long int __pos;
  unsigned long int __state;
} fpos_t;
FILE *fopen(const char *__UNIK_RESTRICT path, const char *__UNIK_RESTRICT mode);
FILE *freopen(const char *__UNIK_RESTRICT path, const char *__UNIK_RESTRICT mode, FILE *__UNIK_RESTRICT stream);
int fclose(FILE *stream);
int fseek(FILE *stream, long int offset, int whence);
long int ftell(FILE *stream);
void rewind(FILE *stream);
int fgetpos(FILE *__UNIK_RESTRICT stream, fpos_t *__UNIK_RESTRICT position);
int fsetpos(FILE *stream, const fpos_t *position);
FILE *tmpfile(void);
/* C11 7.21.4.4, glibc's limits: names in /tmp on the RAM file system. */
#define L_tmpnam 20
#define TMP_MAX 238328
char *tmpnam(char *buffer) __THROW;
int remove(const char *path) __THROW;
int rename(const char *old_path, const char *new_path) __THROW;

int fgetc(FILE *stream) __THROW;
int getc(FILE *stream) __THROW;
int getchar(void) __THROW;
char *fgets(char *__UNIK_RESTRICT buffer, int size, FILE *__UNIK_RESTRICT stream) __THROW;
int ungetc(int character, FILE *stream) __THROW;

int setvbuf(FILE *__UNIK_RESTRICT stream, char *__UNIK_RESTRICT buffer, int mode, size_t size) __THROW;
void setbuf(FILE *__UNIK_RESTRICT stream, char *__UNIK_RESTRICT buffer) __THROW;
int ferror(FILE *stream) __THROW;
int feof(FILE *stream) __THROW;
void clearerr(FILE *stream) __THROW;
void perror(const char *prefix) __THROW;

int printf(const char *__UNIK_RESTRICT format, ...) __THROW __UNIK_PRINTF(1, 2);
int fprintf(FILE *__UNIK_RESTRICT stream, const char *__UNIK_RESTRICT format, ...) __THROW __UNIK_PRINTF(2, 3);
int sprintf(char *__UNIK_RESTRICT buffer, const char *__UNIK_RESTRICT format, ...) __THROW __UNIK_PRINTF(2, 3);
int snprintf(char *__UNIK_RESTRICT buffer, size_t size, const char *__UNIK_RESTRICT format, ...) __THROW __UNIK_PRINTF(3, 4);
int vprintf(const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __UNIK_PRINTF(1, 0);
int vfprintf(FILE *__UNIK_RESTRICT stream, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __UNIK_PRINTF(2, 0);
int vsprintf(char *__UNIK_RESTRICT buffer, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __UNIK_PRINTF(2, 0);
int vsnprintf(char *__UNIK_RESTRICT buffer, size_t size, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __UNIK_PRINTF(3, 0);

/* The scanf family (C11 7.21.6.2; no positional arguments, no 'm' allocation). */
int scanf(const char *__UNIK_RESTRICT format, ...) __attribute__((__format__(__scanf__, 1, 2)));
int fscanf(FILE *__UNIK_RESTRICT stream, const char *__UNIK_RESTRICT format, ...) __attribute__((__format__(__scanf__, 2, 3)));
int sscanf(const char *__UNIK_RESTRICT input, const char *__UNIK_RESTRICT format, ...) __THROW __attribute__((__format__(__scanf__, 2, 3)));
int vscanf(const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __attribute__((__format__(__scanf__, 1, 0)));
int vfscanf(FILE *__UNIK_RESTRICT stream, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __attribute__((__format__(__scanf__, 2, 0)));
int vsscanf(const char *__UNIK_RESTRICT input, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __attribute__((__format__(__scanf__, 2, 0)));

#ifdef __UNIK_USE_POSIX
int fileno(FILE *stream) __THROW;
FILE *fdopen(int descriptor, const char *mode) __THROW;
int fseeko(FILE *stream, off_t offset, int whence);
off_t ftello(FILE *stream);
ssize_t getdelim(char **__UNIK_RESTRICT line, size_t *__UNIK_RESTRICT size, int delimiter,
                 FILE *__UNIK_RESTRICT stream) __THROW;
ssize_t getline(char **__UNIK_RESTRICT line, size_t *__UNIK_RESTRICT size, FILE *__UNIK_RESTRICT stream) __THROW;
/* One thread today: the same as the locking functions. */
int getc_unlocked(FILE *stream) __THROW;
int getchar_unlocked(void) __THROW;
int putc_unlocked(int character, FILE *stream) __THROW;
int putchar_unlocked(int character) __THROW;
int dprintf(int descriptor, const char *__UNIK_RESTRICT format, ...) __THROW __UNIK_PRINTF(2, 3);
int vdprintf(int descriptor, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __UNIK_PRINTF(2, 0);
#endif

#ifdef __UNIK_USE_MISC
void setlinebuf(FILE *stream) __THROW;
#endif

#ifdef __UNIK_USE_GNU
int asprintf(char **__UNIK_RESTRICT result, const char *__UNIK_RESTRICT format, ...) __THROW __UNIK_PRINTF(2, 3);
int vasprintf(char **__UNIK_RESTRICT result, const char *__UNIK_RESTRICT format, __builtin_va_list arguments) __THROW __UNIK_PRINTF(2, 0);
#endif

__END_DECLS

#endif
