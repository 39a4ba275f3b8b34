/* unik: <sys/random.h> — getrandom and getentropy, as glibc declares them. Both draw
   from the runtime's ChaCha20 generator, seeded from the CPU's hardware source
   (RDSEED/RDRAND, RNDR) or a virtio-rng device (unik run --rng); without either they
   fail with EAGAIN (never predictable bytes). */
#ifndef _SYS_RANDOM_H
#define _SYS_RANDOM_H 1

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags (Linux uapi linux/random.h). The call never blocks here. */
#define GRND_NONBLOCK 0x01
#define GRND_RANDOM 0x02
#define GRND_INSECURE 0x04

/* Up to LENGTH random bytes (at most 32 MiB - 1) into BUFFER; the count, or -1 with
   errno (EAGAIN: no random source; EINVAL: bad flags; EFAULT). */
ssize_t getrandom(void *__buffer, size_t __length, unsigned int __flags);

/* LENGTH (at most 256) random bytes into BUFFER; 0, or -1 with errno (EIO: too long,
   EAGAIN: no random source). */
int getentropy(void *__buffer, size_t __length);

#ifdef __cplusplus
}
#endif

#endif
