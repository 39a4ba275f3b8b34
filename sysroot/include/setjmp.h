/* unik libc: <setjmp.h> (C11 7.13, POSIX sigsetjmp). jmp_buf has glibc's size and
 * alignment on x86_64 and aarch64, so structures that embed one keep glibc's layout;
 * its contents are the runtime's (runtime/libc/src/arch). There are no signal masks
 * in a unikernel: sigsetjmp saves none. */
#ifndef _SETJMP_H
#define _SETJMP_H 1

#include <features.h>

__BEGIN_DECLS

#if defined __x86_64__
typedef long int __jmp_buf[8];
#elif defined __aarch64__
typedef unsigned long long __jmp_buf[22];
#else
# error "unik: unsupported architecture"
#endif

/* glibc's __sigset_t: 1024 bits. */
typedef struct { unsigned long int __val[1024 / (8 * sizeof(unsigned long int))]; } __unik_jmp_sigset_t;

struct __jmp_buf_tag {
    __jmp_buf __jmpbuf;
    int __mask_was_saved;
    __unik_jmp_sigset_t __saved_mask;
};

typedef struct __jmp_buf_tag jmp_buf[1];

int setjmp(jmp_buf environment) __attribute__((__returns_twice__));
int _setjmp(struct __jmp_buf_tag environment[1]) __attribute__((__returns_twice__));
__UNIK_NORETURN void longjmp(jmp_buf environment, int value);
__UNIK_NORETURN void _longjmp(struct __jmp_buf_tag environment[1], int value);

#ifdef __UNIK_USE_POSIX
typedef struct __jmp_buf_tag sigjmp_buf[1];
int sigsetjmp(sigjmp_buf environment, int save_mask) __attribute__((__returns_twice__));
__UNIK_NORETURN void siglongjmp(sigjmp_buf environment, int value);
#endif

__END_DECLS

#endif
