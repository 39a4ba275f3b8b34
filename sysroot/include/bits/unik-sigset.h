/* unik libc: sigset_t (glibc's layout: 1024 bits), defined once for the headers whose
 * functions take a signal mask (<poll.h>, <sys/select.h>, <sys/epoll.h>). Nothing
 * delivers signals in a unikernel, so the masks are accepted and have no effect.
 * Internal: include the public headers instead. */
#ifndef _BITS_UNIK_SIGSET_H
#define _BITS_UNIK_SIGSET_H 1

#ifndef __sigset_t_defined
#define __sigset_t_defined 1
typedef struct {
  unsigned long int __val[1024 / (8 * sizeof(unsigned long int))];
} __sigset_t;
typedef __sigset_t sigset_t;
#endif

#endif
