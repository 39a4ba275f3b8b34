/* unik libc: <sys/select.h> (POSIX): select and pselect over at most FD_SETSIZE
 * descriptors (glibc's fd_set layout: 1024 bits). */
#ifndef _SYS_SELECT_H
#define _SYS_SELECT_H 1

#include <features.h>
#include <bits/unik-time-types.h>
#include <bits/unik-sigset.h>

#define FD_SETSIZE 1024

typedef long int __fd_mask;
#define __NFDBITS (8 * (int)sizeof(__fd_mask))
#define __FD_ELT(d) ((d) / __NFDBITS)
#define __FD_MASK(d) ((__fd_mask)(1UL << ((d) % __NFDBITS)))

typedef struct {
  __fd_mask fds_bits[FD_SETSIZE / __NFDBITS];
} fd_set;

#define NFDBITS __NFDBITS
typedef __fd_mask fd_mask;

#define FD_ZERO(set) __builtin_memset((set), 0, sizeof(fd_set))
#define FD_SET(d, set) ((void)((set)->fds_bits[__FD_ELT(d)] |= __FD_MASK(d)))
#define FD_CLR(d, set) ((void)((set)->fds_bits[__FD_ELT(d)] &= ~__FD_MASK(d)))
#define FD_ISSET(d, set) (((set)->fds_bits[__FD_ELT(d)] & __FD_MASK(d)) != 0)

__BEGIN_DECLS

int select(int count, fd_set *__restrict read_set, fd_set *__restrict write_set,
           fd_set *__restrict except_set, struct timeval *__restrict timeout);
int pselect(int count, fd_set *__restrict read_set, fd_set *__restrict write_set,
            fd_set *__restrict except_set, const struct timespec *__restrict timeout,
            const sigset_t *__restrict signal_mask);

__END_DECLS

#endif
