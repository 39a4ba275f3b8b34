/* unik libc: <malloc.h> (glibc): the malloc family and its glibc extensions. */
#ifndef _MALLOC_H
#define _MALLOC_H 1

#include <features.h>
#include <stdlib.h>

__BEGIN_DECLS

void *memalign(size_t alignment, size_t size) __THROW __attribute__((__malloc__));
size_t malloc_usable_size(void *pointer) __THROW;
#ifndef __UNIK_USE_MISC
void *valloc(size_t size) __THROW __attribute__((__malloc__));
#endif

__END_DECLS

#endif
