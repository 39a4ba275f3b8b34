/* Random bytes per second: 32 MiB through getrandom(2) and through read(2) of
 * /dev/urandom, in 64 KiB requests (and 4 MiB of 16-byte getrandom calls, the size
 * hash-map keys take). Prints "NAME MiB/s" lines. The same program runs natively (the
 * Linux kernel's generator) and as a unikernel (the runtime's ChaCha20). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static unsigned char buffer[65536];

static double seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec + now.tv_nsec / 1e9;
}

static void report(const char *name, double bytes, double start) {
  printf("%s %.1f MiB/s\n", name, bytes / (1 << 20) / (seconds() - start));
}

int main(void) {
  const long total = 32l << 20;
  double start = seconds();
  for (long done = 0; done < total; done += sizeof buffer) {
    if (getrandom(buffer, sizeof buffer, 0) != (ssize_t)sizeof buffer) return 1;
  }
  report("getrandom_64k", total, start);
  start = seconds();
  const long small = 4l << 20;
  for (long done = 0; done < small; done += 16) {
    if (getrandom(buffer, 16, 0) != 16) return 1;
  }
  report("getrandom_16", small, start);
  int device = open("/dev/urandom", O_RDONLY);
  if (device < 0) return 1;
  start = seconds();
  for (long done = 0; done < total; done += sizeof buffer) {
    if (read(device, buffer, sizeof buffer) != (ssize_t)sizeof buffer) return 1;
  }
  report("dev_urandom_64k", total, start);
  close(device);
  return 0;
}
