/* unik libc: <sys/ioctl.h>: ioctl on sockets (FIONBIO, FIONREAD; Linux's numbers). */
#ifndef _SYS_IOCTL_H
#define _SYS_IOCTL_H 1

#include <features.h>

#define FIONREAD 0x541B
#define FIONBIO 0x5421

__BEGIN_DECLS

int ioctl(int descriptor, unsigned long int request, ...);

__END_DECLS

#endif
