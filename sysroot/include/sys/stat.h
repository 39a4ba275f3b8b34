/* unik libc: <sys/stat.h> (POSIX), glibc's struct stat for each architecture. The
 * files are those of the RAM file system (runtime/libc/src/fs). */
#ifndef _SYS_STAT_H
#define _SYS_STAT_H 1

#include <features.h>
#include <sys/types.h>

/* glibc bits/struct_stat.h: x86_64 and the generic layout aarch64 uses. */
struct stat {
  dev_t st_dev;
  ino_t st_ino;
#if defined __aarch64__
  mode_t st_mode;
  nlink_t st_nlink;
#else
  nlink_t st_nlink;
  mode_t st_mode;
#endif
  uid_t st_uid;
  gid_t st_gid;
#if defined __aarch64__
  dev_t st_rdev;
  unsigned long int __pad1;
  off_t st_size;
  blksize_t st_blksize;
  int __pad2;
#else
  int __pad0;
  dev_t st_rdev;
  off_t st_size;
  blksize_t st_blksize;
#endif
  blkcnt_t st_blocks;
  struct timespec st_atim;
  struct timespec st_mtim;
  struct timespec st_ctim;
#define st_atime st_atim.tv_sec
#define st_mtime st_mtim.tv_sec
#define st_ctime st_ctim.tv_sec
#if defined __aarch64__
  int __glibc_reserved[2];
#else
  long int __glibc_reserved[3];
#endif
};

#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define S_IFREG 0100000
#define S_IFIFO 0010000
#define S_IFLNK 0120000
#define S_IFSOCK 0140000
#define S_ISDIR(mode) (((mode) & S_IFMT) == S_IFDIR)
#define S_ISCHR(mode) (((mode) & S_IFMT) == S_IFCHR)
#define S_ISBLK(mode) (((mode) & S_IFMT) == S_IFBLK)
#define S_ISREG(mode) (((mode) & S_IFMT) == S_IFREG)
#define S_ISFIFO(mode) (((mode) & S_IFMT) == S_IFIFO)
#define S_ISLNK(mode) (((mode) & S_IFMT) == S_IFLNK)
#define S_ISSOCK(mode) (((mode) & S_IFMT) == S_IFSOCK)

#define S_ISUID 04000
#define S_ISGID 02000
#define S_ISVTX 01000
#define S_IRWXU 0700
#define S_IRUSR 0400
#define S_IWUSR 0200
#define S_IXUSR 0100
#define S_IRWXG 070
#define S_IRGRP 040
#define S_IWGRP 020
#define S_IXGRP 010
#define S_IRWXO 07
#define S_IROTH 04
#define S_IWOTH 02
#define S_IXOTH 01

#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

__BEGIN_DECLS

int stat(const char *__UNIK_RESTRICT path, struct stat *__UNIK_RESTRICT status) __THROW;
int lstat(const char *__UNIK_RESTRICT path, struct stat *__UNIK_RESTRICT status) __THROW;
int fstat(int descriptor, struct stat *status) __THROW;
int fstatat(int directory, const char *__UNIK_RESTRICT path, struct stat *__UNIK_RESTRICT status, int flags) __THROW;
int mkdir(const char *path, mode_t mode) __THROW;
int mkdirat(int directory, const char *path, mode_t mode) __THROW;
int chmod(const char *path, mode_t mode) __THROW;
int fchmod(int descriptor, mode_t mode) __THROW;
int fchmodat(int directory, const char *path, mode_t mode, int flags) __THROW;
mode_t umask(mode_t mask) __THROW;
int utimensat(int directory, const char *path, const struct timespec times[2], int flags) __THROW;
int futimens(int descriptor, const struct timespec times[2]) __THROW;

__END_DECLS

#endif
