/* unik libc: <sched.h> (POSIX): sched_yield; one CPU, one scheduling policy
 * (preemptive round robin, reported as SCHED_OTHER). */
#ifndef _SCHED_H
#define _SCHED_H 1

#include <features.h>
#include <bits/unik-types.h>
#include <bits/unik-time-types.h>

#ifndef __unik_pid_t_defined
#define __unik_pid_t_defined 1
typedef __unik_pid_t pid_t;
#endif
#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif

#define SCHED_OTHER 0
#define SCHED_FIFO 1
#define SCHED_RR 2

struct sched_param {
  int sched_priority;
};

#ifdef __UNIK_USE_GNU
/* glibc's cpu_set_t: 1024 CPUs. */
typedef struct {
  unsigned long int __bits[1024 / (8 * sizeof(unsigned long int))];
} cpu_set_t;
# define CPU_SETSIZE 1024
# define CPU_ZERO(set) __builtin_memset((set), 0, sizeof(cpu_set_t))
# define CPU_SET(cpu, set) \
  ((void)((cpu) < CPU_SETSIZE ? ((set)->__bits[(cpu) / 64] |= 1UL << ((cpu) % 64)) : 0))
# define CPU_ISSET(cpu, set) \
  ((cpu) < CPU_SETSIZE ? (((set)->__bits[(cpu) / 64] >> ((cpu) % 64)) & 1) != 0 : 0)
# define CPU_COUNT(set) __sched_cpucount(sizeof(cpu_set_t), (set))
#endif

__BEGIN_DECLS

int sched_yield(void) __THROW;

#ifdef __UNIK_USE_GNU
int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set) __THROW;
int __sched_cpucount(size_t size, const cpu_set_t *set) __THROW;
#endif

__END_DECLS

#endif
