/* unik libc: <sys/types.h> (POSIX), glibc LP64 types. */
#ifndef _SYS_TYPES_H
#define _SYS_TYPES_H 1

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
#ifndef __unik_off_t_defined
#define __unik_off_t_defined 1
typedef __unik_off_t off_t;
#endif
#ifndef __unik_pid_t_defined
#define __unik_pid_t_defined 1
typedef __unik_pid_t pid_t;
#endif

typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int id_t;
typedef unsigned int mode_t;
typedef unsigned long int dev_t;
typedef unsigned long int ino_t;
typedef long int blkcnt_t;
#include <bits/unik-time-types.h>
typedef int key_t;
/* These two differ between the architectures in glibc. */
#if defined __aarch64__
typedef unsigned int nlink_t;
typedef int blksize_t;
#else
typedef unsigned long int nlink_t;
typedef long int blksize_t;
#endif

#endif
