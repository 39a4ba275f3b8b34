/* Thread benchmark, run as a unikernel and as a Linux process in the same bench run:
 *   - context switch: two threads ping-pong through one mutex and a condition variable
 *     (each hand-over is one switch); ns per switch, median of ROUNDS rounds;
 *   - thread creation + join of a thread that returns at once; ns, median.
 * Output: "context_switch_ns N" and "create_join_ns N". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 9
#define HANDOVERS 2000
#define CREATIONS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long turn;
static long limit;

static long long now_ns(void) {
  struct timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return (long long)time.tv_sec * 1000000000LL + time.tv_nsec;
}

/* Player `parity` moves when turn % 2 == parity, until turn reaches limit. */
static void *player(void *argument) {
  long parity = (long)argument;
  pthread_mutex_lock(&lock);
  while (turn < limit) {
    while (turn % 2 != parity && turn < limit) pthread_cond_wait(&changed, &lock);
    if (turn >= limit) break;
    turn++;
    pthread_cond_signal(&changed);
  }
  pthread_cond_signal(&changed);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void *nothing(void *argument) { return argument; }

static int compare(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

int main(void) {
  long long switch_ns[ROUNDS], create_ns[ROUNDS];
  for (int round = 0; round < ROUNDS; round++) {
    turn = 0;
    limit = HANDOVERS;
    pthread_t one, two;
    long long start = now_ns();
    pthread_create(&one, NULL, player, (void *)0L);
    pthread_create(&two, NULL, player, (void *)1L);
    pthread_join(one, NULL);
    pthread_join(two, NULL);
    switch_ns[round] = (now_ns() - start) / HANDOVERS;

    start = now_ns();
    for (int i = 0; i < CREATIONS; i++) {
      pthread_t thread;
      pthread_create(&thread, NULL, nothing, NULL);
      pthread_join(thread, NULL);
    }
    create_ns[round] = (now_ns() - start) / CREATIONS;
  }
  qsort(switch_ns, ROUNDS, sizeof switch_ns[0], compare);
  qsort(create_ns, ROUNDS, sizeof create_ns[0], compare);
  printf("context_switch_ns %lld\n", switch_ns[ROUNDS / 2]);
  printf("create_join_ns %lld\n", create_ns[ROUNDS / 2]);
  return 0;
}
