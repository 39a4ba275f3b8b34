/* unik libc: <sys/eventfd.h> (Linux): a 64-bit counter as a descriptor, for waking
 * a thread that waits in poll, select or epoll (eventfd(2)). */
#ifndef _SYS_EVENTFD_H
#define _SYS_EVENTFD_H 1

#include <features.h>
#include <stdint.h>

typedef uint64_t eventfd_t;

#define EFD_SEMAPHORE 00000001
#define EFD_CLOEXEC 02000000
#define EFD_NONBLOCK 00004000

__BEGIN_DECLS

int eventfd(unsigned int initial, int flags) __THROW;
int eventfd_read(int descriptor, eventfd_t *value);
int eventfd_write(int descriptor, eventfd_t value);

__END_DECLS

#endif
