/* unik libc: <signal.h> (C11 7.14) — the types, the signal numbers (Linux's) and
 * the dispositions. Nothing sends signals in a unikernel: there is no other
 * process, and a fault ends the run with a signal-like status (runtime/README.md,
 * "Exit statuses"). */
#ifndef _SIGNAL_H
#define _SIGNAL_H 1

#include <features.h>

__BEGIN_DECLS

typedef int sig_atomic_t;
typedef void (*__sighandler_t)(int);
#ifdef _GNU_SOURCE
typedef __sighandler_t sighandler_t;
#endif

#define SIG_ERR ((__sighandler_t)-1)
#define SIG_DFL ((__sighandler_t)0)
#define SIG_IGN ((__sighandler_t)1)

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define NSIG 65

__sighandler_t signal(int __signal, __sighandler_t __handler) __THROW;

__END_DECLS

#endif
