//! The rules of getaddrinfo(3) and getnameinfo(3), host-testable: which addresses a
//! (host, service, hints) query gives, in glibc's order, before any memory is laid
//! out for C.
//!
//! Hosts: NULL (the wildcard address with AI_PASSIVE, loopback otherwise), numeric
//! addresses (IPv4 in `inet_aton` notation, as glibc accepts `127.1`; IPv6 text),
//! `localhost` (127.0.0.1, and ::1 when IPv6 is asked for), and any other name through
//! the resolver the caller passes (the network component's DNS client). Services:
//! decimal port numbers (there is no /etc/services).

extern crate alloc;

use alloc::vec::Vec;

use super::text;

/// Address families and socket types (Linux's values).
pub const AF_UNSPEC: i32 = 0;
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_RAW: i32 = 3;
pub const IPPROTO_TCP: i32 = 6;
pub const IPPROTO_UDP: i32 = 17;

/// getaddrinfo flags (glibc netdb.h).
pub const AI_PASSIVE: i32 = 0x1;
pub const AI_CANONNAME: i32 = 0x2;
pub const AI_NUMERICHOST: i32 = 0x4;
pub const AI_V4MAPPED: i32 = 0x8;
pub const AI_ALL: i32 = 0x10;
pub const AI_ADDRCONFIG: i32 = 0x20;
pub const AI_NUMERICSERV: i32 = 0x400;
const AI_KNOWN: i32 = AI_PASSIVE
    | AI_CANONNAME
    | AI_NUMERICHOST
    | AI_V4MAPPED
    | AI_ALL
    | AI_ADDRCONFIG
    | AI_NUMERICSERV;

/// getaddrinfo/getnameinfo errors (glibc netdb.h).
pub const EAI_BADFLAGS: i32 = -1;
pub const EAI_NONAME: i32 = -2;
pub const EAI_AGAIN: i32 = -3;
pub const EAI_FAIL: i32 = -4;
pub const EAI_NODATA: i32 = -5;
pub const EAI_FAMILY: i32 = -6;
pub const EAI_SOCKTYPE: i32 = -7;
pub const EAI_SERVICE: i32 = -8;
pub const EAI_ADDRFAMILY: i32 = -9;
pub const EAI_MEMORY: i32 = -10;
pub const EAI_SYSTEM: i32 = -11;
pub const EAI_OVERFLOW: i32 = -12;

/// getnameinfo flags.
pub const NI_NUMERICHOST: i32 = 1;
pub const NI_NUMERICSERV: i32 = 2;
pub const NI_NAMEREQD: i32 = 8;

/// glibc's `gai_strerror` texts.
pub fn error_text(code: i32) -> &'static [u8] {
    match code {
        EAI_BADFLAGS => b"Bad value for ai_flags\0",
        EAI_NONAME => b"Name or service not known\0",
        EAI_AGAIN => b"Temporary failure in name resolution\0",
        EAI_FAIL => b"Non-recoverable failure in name resolution\0",
        EAI_NODATA => b"No address associated with hostname\0",
        EAI_FAMILY => b"ai_family not supported\0",
        EAI_SOCKTYPE => b"ai_socktype not supported\0",
        EAI_SERVICE => b"Servname not supported for ai_socktype\0",
        EAI_ADDRFAMILY => b"Address family for hostname not supported\0",
        EAI_MEMORY => b"Memory allocation failure\0",
        EAI_SYSTEM => b"System error\0",
        _ => b"Unknown error\0",
    }
}

/// An address getaddrinfo returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Address {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// One result: the address with its port, and the socket type and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub address: Address,
    pub port: u16,
    pub socket_type: i32,
    pub protocol: i32,
}

/// What the caller asks for (the `hints`, zero when NULL).
#[derive(Clone, Copy, Debug, Default)]
pub struct Hints {
    pub flags: i32,
    pub family: i32,
    pub socket_type: i32,
    pub protocol: i32,
}

/// Why a name has no address: the resolver's answer, as an EAI_* code.
pub type Resolver<'a> = &'a mut dyn FnMut(&[u8]) -> Result<Vec<[u8; 4]>, i32>;

