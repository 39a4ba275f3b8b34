/* unik libc: <sys/uio.h> (POSIX): vectored reads and writes. */
#ifndef _SYS_UIO_H
#define _SYS_UIO_H 1

#include <features.h>
#include <sys/types.h>

struct iovec {
  void *iov_base;
  size_t iov_len;
};

/* Linux's IOV_MAX. */
#define UIO_MAXIOV 1024

__BEGIN_DECLS

ssize_t readv(int descriptor, const struct iovec *vectors, int count);
ssize_t writev(int descriptor, const struct iovec *vectors, int count);

__END_DECLS

#endif
