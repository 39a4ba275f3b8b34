/* unik libc: <netdb.h> (POSIX): getaddrinfo, getnameinfo, gethostbyname (the `netdb`
 * component, runtime/libc/src/netdb/lookup.rs). Numeric hosts and "localhost" are
 * answered locally, other names by the network's DNS server (IPv4); services are port
 * numbers (there is no /etc/services); getnameinfo is numeric (no reverse DNS). */
#ifndef _NETDB_H
#define _NETDB_H 1

#include <features.h>
#include <netinet/in.h>
#include <sys/socket.h>

__BEGIN_DECLS

struct hostent {
  char *h_name;
  char **h_aliases;
  int h_addrtype;
  int h_length;
  char **h_addr_list;
#define h_addr h_addr_list[0]
};

struct addrinfo {
  int ai_flags;
  int ai_family;
  int ai_socktype;
  int ai_protocol;
  socklen_t ai_addrlen;
  struct sockaddr *ai_addr;
  char *ai_canonname;
  struct addrinfo *ai_next;
};

#define AI_PASSIVE 0x0001
#define AI_CANONNAME 0x0002
#define AI_NUMERICHOST 0x0004
#define AI_V4MAPPED 0x0008
#define AI_ALL 0x0010
#define AI_ADDRCONFIG 0x0020
#define AI_NUMERICSERV 0x0400

#define EAI_BADFLAGS -1
#define EAI_NONAME -2
#define EAI_AGAIN -3
#define EAI_FAIL -4
#define EAI_FAMILY -6
#define EAI_SOCKTYPE -7
#define EAI_SERVICE -8
#define EAI_MEMORY -10
#define EAI_SYSTEM -11
#define EAI_OVERFLOW -12
#ifdef _GNU_SOURCE
#define EAI_NODATA -5
#define EAI_ADDRFAMILY -9
#endif

#define NI_MAXHOST 1025
#define NI_MAXSERV 32
#define NI_NUMERICHOST 1
#define NI_NUMERICSERV 2
#define NI_NOFQDN 4
#define NI_NAMEREQD 8
#define NI_DGRAM 16

/* h_errno values. */
#define HOST_NOT_FOUND 1
#define TRY_AGAIN 2
#define NO_RECOVERY 3
#define NO_DATA 4

int *__h_errno_location(void) __THROW __attribute__((__const__));
#define h_errno (*__h_errno_location())

int getaddrinfo(const char *__restrict host, const char *__restrict service,
                const struct addrinfo *__restrict hints, struct addrinfo **__restrict result);
void freeaddrinfo(struct addrinfo *list) __THROW;
const char *gai_strerror(int code) __THROW;
int getnameinfo(const struct sockaddr *__restrict address, socklen_t length,
                char *__restrict host, socklen_t host_length, char *__restrict service,
                socklen_t service_length, int flags);
struct hostent *gethostbyname(const char *name);

__END_DECLS

#endif
