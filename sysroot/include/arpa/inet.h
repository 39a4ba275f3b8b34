/* unik libc: <arpa/inet.h> (POSIX): Internet address text and byte order (the
 * `inet` component, runtime/libc/src/netdb/text.rs). Text is read and written as
 * glibc does: inet_pton strict, inet_aton the traditional a.b.c.d / a.b.c / a.b / a
 * forms in decimal, octal or hex, inet_ntop IPv6 with the longest zero run as "::". */
#ifndef _ARPA_INET_H
#define _ARPA_INET_H 1

#include <features.h>
#include <netinet/in.h>

__BEGIN_DECLS

in_addr_t inet_addr(const char *text) __THROW;
int inet_aton(const char *text, struct in_addr *address) __THROW;
char *inet_ntoa(struct in_addr address) __THROW;
int inet_pton(int family, const char *__restrict text, void *__restrict address) __THROW;
const char *inet_ntop(int family, const void *__restrict address, char *__restrict text,
                      socklen_t size) __THROW;

__END_DECLS

#endif