/// The addresses for (host, service) under `hints`, in glibc's order (for each
/// address, one entry per socket type), or an EAI_* code.
pub fn resolve(
    host: Option<&[u8]>,
    service: Option<&[u8]>,
    hints: Hints,
    resolver: Resolver<'_>,
) -> Result<Vec<Found>, i32> {
    if hints.flags & !AI_KNOWN != 0 {
        return Err(EAI_BADFLAGS);
    }
    if host.is_none() && service.is_none() {
        return Err(EAI_NONAME);
    }
    if hints.flags & AI_CANONNAME != 0 && host.is_none() {
        return Err(EAI_BADFLAGS);
    }
    if ![AF_UNSPEC, AF_INET, AF_INET6].contains(&hints.family) {
        return Err(EAI_FAMILY);
    }
    let socket_types: &[(i32, i32)] = match (hints.socket_type, hints.protocol) {
        (0, 0) => &[
            (SOCK_STREAM, IPPROTO_TCP),
            (SOCK_DGRAM, IPPROTO_UDP),
            (SOCK_RAW, 0),
        ],
        (0, IPPROTO_TCP) | (SOCK_STREAM, 0 | IPPROTO_TCP) => &[(SOCK_STREAM, IPPROTO_TCP)],
        (0, IPPROTO_UDP) | (SOCK_DGRAM, 0 | IPPROTO_UDP) => &[(SOCK_DGRAM, IPPROTO_UDP)],
        (SOCK_RAW, _) => &[(SOCK_RAW, 0)],
        // glibc: a protocol no type has is EAI_SERVICE; a type that does not go with
        // the protocol, or an unknown type, EAI_SOCKTYPE.
        (0, _) => return Err(EAI_SERVICE),
        _ => return Err(EAI_SOCKTYPE),
    };
    let port = match service {
        None => 0,
        Some(service) => match text::parse_port(service) {
            Some(port) => port,
            None if hints.flags & AI_NUMERICSERV != 0 => return Err(EAI_NONAME),
            None => return Err(EAI_SERVICE),
        },
    };
    // A service asked for raw sockets has no meaning (glibc: EAI_SERVICE); without a
    // type, glibc lists the raw socket with a numeric service too.
    if hints.socket_type == SOCK_RAW && service.is_some() {
        return Err(EAI_SERVICE);
    }
    let addresses = host_addresses(host, hints, resolver)?;
    let mut found = Vec::new();
    for address in addresses {
        for &(socket_type, protocol) in socket_types {
            found.push(Found {
                address,
                port,
                socket_type,
                protocol,
            });
        }
    }
    Ok(found)
}

fn host_addresses(
    host: Option<&[u8]>,
    hints: Hints,
    resolver: Resolver<'_>,
) -> Result<Vec<Address>, i32> {
    let want_v4 = hints.family != AF_INET6;
    let want_v6 = hints.family != AF_INET;
    let Some(host) = host else {
        // The wildcard (AI_PASSIVE) or loopback address; for AF_UNSPEC glibc gives
        // 0.0.0.0 before :: and ::1 before 127.0.0.1.
        let passive = hints.flags & AI_PASSIVE != 0;
        let mut list = Vec::new();
        if want_v4 {
            list.push(Address::V4(if passive { [0; 4] } else { [127, 0, 0, 1] }));
        }
        if want_v6 {
            let mut address = [0u8; 16];
            if !passive {
                address[15] = 1;
            }
            list.push(Address::V6(address));
        }
        if !passive {
            list.reverse();
        }
        return Ok(list);
    };
    // inet_aton's notation, the whole name (glibc's __inet_aton_exact).
    let exact = !host.iter().any(u8::is_ascii_whitespace);
    if let Some(address) = text::parse_aton(host).filter(|_| exact) {
        return if want_v4 {
            Ok(alloc::vec![Address::V4(address)])
        } else if hints.flags & AI_V4MAPPED != 0 {
            Ok(alloc::vec![Address::V6(mapped(address))])
        } else {
            Err(EAI_ADDRFAMILY)
        };
    }
    if let Some(address) = text::parse_ipv6(host) {
        return match address {
            _ if want_v6 => Ok(alloc::vec![Address::V6(address)]),
            // An IPv4-mapped address asked for as IPv4.
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d] => {
                Ok(alloc::vec![Address::V4([a, b, c, d])])
            }
            _ => Err(EAI_ADDRFAMILY),
        };
    }
    if hints.flags & AI_NUMERICHOST != 0 {
        return Err(EAI_NONAME);
    }
    if host.eq_ignore_ascii_case(b"localhost") {
        let mut list = Vec::new();
        if want_v6 && hints.family == AF_INET6 {
            let mut address = [0u8; 16];
            address[15] = 1;
            list.push(Address::V6(address));
        }
        if want_v4 {
            list.push(Address::V4([127, 0, 0, 1]));
        }
        return Ok(list);
    }
    let resolved = resolver(host)?;
    if resolved.is_empty() {
        return Err(EAI_NONAME);
    }
    if want_v4 {
        Ok(resolved.into_iter().map(Address::V4).collect())
    } else if hints.flags & AI_V4MAPPED != 0 {
        Ok(resolved
            .into_iter()
            .map(|address| Address::V6(mapped(address)))
            .collect())
    } else {
        // The resolver knows IPv4 only.
        Err(EAI_NONAME)
    }
}

