/* unik: <sys/sysmacros.h> — device numbers (dev_t) split into major and minor and
   made from them, with glibc's 64-bit encoding: minor bits 0-7 and 20-43, major bits
   8-19 and 44-63 (so numbers below 4096:256 are Linux's old major << 8 | minor). */
#ifndef _SYS_SYSMACROS_H
#define _SYS_SYSMACROS_H 1

#include <sys/types.h>

static __inline__ unsigned int gnu_dev_major(dev_t __device) {
  return (unsigned int)(((__device >> 8) & 0xfff) | ((__device >> 32) & ~0xfffu));
}

static __inline__ unsigned int gnu_dev_minor(dev_t __device) {
  return (unsigned int)((__device & 0xff) | ((__device >> 12) & ~0xffu));
}

static __inline__ dev_t gnu_dev_makedev(unsigned int __major, unsigned int __minor) {
  return ((dev_t)(__major & 0xfff) << 8) | ((dev_t)(__major & ~0xfffu) << 32) |
         (dev_t)(__minor & 0xff) | ((dev_t)(__minor & ~0xffu) << 12);
}

#define major(device) gnu_dev_major(device)
#define minor(device) gnu_dev_minor(device)
#define makedev(major, minor) gnu_dev_makedev(major, minor)

#endif
