/* unik libc: <pthread.h> (POSIX threads), glibc LP64 object sizes; every object is
 * valid when zero-filled, as with glibc's static initializers. */
#ifndef _PTHREAD_H
#define _PTHREAD_H 1

#include <features.h>
#include <bits/unik-types.h>
#include <bits/unik-time-types.h>
#include <sched.h>
#include <time.h>

typedef unsigned long int pthread_t;
typedef unsigned int pthread_key_t;
typedef int pthread_once_t;
typedef volatile int pthread_spinlock_t;

typedef union {
  char __size[56];
  long int __align;
} pthread_attr_t;

struct __pthread_mutex_list {
  void *__prev;
  void *__next;
};
struct __pthread_mutex_s {
  int __lock;
  unsigned int __count;
  int __owner;
  unsigned int __nusers;
  int __kind;
  short __spins;
  short __elision;
  struct __pthread_mutex_list __list;
};
typedef union {
  struct __pthread_mutex_s __data;
  char __size[40];
  long int __align;
} pthread_mutex_t;
typedef union {
  char __size[4];
  int __align;
} pthread_mutexattr_t;

typedef union {
  char __size[48];
  long long int __align;
} pthread_cond_t;
typedef union {
  char __size[4];
  int __align;
} pthread_condattr_t;

typedef union {
  char __size[56];
  long int __align;
} pthread_rwlock_t;
typedef union {
  char __size[8];
  long int __align;
} pthread_rwlockattr_t;

typedef union {
  char __size[32];
  long int __align;
} pthread_barrier_t;
typedef union {
  char __size[4];
  int __align;
} pthread_barrierattr_t;

#define PTHREAD_CREATE_JOINABLE 0
#define PTHREAD_CREATE_DETACHED 1

#define PTHREAD_MUTEX_NORMAL 0
#define PTHREAD_MUTEX_RECURSIVE 1
#define PTHREAD_MUTEX_ERRORCHECK 2
#define PTHREAD_MUTEX_DEFAULT PTHREAD_MUTEX_NORMAL
#ifdef __UNIK_USE_GNU
# define PTHREAD_MUTEX_TIMED_NP 0
# define PTHREAD_MUTEX_RECURSIVE_NP 1
# define PTHREAD_MUTEX_ERRORCHECK_NP 2
# define PTHREAD_MUTEX_ADAPTIVE_NP 3
#endif

#define PTHREAD_MUTEX_INITIALIZER { { 0, 0, 0, 0, 0, 0, 0, { 0, 0 } } }
#ifdef __UNIK_USE_GNU
# define PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP { { 0, 0, 0, 0, 1, 0, 0, { 0, 0 } } }
# define PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP { { 0, 0, 0, 0, 2, 0, 0, { 0, 0 } } }
# define PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP { { 0, 0, 0, 0, 3, 0, 0, { 0, 0 } } }
#endif
#define PTHREAD_COND_INITIALIZER { { 0 } }
#define PTHREAD_RWLOCK_INITIALIZER { { 0 } }
#define PTHREAD_ONCE_INIT 0
#define PTHREAD_BARRIER_SERIAL_THREAD -1
#define PTHREAD_PROCESS_PRIVATE 0
#define PTHREAD_PROCESS_SHARED 1
#define PTHREAD_CANCELED ((void *)-1)
#define PTHREAD_KEYS_MAX 1024
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#define PTHREAD_STACK_MIN 16384

__BEGIN_DECLS

int pthread_create(pthread_t *__restrict thread, const pthread_attr_t *__restrict attributes,
                   void *(*start)(void *), void *__restrict argument) __THROW;
__UNIK_NORETURN void pthread_exit(void *result);
int pthread_join(pthread_t thread, void **result);
int pthread_detach(pthread_t thread) __THROW;
pthread_t pthread_self(void) __THROW;
int pthread_equal(pthread_t first, pthread_t second) __THROW;

int pthread_attr_init(pthread_attr_t *attributes) __THROW;
int pthread_attr_destroy(pthread_attr_t *attributes) __THROW;
int pthread_attr_getdetachstate(const pthread_attr_t *attributes, int *state) __THROW;
int pthread_attr_setdetachstate(pthread_attr_t *attributes, int state) __THROW;
int pthread_attr_getguardsize(const pthread_attr_t *__restrict attributes,
                              size_t *__restrict size) __THROW;
int pthread_attr_setguardsize(pthread_attr_t *attributes, size_t size) __THROW;
int pthread_attr_getstacksize(const pthread_attr_t *__restrict attributes,
                              size_t *__restrict size) __THROW;
