/* unik libc: <sys/epoll.h> (Linux): epoll instances over pipes, eventfds, socket
 * pairs, sockets and the console; level- and edge-triggered, EPOLLONESHOT
 * (runtime/libc/src/fs/waitable.rs). Values from uapi linux/eventpoll.h. */
#ifndef _SYS_EPOLL_H
#define _SYS_EPOLL_H 1

#include <features.h>
#include <stdint.h>
#include <bits/unik-sigset.h>

#define EPOLL_CLOEXEC 02000000

enum EPOLL_EVENTS {
  EPOLLIN = 0x001,
#define EPOLLIN EPOLLIN
  EPOLLPRI = 0x002,
#define EPOLLPRI EPOLLPRI
  EPOLLOUT = 0x004,
#define EPOLLOUT EPOLLOUT
  EPOLLRDNORM = 0x040,
#define EPOLLRDNORM EPOLLRDNORM
  EPOLLRDBAND = 0x080,
#define EPOLLRDBAND EPOLLRDBAND
  EPOLLWRNORM = 0x100,
#define EPOLLWRNORM EPOLLWRNORM
  EPOLLWRBAND = 0x200,
#define EPOLLWRBAND EPOLLWRBAND
  EPOLLMSG = 0x400,
#define EPOLLMSG EPOLLMSG
  EPOLLERR = 0x008,
#define EPOLLERR EPOLLERR
  EPOLLHUP = 0x010,
#define EPOLLHUP EPOLLHUP
  EPOLLRDHUP = 0x2000,
#define EPOLLRDHUP EPOLLRDHUP
  EPOLLEXCLUSIVE = 1u << 28,
#define EPOLLEXCLUSIVE EPOLLEXCLUSIVE
  EPOLLWAKEUP = 1u << 29,
#define EPOLLWAKEUP EPOLLWAKEUP
  EPOLLONESHOT = 1u << 30,
#define EPOLLONESHOT EPOLLONESHOT
  EPOLLET = 1u << 31
#define EPOLLET EPOLLET
};

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

typedef union epoll_data {
  void *ptr;
  int fd;
  uint32_t u32;
  uint64_t u64;
} epoll_data_t;

/* Packed on x86_64 (12 bytes), naturally aligned elsewhere (16), as the kernel's
 * uapi and glibc define it. */
struct epoll_event {
  uint32_t events;
  epoll_data_t data;
}
#ifdef __x86_64__
__attribute__((__packed__))
#endif
;

__BEGIN_DECLS

int epoll_create(int size) __THROW;
int epoll_create1(int flags) __THROW;
int epoll_ctl(int epoll, int operation, int descriptor, struct epoll_event *event) __THROW;
int epoll_wait(int epoll, struct epoll_event *events, int limit, int timeout_milliseconds);
int epoll_pwait(int epoll, struct epoll_event *events, int limit, int timeout_milliseconds,
                const sigset_t *signal_mask);

__END_DECLS

#endif
