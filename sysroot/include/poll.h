/* unik libc: <poll.h> (POSIX; ppoll from Linux): wait for events on descriptors —
 * pipes, eventfds, socket pairs, epoll instances, sockets and the console
 * (runtime/libc/src/fs/readiness.rs). Bit values are Linux's (asm-generic/poll.h). */
#ifndef _POLL_H
#define _POLL_H 1

#include <features.h>
#include <bits/unik-time-types.h>
#include <bits/unik-sigset.h>

#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLRDBAND 0x080
#define POLLWRNORM 0x100
#define POLLWRBAND 0x200
#ifdef _GNU_SOURCE
#define POLLMSG 0x400
#define POLLREMOVE 0x1000
#define POLLRDHUP 0x2000
#endif

typedef unsigned long int nfds_t;

struct pollfd {
  int fd;
  short int events;
  short int revents;
};

__BEGIN_DECLS

int poll(struct pollfd *descriptors, nfds_t count, int timeout_milliseconds);
#ifdef _GNU_SOURCE
int ppoll(struct pollfd *descriptors, nfds_t count, const struct timespec *timeout,
          const sigset_t *signal_mask);
#endif

__END_DECLS

#endif
