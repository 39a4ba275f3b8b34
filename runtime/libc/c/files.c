/* unik libc: the file functions Rust cannot define or must not lay out itself.
 *
 * open/openat/fcntl are variadic; struct stat has a different layout on x86_64 and
 * aarch64 (glibc bits/struct_stat.h), which the sysroot header describes and this
 * compiler knows. Everything else is in Rust (runtime/libc/src/fs): this file only
 * moves arguments and fields. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#define UNIK_PUBLIC __attribute__((__weak__))

/* Keep in sync with `Status` in src/fs/descriptors.rs. */
struct unik_status {
  unsigned long device;
  unsigned long inode;
  unsigned int mode;
  unsigned int links;
  unsigned long size;
  unsigned long blocks;
  unsigned int block_size;
  unsigned int device_number;
  long accessed[2];
  long modified[2];
  long changed[2];
};

int __unik_files_openat(int directory, const char *path, int bits, int is_directory, int no_follow,
                        unsigned int mode);
int __unik_files_fcntl(int descriptor, int command, long argument);
int __unik_files_status(int directory, const char *path, int flags, struct unik_status *out);

/* The flags whose numbers differ per architecture go to Rust as booleans. */
static int unik_open(int directory, const char *path, int flags, unsigned int mode) {
  int neutral = flags & ~(O_DIRECTORY | O_NOFOLLOW);
  return __unik_files_openat(directory, path, neutral, (flags & O_DIRECTORY) != 0,
                             (flags & O_NOFOLLOW) != 0, mode);
}

/* The mode argument is read only when the flags create a file (open(2)). */
UNIK_PUBLIC int openat(int directory, const char *path, int flags, ...) {
  unsigned int mode = 0;
  if (flags & O_CREAT) {
    va_list list;
    va_start(list, flags);
    mode = va_arg(list, unsigned int);
    va_end(list);
  }
  return unik_open(directory, path, flags, mode);
}

UNIK_PUBLIC int open(const char *path, int flags, ...) {
  unsigned int mode = 0;
  if (flags & O_CREAT) {
    va_list list;
    va_start(list, flags);
    mode = va_arg(list, unsigned int);
    va_end(list);
  }
  return unik_open(AT_FDCWD, path, flags, mode);
}

UNIK_PUBLIC int creat(const char *path, mode_t mode) {
  return unik_open(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

/* A 64-bit Linux kernel always reports O_LARGEFILE in F_GETFL (force_o_largefile). */
#if defined __aarch64__
#define UNIK_KERNEL_O_LARGEFILE 0400000
#else
#define UNIK_KERNEL_O_LARGEFILE 0100000
#endif

UNIK_PUBLIC int fcntl(int descriptor, int command, ...) {
  va_list list;
  va_start(list, command);
  /* Every command this library knows takes an int or nothing; reading a long of an
   * absent argument reads a register, harmlessly (glibc does the same). */
  long argument = va_arg(list, long);
  va_end(list);
  int result = __unik_files_fcntl(descriptor, command, argument);
  if (command == F_GETFL && result >= 0) {
    result |= UNIK_KERNEL_O_LARGEFILE;
  }
  return result;
}

static void unik_fill(struct stat *status, const struct unik_status *found) {
  struct stat filled = {0};
  filled.st_dev = found->device;
  filled.st_ino = found->inode;
  filled.st_mode = found->mode;
  filled.st_nlink = found->links;
  filled.st_size = (off_t)found->size;
  filled.st_blksize = (blksize_t)found->block_size;
  filled.st_blocks = (blkcnt_t)found->blocks;
  /* major << 8 | minor: glibc's makedev for majors below 4096 and minors below 256
   * (the console 4:64 like /dev/ttyS0, /dev/null 1:3 …). */
  filled.st_rdev = found->device_number;
  filled.st_atim.tv_sec = found->accessed[0];
  filled.st_atim.tv_nsec = found->accessed[1];
  filled.st_mtim.tv_sec = found->modified[0];
  filled.st_mtim.tv_nsec = found->modified[1];
  filled.st_ctim.tv_sec = found->changed[0];
  filled.st_ctim.tv_nsec = found->changed[1];
  *status = filled;
}

static int unik_stat(int directory, const char *path, int flags, struct stat *status) {
  struct unik_status found;
  int result = __unik_files_status(directory, path, flags, &found);
  if (result == 0) {
    unik_fill(status, &found);
  }
  return result;
}

UNIK_PUBLIC int fstatat(int directory, const char *path, struct stat *status, int flags) {
  /* A NULL path means "the descriptor" to the Rust side; here it is a fault. */
  if (!path) {
    errno = EFAULT;
    return -1;
  }
  return unik_stat(directory, path, flags, status);
}

UNIK_PUBLIC int stat(const char *path, struct stat *status) {
  return fstatat(AT_FDCWD, path, status, 0);
}

UNIK_PUBLIC int lstat(const char *path, struct stat *status) {
  return fstatat(AT_FDCWD, path, status, AT_SYMLINK_NOFOLLOW);
}

UNIK_PUBLIC int fstat(int descriptor, struct stat *status) {
  return unik_stat(descriptor, 0, 0, status);
}

/* glibc's large-file names: on LP64 they are the same functions (struct stat64 is
 * struct stat, off64_t is off_t). Rust std on *-linux-gnu calls these. */
UNIK_PUBLIC int open64(const char *path, int flags, ...) __attribute__((__alias__("open")));
UNIK_PUBLIC int openat64(int directory, const char *path, int flags, ...) __attribute__((__alias__("openat")));
UNIK_PUBLIC int creat64(const char *path, mode_t mode) __attribute__((__alias__("creat")));
UNIK_PUBLIC int stat64(const char *path, struct stat *status) __attribute__((__alias__("stat")));
UNIK_PUBLIC int lstat64(const char *path, struct stat *status) __attribute__((__alias__("lstat")));
UNIK_PUBLIC int fstat64(int descriptor, struct stat *status) __attribute__((__alias__("fstat")));
UNIK_PUBLIC int fstatat64(int directory, const char *path, struct stat *status, int flags)
    __attribute__((__alias__("fstatat")));
