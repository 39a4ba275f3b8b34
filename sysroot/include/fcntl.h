/* unik libc: <fcntl.h> (POSIX), Linux/glibc values. Descriptors name files of the RAM
 * file system (runtime/libc/src/fs) or, for 0, 1 and 2, the console. */
#ifndef _FCNTL_H
#define _FCNTL_H 1

#include <features.h>
#include <sys/types.h>

/* asm-generic/fcntl.h; the directory and link flags are numbered per architecture. */
#define O_ACCMODE 0003
#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_NDELAY O_NONBLOCK
#define O_DSYNC 010000
#define O_SYNC 04010000
#define O_RSYNC O_SYNC
#define O_CLOEXEC 02000000
#if defined __aarch64__
#define O_DIRECTORY 040000
#define O_NOFOLLOW 0100000
#else
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#endif
#define O_LARGEFILE 0

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1

#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_EACCESS 0x200
#define AT_SYMLINK_FOLLOW 0x400
#ifdef __UNIK_USE_GNU
#define AT_EMPTY_PATH 0x1000
#endif

#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif

__BEGIN_DECLS

int open(const char *path, int flags, ...);
int openat(int directory, const char *path, int flags, ...);
int creat(const char *path, mode_t mode);
int fcntl(int descriptor, int command, ...);

__END_DECLS

#endif
