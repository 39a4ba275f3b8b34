/* unik libc: <unistd.h>, the part a unikernel on a console has: descriptors 0 (console
 * input), 1 (console) and 2 (error console). */
#ifndef _UNISTD_H
#define _UNISTD_H 1

#include <features.h>
#include <bits/unik-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif
#ifndef __unik_ssize_t_defined
#define __unik_ssize_t_defined 1
typedef __unik_ssize_t ssize_t;
#endif
#ifndef __unik_pid_t_defined
#define __unik_pid_t_defined 1
typedef __unik_pid_t pid_t;
#endif

#undef NULL
#define NULL __UNIK_NULL

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

__BEGIN_DECLS

ssize_t read(int descriptor, void *buffer, size_t count);
ssize_t write(int descriptor, const void *data, size_t count);
int isatty(int descriptor) __THROW;

/* Files of the RAM file system (runtime/libc/src/fs). */
#ifndef __unik_off_t_defined
#define __unik_off_t_defined 1
typedef __unik_off_t off_t;
#endif
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4
int close(int descriptor);
/* In-memory pipes between the program's threads. */
int pipe(int ends[2]) __THROW;
__unik_off_t lseek(int descriptor, __unik_off_t offset, int whence) __THROW;
ssize_t pread(int descriptor, void *buffer, size_t count, __unik_off_t offset);
ssize_t pwrite(int descriptor, const void *data, size_t count, __unik_off_t offset);
int access(const char *path, int mode) __THROW;
int faccessat(int directory, const char *path, int mode, int flags) __THROW;
int unlink(const char *path) __THROW;
int unlinkat(int directory, const char *path, int flags) __THROW;
int rmdir(const char *path) __THROW;
char *getcwd(char *buffer, size_t size) __THROW;
int chdir(const char *path) __THROW;
int fchdir(int descriptor) __THROW;
int dup(int descriptor) __THROW;
int dup2(int descriptor, int target) __THROW;
int ftruncate(int descriptor, __unik_off_t length) __THROW;
int truncate(const char *path, __unik_off_t length) __THROW;
int fsync(int descriptor);
int fdatasync(int descriptor);
ssize_t readlink(const char *__UNIK_RESTRICT path, char *__UNIK_RESTRICT buffer, size_t size) __THROW;
ssize_t readlinkat(int directory, const char *__UNIK_RESTRICT path, char *__UNIK_RESTRICT buffer, size_t size) __THROW;
int symlink(const char *target, const char *path) __THROW;
int symlinkat(const char *target, int directory, const char *path) __THROW;
#ifdef __UNIK_USE_GNU
int dup3(int descriptor, int target, int flags) __THROW;
int pipe2(int ends[2], int flags) __THROW;
#endif
__UNIK_NORETURN void _exit(int status);
#if defined __UNIK_USE_MISC
/* LENGTH (at most 256) random bytes; 0, or -1 with errno (<sys/random.h>). */
int getentropy(void *buffer, size_t length);
#endif
/* The one program is process 1. */
pid_t getpid(void) __THROW;

unsigned int sleep(unsigned int seconds);
/* Blocks for good: no signal ever arrives. */
int pause(void);
#if defined __UNIK_USE_MISC
int usleep(__unik_useconds_t microseconds);
/* syscall(2): futex, gettid, clock_gettime, sched_getaffinity, sched_yield, getpid,
   nanosleep, clock_nanosleep, getrandom (<sys/syscall.h>); others fail with ENOSYS. */
long int syscall(long int number, ...) __THROW;
#endif
#ifdef __UNIK_USE_GNU
pid_t gettid(void) __THROW;
#endif

/* The environment, a NULL-terminated array of "NAME=value" strings. */
extern char **__environ;
#ifdef __UNIK_USE_GNU
extern char **environ;
#endif

__END_DECLS

#endif