int pthread_attr_setstacksize(pthread_attr_t *attributes, size_t size) __THROW;
int pthread_attr_getstack(const pthread_attr_t *__restrict attributes, void **__restrict address,
                          size_t *__restrict size) __THROW;
int pthread_attr_setstack(pthread_attr_t *attributes, void *address, size_t size) __THROW;

int pthread_once(pthread_once_t *once, void (*routine)(void));

int pthread_mutex_init(pthread_mutex_t *mutex, const pthread_mutexattr_t *attributes) __THROW;
int pthread_mutex_destroy(pthread_mutex_t *mutex) __THROW;
int pthread_mutex_trylock(pthread_mutex_t *mutex) __THROW;
int pthread_mutex_lock(pthread_mutex_t *mutex) __THROW;
int pthread_mutex_timedlock(pthread_mutex_t *__restrict mutex,
                            const struct timespec *__restrict absolute) __THROW;
int pthread_mutex_unlock(pthread_mutex_t *mutex) __THROW;
int pthread_mutexattr_init(pthread_mutexattr_t *attributes) __THROW;
int pthread_mutexattr_destroy(pthread_mutexattr_t *attributes) __THROW;
int pthread_mutexattr_gettype(const pthread_mutexattr_t *__restrict attributes,
                              int *__restrict kind) __THROW;
int pthread_mutexattr_settype(pthread_mutexattr_t *attributes, int kind) __THROW;

int pthread_rwlock_init(pthread_rwlock_t *__restrict lock,
                        const pthread_rwlockattr_t *__restrict attributes) __THROW;
int pthread_rwlock_destroy(pthread_rwlock_t *lock) __THROW;
int pthread_rwlock_rdlock(pthread_rwlock_t *lock) __THROW;
int pthread_rwlock_tryrdlock(pthread_rwlock_t *lock) __THROW;
int pthread_rwlock_timedrdlock(pthread_rwlock_t *__restrict lock,
                               const struct timespec *__restrict absolute) __THROW;
int pthread_rwlock_wrlock(pthread_rwlock_t *lock) __THROW;
int pthread_rwlock_trywrlock(pthread_rwlock_t *lock) __THROW;
int pthread_rwlock_timedwrlock(pthread_rwlock_t *__restrict lock,
                               const struct timespec *__restrict absolute) __THROW;
int pthread_rwlock_unlock(pthread_rwlock_t *lock) __THROW;

int pthread_cond_init(pthread_cond_t *__restrict condition,
                      const pthread_condattr_t *__restrict attributes) __THROW;
int pthread_cond_destroy(pthread_cond_t *condition) __THROW;
int pthread_cond_signal(pthread_cond_t *condition) __THROW;
int pthread_cond_broadcast(pthread_cond_t *condition) __THROW;
int pthread_cond_wait(pthread_cond_t *__restrict condition, pthread_mutex_t *__restrict mutex);
int pthread_cond_timedwait(pthread_cond_t *__restrict condition,
                           pthread_mutex_t *__restrict mutex,
                           const struct timespec *__restrict absolute);
int pthread_condattr_init(pthread_condattr_t *attributes) __THROW;
int pthread_condattr_destroy(pthread_condattr_t *attributes) __THROW;
int pthread_condattr_getclock(const pthread_condattr_t *__restrict attributes,
                              clockid_t *__restrict clock) __THROW;
int pthread_condattr_setclock(pthread_condattr_t *attributes, clockid_t clock) __THROW;

int pthread_spin_init(pthread_spinlock_t *lock, int shared) __THROW;
int pthread_spin_destroy(pthread_spinlock_t *lock) __THROW;
int pthread_spin_lock(pthread_spinlock_t *lock) __THROW;
int pthread_spin_trylock(pthread_spinlock_t *lock) __THROW;
int pthread_spin_unlock(pthread_spinlock_t *lock) __THROW;

int pthread_barrier_init(pthread_barrier_t *__restrict barrier,
                         const pthread_barrierattr_t *__restrict attributes,
                         unsigned int count) __THROW;
int pthread_barrier_destroy(pthread_barrier_t *barrier) __THROW;
int pthread_barrier_wait(pthread_barrier_t *barrier) __THROW;

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) __THROW;
int pthread_key_delete(pthread_key_t key) __THROW;
void *pthread_getspecific(pthread_key_t key) __THROW;
int pthread_setspecific(pthread_key_t key, const void *value) __THROW;

#ifdef __UNIK_USE_GNU
int pthread_getattr_np(pthread_t thread, pthread_attr_t *attributes) __THROW;
int pthread_setname_np(pthread_t thread, const char *name) __THROW;
int pthread_getname_np(pthread_t thread, char *buffer, size_t length) __THROW;
#endif

__END_DECLS

#endif
