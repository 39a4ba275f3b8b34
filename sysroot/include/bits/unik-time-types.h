/* unik libc: time_t, clock_t, clockid_t, suseconds_t, useconds_t and struct timespec,
 * struct timeval, each defined once for <sys/types.h>, <time.h>, <sys/time.h> and
 * <pthread.h> (glibc LP64 layouts). Internal: include the public headers instead. */
#ifndef _BITS_UNIK_TIME_TYPES_H
#define _BITS_UNIK_TIME_TYPES_H 1

#include <bits/unik-types.h>

typedef __unik_time_t time_t;
typedef __unik_clock_t clock_t;
typedef __unik_clockid_t clockid_t;
typedef __unik_suseconds_t suseconds_t;
typedef __unik_useconds_t useconds_t;

struct timespec {
  time_t tv_sec;
  long int tv_nsec;
};

struct timeval {
  time_t tv_sec;
  suseconds_t tv_usec;
};

#endif
