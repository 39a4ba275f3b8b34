/* unik libc: <sys/time.h> (POSIX): struct timeval and gettimeofday. */
#ifndef _SYS_TIME_H
#define _SYS_TIME_H 1

#include <features.h>
#include <bits/unik-time-types.h>

__BEGIN_DECLS

/* The zone argument is obsolete (POSIX); it is ignored. */
int gettimeofday(struct timeval *__restrict time, void *__restrict zone) __THROW;

__END_DECLS

#endif
