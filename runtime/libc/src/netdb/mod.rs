//! Names and addresses of the Internet: `<arpa/inet.h>` (the `inet` component:
//! address text and byte order) and `<netdb.h>` (the `netdb` component:
//! getaddrinfo, getnameinfo, gethostbyname). The rules are host-tested ([`text`] for
//! the address notations, [`lookup`] for what a query answers); `exports` lays the
//! results out as C structures.
pub mod lookup;
pub mod text;

#[cfg(not(test))]
mod exports;
#[cfg(not(test))]
mod inet;
