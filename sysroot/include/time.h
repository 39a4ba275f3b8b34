/* unik libc: <time.h> (C11 7.27, POSIX), glibc LP64 layouts. Time zone: always UTC
 * (localtime is gmtime with the zone named "UTC", as glibc with TZ=UTC). */
#ifndef _TIME_H
#define _TIME_H 1

#include <features.h>
#include <bits/unik-types.h>
#include <bits/unik-time-types.h>

#ifndef __unik_size_t_defined
#define __unik_size_t_defined 1
typedef __unik_size_t size_t;
#endif

#undef NULL
#define NULL __UNIK_NULL

/* POSIX requires 1000000 whatever the real resolution. */
#define CLOCKS_PER_SEC ((clock_t)1000000)
#define TIME_UTC 1

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define TIMER_ABSTIME 1

struct tm {
  int tm_sec;
  int tm_min;
  int tm_hour;
  int tm_mday;
  int tm_mon;
  int tm_year;
  int tm_wday;
  int tm_yday;
  int tm_isdst;
  long int tm_gmtoff;
  const char *tm_zone;
};

__BEGIN_DECLS

clock_t clock(void) __THROW;
time_t time(time_t *result) __THROW;
double difftime(time_t end, time_t start) __THROW;
time_t mktime(struct tm *tm) __THROW;
size_t strftime(char *__restrict buffer, size_t size, const char *__restrict format,
                const struct tm *__restrict tm) __THROW;
struct tm *gmtime(const time_t *time) __THROW;
struct tm *localtime(const time_t *time) __THROW;
char *asctime(const struct tm *tm) __THROW;
char *ctime(const time_t *time) __THROW;

struct tm *gmtime_r(const time_t *__restrict time, struct tm *__restrict result) __THROW;
struct tm *localtime_r(const time_t *__restrict time, struct tm *__restrict result) __THROW;
char *asctime_r(const struct tm *__restrict tm, char *__restrict buffer) __THROW;
char *ctime_r(const time_t *__restrict time, char *__restrict buffer) __THROW;
void tzset(void) __THROW;

int nanosleep(const struct timespec *request, struct timespec *remaining);
int clock_getres(clockid_t clock, struct timespec *resolution) __THROW;
int clock_gettime(clockid_t clock, struct timespec *time) __THROW;
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request,
                    struct timespec *remaining);

#ifdef __UNIK_USE_MISC
time_t timegm(struct tm *tm) __THROW;
#endif

__END_DECLS

#endif
