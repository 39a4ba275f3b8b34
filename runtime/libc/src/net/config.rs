//! The network configuration from the command line's runtime options (before `--`):
//!
//! - `unik.ip=ADDRESS/PREFIX`: a static IPv4 address (without it: DHCPv4);
//! - `unik.gateway=ADDRESS`: the default route (static configuration);
//! - `unik.dns=ADDRESS`: a DNS server (repeatable; DHCP's servers otherwise).
//!
//! `unik run --ip/--gateway/--dns` writes them.

extern crate alloc;

use alloc::vec::Vec;

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Static address and prefix length; None: DHCP.
    pub address: Option<([u8; 4], u8)>,
    pub gateway: Option<[u8; 4]>,
    pub dns: Vec<[u8; 4]>,
}

/// A malformed option: the word, for the error message.
#[derive(Debug, PartialEq, Eq)]
pub struct BadOption<'line>(pub &'line [u8]);

/// Parses dotted-quad IPv4 text (four decimal numbers 0-255, as inet_aton's strict form).
pub fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut parts = text.split(|&byte| byte == b'.');
    let mut address = [0u8; 4];
    for slot in &mut address {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = part
            .iter()
            .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'));
        *slot = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(address)
}

/// Reads the `unik.ip`, `unik.gateway` and `unik.dns` words among `parameters`.
pub fn parse<'line>(
    parameters: impl Iterator<Item = &'line [u8]>,
) -> Result<NetworkConfig, BadOption<'line>> {
    let mut config = NetworkConfig::default();
    for word in parameters {
        if let Some(value) = word.strip_prefix(b"unik.ip=") {
            let (address, prefix) = match value.iter().position(|&byte| byte == b'/') {
                Some(slash) => (&value[..slash], &value[slash + 1..]),
                None => (value, &b"24"[..]),
            };
            let address = parse_ipv4(address).ok_or(BadOption(word))?;
            let prefix = core::str::from_utf8(prefix)
                .ok()
                .and_then(|text| text.parse::<u8>().ok())
                .filter(|prefix| *prefix <= 32)
                .ok_or(BadOption(word))?;
            config.address = Some((address, prefix));
        } else if let Some(value) = word.strip_prefix(b"unik.gateway=") {
            config.gateway = Some(parse_ipv4(value).ok_or(BadOption(word))?);
        } else if let Some(value) = word.strip_prefix(b"unik.dns=") {
            config.dns.push(parse_ipv4(value).ok_or(BadOption(word))?);
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_ipv4(b"10.0.2.15"), Some([10, 0, 2, 15]));
        assert_eq!(parse_ipv4(b"255.255.255.255"), Some([255; 4]));
        assert_eq!(parse_ipv4(b"256.0.0.1"), None);
        assert_eq!(parse_ipv4(b"1.2.3"), None);
        assert_eq!(parse_ipv4(b"1.2.3.4.5"), None);
        assert_eq!(parse_ipv4(b"1..3.4"), None);
        assert_eq!(parse_ipv4(b"a.b.c.d"), None);
    }

    #[test]
    fn options() {
        let words: [&[u8]; 5] = [
            b"A=1",
            b"unik.ip=10.0.2.15/24",
            b"unik.gateway=10.0.2.2",
            b"unik.dns=10.0.2.3",
            b"unik.verbose",
        ];
        let config = parse(words.into_iter()).unwrap();
        assert_eq!(config.address, Some(([10, 0, 2, 15], 24)));
        assert_eq!(config.gateway, Some([10, 0, 2, 2]));
        assert_eq!(config.dns, [[10, 0, 2, 3]]);
        assert_eq!(
            parse([&b"unik.ip=10.0.2.15/33"[..]].into_iter()),
            Err(BadOption(b"unik.ip=10.0.2.15/33"))
        );
        assert_eq!(
            parse([&b"unik.gateway=x"[..]].into_iter()),
            Err(BadOption(b"unik.gateway=x"))
        );
        assert_eq!(parse([].into_iter()).unwrap(), NetworkConfig::default());
    }
}
