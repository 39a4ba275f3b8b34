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
__UNIK_NORETURN void _exit(int status);
/* The one program is process 1. */
pid_t getpid(void) __THROW;

unsigned int sleep(unsigned int seconds);
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
