/* unik libc: <sys/poll.h>, the traditional name of <poll.h>. */
#include <poll.h>