/// The IPv4-mapped IPv6 address `::ffff:a.b.c.d`.
fn mapped(address: [u8; 4]) -> [u8; 16] {
    let mut result = [0u8; 16];
    result[10] = 0xff;
    result[11] = 0xff;
    result[12..].copy_from_slice(&address);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_dns(_: &[u8]) -> Result<Vec<[u8; 4]>, i32> {
        Err(EAI_AGAIN)
    }

    fn lookup(host: Option<&str>, service: Option<&str>, hints: Hints) -> Result<Vec<Found>, i32> {
        resolve(
            host.map(str::as_bytes),
            service.map(str::as_bytes),
            hints,
            &mut no_dns,
        )
    }

    fn stream(family: i32) -> Hints {
        Hints {
            family,
            socket_type: SOCK_STREAM,
            ..Hints::default()
        }
    }

    #[test]
    fn numeric_hosts_and_ports() {
        let found = lookup(Some("10.0.2.15"), Some("8080"), stream(AF_UNSPEC)).unwrap();
        assert_eq!(
            found,
            vec![Found {
                address: Address::V4([10, 0, 2, 15]),
                port: 8080,
                socket_type: SOCK_STREAM,
                protocol: IPPROTO_TCP
            }]
        );
        // glibc accepts inet_aton's forms.
        assert_eq!(
            lookup(Some("127.1"), None, stream(AF_INET)).unwrap()[0].address,
            Address::V4([127, 0, 0, 1])
        );
        let v6 = lookup(Some("::1"), Some("80"), stream(AF_UNSPEC)).unwrap();
        assert_eq!(
            v6[0].address,
            Address::V6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        );
        assert_eq!(
            lookup(Some("::1"), None, stream(AF_INET)),
            Err(EAI_ADDRFAMILY)
        );
        assert_eq!(
            lookup(Some("::ffff:1.2.3.4"), None, stream(AF_INET)).unwrap()[0].address,
            Address::V4([1, 2, 3, 4])
        );
        assert_eq!(
            lookup(Some("1.2.3.4"), None, stream(AF_INET6)),
            Err(EAI_ADDRFAMILY)
        );
        let mapped_hints = Hints {
            flags: AI_V4MAPPED,
            ..stream(AF_INET6)
        };
        assert_eq!(
            lookup(Some("1.2.3.4"), None, mapped_hints).unwrap()[0].address,
            Address::V6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4])
        );
    }

    #[test]
    fn every_socket_type_without_hints() {
        let found = lookup(Some("1.2.3.4"), None, Hints::default()).unwrap();
        let kinds: Vec<(i32, i32)> = found.iter().map(|f| (f.socket_type, f.protocol)).collect();
        assert_eq!(
            kinds,
            vec![
                (SOCK_STREAM, IPPROTO_TCP),
                (SOCK_DGRAM, IPPROTO_UDP),
                (SOCK_RAW, 0)
            ]
        );
        // A numeric service keeps the raw entry (glibc).
        assert_eq!(
            lookup(Some("1.2.3.4"), Some("53"), Hints::default())
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn null_host_is_wildcard_or_loopback() {
        let passive = Hints {
            flags: AI_PASSIVE,
            ..stream(AF_UNSPEC)
        };
        let found = lookup(None, Some("80"), passive).unwrap();
        assert_eq!(found[0].address, Address::V4([0; 4]));
        assert_eq!(found[1].address, Address::V6([0; 16]));
        let found = lookup(None, Some("80"), stream(AF_UNSPEC)).unwrap();
        assert_eq!(found[1].address, Address::V4([127, 0, 0, 1]));
        let found = lookup(None, Some("80"), stream(AF_INET)).unwrap();
        assert_eq!(found[0].address, Address::V4([127, 0, 0, 1]));
    }

    #[test]
    fn localhost_and_names() {
        assert_eq!(
            lookup(Some("localhost"), None, stream(AF_UNSPEC)).unwrap()[0].address,
            Address::V4([127, 0, 0, 1])
        );
        assert_eq!(
            lookup(Some("example.com"), None, stream(AF_INET)),
            Err(EAI_AGAIN)
        );
        let numeric = Hints {
            flags: AI_NUMERICHOST,
            ..stream(AF_INET)
        };
        assert_eq!(lookup(Some("example.com"), None, numeric), Err(EAI_NONAME));
        let mut dns = |name: &[u8]| {
            assert_eq!(name, b"example.com");
            Ok(vec![[93, 184, 216, 34], [93, 184, 216, 35]])
        };
        let found = resolve(
            Some(b"example.com"),
            Some(b"443"),
            stream(AF_INET),
            &mut dns,
        )
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].address, Address::V4([93, 184, 216, 35]));
        assert_eq!(found[1].port, 443);
    }

    #[test]
    fn errors_are_glibcs() {
        assert_eq!(lookup(None, None, Hints::default()), Err(EAI_NONAME));
        assert_eq!(
            lookup(Some("1.2.3.4"), Some("http"), Hints::default()),
            Err(EAI_SERVICE)
        );
        let numeric_service = Hints {
            flags: AI_NUMERICSERV,
            ..Hints::default()
        };
        assert_eq!(
            lookup(Some("1.2.3.4"), Some("http"), numeric_service),
            Err(EAI_NONAME)
        );
        assert_eq!(lookup(Some("1.2.3.4"), None, stream(1)), Err(EAI_FAMILY));
        let mismatch = Hints {
            protocol: IPPROTO_UDP,
            ..stream(AF_UNSPEC)
        };
        assert_eq!(lookup(Some("1.2.3.4"), None, mismatch), Err(EAI_SOCKTYPE));
        let unknown_protocol = Hints {
            protocol: 99,
            ..Hints::default()
        };
        assert_eq!(
            lookup(Some("1.2.3.4"), None, unknown_protocol),
            Err(EAI_SERVICE)
        );
        let raw = Hints {
            socket_type: SOCK_RAW,
            ..Hints::default()
        };
        assert_eq!(lookup(Some("1.2.3.4"), Some("80"), raw), Err(EAI_SERVICE));
        let bad_type = Hints {
            socket_type: 9,
            ..Hints::default()
        };
        assert_eq!(lookup(Some("1.2.3.4"), None, bad_type), Err(EAI_SOCKTYPE));
        let bad_flags = Hints {
            flags: 0x10000,
            ..Hints::default()
        };
        assert_eq!(lookup(Some("1.2.3.4"), None, bad_flags), Err(EAI_BADFLAGS));
        let canonical = Hints {
            flags: AI_CANONNAME,
            ..Hints::default()
        };
        assert_eq!(lookup(None, Some("80"), canonical), Err(EAI_BADFLAGS));
        assert_eq!(error_text(EAI_NONAME), b"Name or service not known\0");
        assert_eq!(error_text(1), b"Unknown error\0");
    }
}
