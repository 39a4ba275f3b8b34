/* unik libc: <dirent.h> (POSIX): directory streams over the RAM file system. */
#ifndef _DIRENT_H
#define _DIRENT_H 1

#include <features.h>
#include <sys/types.h>

/* glibc's struct dirent on LP64 Linux. */
struct dirent {
  ino_t d_ino;
  off_t d_off;
  unsigned short int d_reclen;
  unsigned char d_type;
  char d_name[256];
};

#define _DIRENT_HAVE_D_RECLEN 1
#define _DIRENT_HAVE_D_OFF 1
#define _DIRENT_HAVE_D_TYPE 1

#if defined __UNIK_USE_MISC
enum {
  DT_UNKNOWN = 0,
  DT_FIFO = 1,
  DT_CHR = 2,
  DT_DIR = 4,
  DT_BLK = 6,
  DT_REG = 8,
  DT_LNK = 10,
  DT_SOCK = 12,
  DT_WHT = 14
};
#define DT_UNKNOWN DT_UNKNOWN
#define DT_FIFO DT_FIFO
#define DT_CHR DT_CHR
#define DT_DIR DT_DIR
#define DT_BLK DT_BLK
#define DT_REG DT_REG
#define DT_LNK DT_LNK
#define DT_SOCK DT_SOCK
#define DT_WHT DT_WHT
#endif

/* Opaque, with glibc's tag name. */
typedef struct __dirstream DIR;

__BEGIN_DECLS

DIR *opendir(const char *path);
DIR *fdopendir(int descriptor);
struct dirent *readdir(DIR *directory);
void rewinddir(DIR *directory) __THROW;
int closedir(DIR *directory);
int dirfd(DIR *directory) __THROW;

#ifdef __UNIK_USE_GNU
/* Linux getdents64(2): struct dirent records (the same layout on LP64). */
ssize_t getdents64(int descriptor, void *buffer, size_t size) __THROW;
#endif

__END_DECLS

#endif
