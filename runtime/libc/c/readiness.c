/* unik libc: epoll_ctl, epoll_wait and epoll_pwait, the epoll functions whose
 * struct epoll_event has a per-architecture layout (packed, 12 bytes, on x86_64;
 * 16 bytes elsewhere: <sys/epoll.h>). The logic is Rust's
 * (runtime/libc/src/fs/wait_exports.rs, waitable.rs); this only moves the fields. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>

#define UNIK_PUBLIC __attribute__((__weak__))

int __unik_epoll_control(int epoll, int operation, int descriptor, uint32_t events,
                         uint64_t data);
int __unik_epoll_wait(int epoll, void *out, int limit, int timeout, size_t stride,
                      size_t data_offset);

UNIK_PUBLIC int epoll_ctl(int epoll, int operation, int descriptor, struct epoll_event *event) {
  if (operation != EPOLL_CTL_DEL && event == NULL) {
    errno = EFAULT;
    return -1;
  }
  uint32_t events = operation == EPOLL_CTL_DEL ? 0 : event->events;
  uint64_t data = operation == EPOLL_CTL_DEL ? 0 : event->data.u64;
  return __unik_epoll_control(epoll, operation, descriptor, events, data);
}

UNIK_PUBLIC int epoll_wait(int epoll, struct epoll_event *events, int limit, int timeout) {
  return __unik_epoll_wait(epoll, events, limit, timeout, sizeof(struct epoll_event),
                           offsetof(struct epoll_event, data));
}

/* Nothing delivers signals in a unikernel: the mask has no effect. */
UNIK_PUBLIC int epoll_pwait(int epoll, struct epoll_event *events, int limit, int timeout,
                            const sigset_t *signal_mask) {
  (void)signal_mask;
  return epoll_wait(epoll, events, limit, timeout);
}
