/* The initrd benchmark's program: checks that the tree is there (one stat) and exits,
 * so the boot time measured is the boot plus unpacking the tree into the RAM file
 * system. */
#include <stdio.h>
#include <sys/stat.h>

int main(void) {
  struct stat status;
  if (stat("/tree/marker", &status) != 0) {
    perror("/tree/marker");
    return 1;
  }
  return 0;
}
