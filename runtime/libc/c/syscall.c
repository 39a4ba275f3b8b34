/* unik libc: syscall(2), variadic, so it lives in the C layer. The Linux system call
 * numbers are per architecture (<sys/syscall.h>); this maps the ones the runtime
 * implements (futex, gettid, clock_gettime, sched_getaffinity, sched_yield, getpid,
 * nanosleep, clock_nanosleep, getrandom, statx) to architecture-neutral operation codes and hands the six argument words
 * to the Rust side (runtime/libc/src/syscall.rs). Unknown numbers: -1 with ENOSYS. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <sys/syscall.h>

/* Keep in sync with `Operation` in src/syscall.rs. */
enum {
  UNIK_SYSCALL_UNKNOWN = 0,
  UNIK_SYSCALL_FUTEX = 1,
  UNIK_SYSCALL_GETTID = 2,
  UNIK_SYSCALL_CLOCK_GETTIME = 3,
  UNIK_SYSCALL_SCHED_GETAFFINITY = 4,
  UNIK_SYSCALL_SCHED_YIELD = 5,
  UNIK_SYSCALL_GETPID = 6,
  UNIK_SYSCALL_NANOSLEEP = 7,
  UNIK_SYSCALL_CLOCK_NANOSLEEP = 8,
  UNIK_SYSCALL_GETRANDOM = 9,
  UNIK_SYSCALL_STATX = 10,
};

long __unik_syscall_dispatch(int operation, long a0, long a1, long a2, long a3, long a4, long a5);

long __unik_syscall(long number, ...) {
  va_list list;
  va_start(list, number);
  /* Like glibc's syscall(), always six argument words: the unused ones are whatever
   * the caller's registers held, and the operation ignores them. */
  long a0 = va_arg(list, long), a1 = va_arg(list, long), a2 = va_arg(list, long);
  long a3 = va_arg(list, long), a4 = va_arg(list, long), a5 = va_arg(list, long);
  va_end(list);
  int operation;
  switch (number) {
  case SYS_futex: operation = UNIK_SYSCALL_FUTEX; break;
  case SYS_gettid: operation = UNIK_SYSCALL_GETTID; break;
  case SYS_clock_gettime: operation = UNIK_SYSCALL_CLOCK_GETTIME; break;
  case SYS_sched_getaffinity: operation = UNIK_SYSCALL_SCHED_GETAFFINITY; break;
  case SYS_sched_yield: operation = UNIK_SYSCALL_SCHED_YIELD; break;
  case SYS_getpid: operation = UNIK_SYSCALL_GETPID; break;
  case SYS_nanosleep: operation = UNIK_SYSCALL_NANOSLEEP; break;
  case SYS_clock_nanosleep: operation = UNIK_SYSCALL_CLOCK_NANOSLEEP; break;
  case SYS_getrandom: operation = UNIK_SYSCALL_GETRANDOM; break;
  case SYS_statx: operation = UNIK_SYSCALL_STATX; break;
  default: operation = UNIK_SYSCALL_UNKNOWN; break;
  }
  return __unik_syscall_dispatch(operation, a0, a1, a2, a3, a4, a5);
}

/* Weak, like the Rust exports (src/lib.rs, weak_c_symbols). */
long syscall(long number, ...) __attribute__((weak, alias("__unik_syscall")));
