/* unik libc: ioctl, the one variadic function of the `net` component (the requests it
 * knows take a pointer). Everything else is in Rust (runtime/libc/src/net). */
#include <stdarg.h>
#include <sys/ioctl.h>

#define UNIK_PUBLIC __attribute__((__weak__))

int __unik_net_ioctl(int descriptor, unsigned long request, void *argument);

UNIK_PUBLIC int ioctl(int descriptor, unsigned long request, ...) {
  va_list list;
  va_start(list, request);
  void *argument = va_arg(list, void *);
  va_end(list);
  return __unik_net_ioctl(descriptor, request, argument);
}
