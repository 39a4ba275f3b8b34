/* unik libc: <sys/syscall.h>, the Linux system call numbers that syscall(2)
 * implements here (futex, gettid, clock_gettime, sched_getaffinity, sched_yield,
 * getpid, nanosleep, clock_nanosleep, getrandom, statx; others fail with ENOSYS). The numbers are
 * Linux's for each architecture (arch/x86/entry/syscalls/syscall_64.tbl,
 * include/uapi/asm-generic/unistd.h). */
#ifndef _SYS_SYSCALL_H
#define _SYS_SYSCALL_H 1

#if defined __x86_64__
# define __NR_sched_yield 24
# define __NR_nanosleep 35
# define __NR_getpid 39
# define __NR_gettid 186
# define __NR_futex 202
# define __NR_sched_getaffinity 204
# define __NR_clock_gettime 228
# define __NR_clock_nanosleep 230
# define __NR_getrandom 318
# define __NR_statx 332
#elif defined __aarch64__
# define __NR_futex 98
# define __NR_nanosleep 101
# define __NR_clock_gettime 113
# define __NR_clock_nanosleep 115
# define __NR_sched_getaffinity 123
# define __NR_sched_yield 124
# define __NR_getpid 172
# define __NR_gettid 178
# define __NR_getrandom 278
# define __NR_statx 291
#else
# error "unik: <sys/syscall.h> knows x86_64 and aarch64 only"
#endif

#define SYS_sched_yield __NR_sched_yield
#define SYS_nanosleep __NR_nanosleep
#define SYS_getpid __NR_getpid
#define SYS_gettid __NR_gettid
#define SYS_futex __NR_futex
#define SYS_sched_getaffinity __NR_sched_getaffinity
#define SYS_clock_gettime __NR_clock_gettime
#define SYS_clock_nanosleep __NR_clock_nanosleep
#define SYS_getrandom __NR_getrandom
#define SYS_statx __NR_statx

#endif
