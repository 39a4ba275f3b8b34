//! Internet addresses as text, the way glibc reads and writes them: `inet_pton` and
//! `inet_ntop` (RFC 4291 section 2.2 for IPv6 text, with glibc's compression of the
//! longest run of two or more zero groups and its `::a.b.c.d` forms), and the
//! traditional `inet_aton` numbers-and-dots notation (one to four parts, each decimal,
//! octal with a leading 0 or hexadecimal with 0x; the last part fills the remaining
//! bytes), which `inet_addr` and getaddrinfo's numeric hosts use.

/// An IPv4 address in dotted-decimal form, strictly: four decimal parts 0–255 without
/// leading zeros (glibc's `inet_pton4`). None otherwise.
pub fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut address = [0u8; 4];
    let mut parts = 0;
    for part in text.split(|&byte| byte == b'.') {
        if parts == 4 || part.is_empty() || part.len() > 3 {
            return None;
        }
        if part.len() > 1 && part[0] == b'0' {
            return None;
        }
        let mut value: u32 = 0;
        for &byte in part {
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(byte - b'0');
        }
        address[parts] = u8::try_from(value).ok()?;
        parts += 1;
    }
    (parts == 4).then_some(address)
}

fn hex_value(byte: u8) -> Option<u16> {
    (byte as char).to_digit(16).map(|value| value as u16)
}

/// An IPv6 address in RFC 4291 text: eight groups of up to four hex digits, one `::`
/// standing for one or more zero groups, an IPv4 dotted quad as the last 32 bits.
pub fn parse_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    let mut groups = [0u16; 8];
    let mut count = 0;
    let mut gap: Option<usize> = None;
    let mut rest = text;
    if rest.starts_with(b"::") {
        gap = Some(0);
        rest = &rest[2..];
        if rest.is_empty() {
            return Some([0; 16]);
        }
    } else if rest.first() == Some(&b':') {
        return None;
    }
    loop {
        // A dotted quad ends the address, in the last two groups' place.
        let end = rest
            .iter()
            .position(|&byte| byte == b':')
            .unwrap_or(rest.len());
        let field = &rest[..end];
        if field.contains(&b'.') {
            if end != rest.len() || count > 6 {
                return None;
            }
            let quad = parse_ipv4(field)?;
            groups[count] = u16::from_be_bytes([quad[0], quad[1]]);
            groups[count + 1] = u16::from_be_bytes([quad[2], quad[3]]);
            count += 2;
            break;
        }
        if field.is_empty() || field.len() > 4 || count == 8 {
            return None;
        }
        let mut value = 0u16;
        for &byte in field {
            value = value << 4 | hex_value(byte)?;
        }
        groups[count] = value;
        count += 1;
        if end == rest.len() {
            break;
        }
        rest = &rest[end + 1..];
        if rest.first() == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(count);
            rest = &rest[1..];
            if rest.is_empty() {
                break;
            }
        } else if rest.is_empty() {
            // A single trailing colon.
            return None;
        }
    }
    match gap {
        Some(position) => {
            if count == 8 {
                return None;
            }
            let moved = count - position;
            groups.copy_within(position..count, 8 - moved);
            groups[position..8 - moved].fill(0);
        }
        None if count != 8 => return None,
        None => {}
    }
    let mut address = [0u8; 16];
    for (index, group) in groups.iter().enumerate() {
        address[index * 2..index * 2 + 2].copy_from_slice(&group.to_be_bytes());
    }
    Some(address)
}

/// A small output buffer for the formatters (no allocation).
pub struct Text {
    bytes: [u8; 46],
    length: usize,
}

impl Text {
    fn new() -> Self {
        Text {
            bytes: [0; 46],
            length: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.length] = byte;
        self.length += 1;
    }

    fn push_decimal(&mut self, value: u8) {
        if value >= 100 {
            self.push(b'0' + value / 100);
        }
        if value >= 10 {
            self.push(b'0' + value / 10 % 10);
        }
        self.push(b'0' + value % 10);
    }

    fn push_hex(&mut self, value: u16) {
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let digit = (value >> shift & 0xf) as u8;
            if digit != 0 || started || shift == 0 {
                started = true;
                self.push(b"0123456789abcdef"[digit as usize]);
            }
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

/// `a.b.c.d`.
pub fn format_ipv4(address: [u8; 4]) -> Text {
    let mut text = Text::new();
    for (index, &byte) in address.iter().enumerate() {
        if index > 0 {
            text.push(b'.');
        }
        text.push_decimal(byte);
    }
    text
}

/// IPv6 text as glibc's `inet_ntop` writes it: lowercase groups without leading
/// zeros, the first longest run of two or more zero groups as `::`, and
/// `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible and IPv4-mapped addresses.
pub fn format_ipv6(address: [u8; 16]) -> Text {
    let groups: [u16; 8] = core::array::from_fn(|index| {
        u16::from_be_bytes([address[index * 2], address[index * 2 + 1]])
    });
    // The longest run of zero groups (the first of equal ones).
    let (mut best_start, mut best_length) = (0, 0);
    let mut index = 0;
    while index < 8 {
        if groups[index] == 0 {
            let start = index;
            while index < 8 && groups[index] == 0 {
                index += 1;
            }
            if index - start > best_length {
                (best_start, best_length) = (start, index - start);
            }
        } else {
            index += 1;
        }
    }
    let run = (best_length >= 2).then_some(best_start..best_start + best_length);
    let embedded_ipv4 =
        best_start == 0 && (best_length == 6 || (best_length == 5 && groups[5] == 0xffff));
    // The walk of glibc's inet_ntop6: one colon for the whole run, a colon before
    // every other group but the first.
    let mut text = Text::new();
    for (index, &group) in groups.iter().enumerate() {
        if let Some(run) = &run
            && run.contains(&index)
        {
            if index == run.start {
                text.push(b':');
            }
            continue;
        }
        if index != 0 {
            text.push(b':');
        }
        if index == 6 && embedded_ipv4 {
            let quad = format_ipv4([address[12], address[13], address[14], address[15]]);
            for &byte in quad.as_bytes() {
                text.push(byte);
            }
            return text;
        }
        text.push_hex(group);
    }
    if run.is_some_and(|run| run.end == 8) {
        text.push(b':');
    }
    text
}

/// One `inet_aton` part: decimal, octal (leading 0) or hex (0x), as strtoul with base
/// 0 reads it (no sign, no spaces). None on overflow or a stray character.
fn aton_part(part: &[u8]) -> Option<u32> {
    let (digits, radix) = if let Some(hex) = part
        .strip_prefix(b"0x")
        .or_else(|| part.strip_prefix(b"0X"))
    {
        (hex, 16)
    } else if part.len() > 1 && part[0] == b'0' {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() && radix != 16 {
        return None;
    }
    let mut value: u32 = 0;
    for &byte in digits {
        let digit = (byte as char).to_digit(radix)?;
        value = value.checked_mul(radix)?.checked_add(digit)?;
    }
    Some(value)
}

/// `inet_aton`'s notation: `a.b.c.d`, `a.b.c` (c 16 bits), `a.b` (b 24 bits) or `a`
/// (32 bits); glibc stops at the first white space and ignores what follows.
pub fn parse_aton(text: &[u8]) -> Option<[u8; 4]> {
    let end = text
        .iter()
        .position(|byte| byte.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[..end];
    if text.is_empty() {
        return None;
    }
    let mut parts = [0u32; 4];
    let mut count = 0;
    for part in text.split(|&byte| byte == b'.') {
        if count == 4 {
            return None;
        }
        parts[count] = aton_part(part)?;
        count += 1;
    }
    let value = match count {
        1 => parts[0],
        2 if parts[0] <= 0xff && parts[1] <= 0xff_ffff => parts[0] << 24 | parts[1],
        3 if parts[..2].iter().all(|&part| part <= 0xff) && parts[2] <= 0xffff => {
            parts[0] << 24 | parts[1] << 16 | parts[2]
        }
        4 if parts.iter().all(|&part| part <= 0xff) => {
            parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
        }
        _ => return None,
    };
    Some(value.to_be_bytes())
}

/// getaddrinfo's numeric service as glibc reads it: `strtoul(service, &end, 10)`
/// consuming the whole text (leading white space and a '+' allowed, an empty text is
/// 0), the value then cut to 16 bits by `htons`; glibc refuses a '-'. None: not a
/// number (a service name).
pub fn parse_port(text: &[u8]) -> Option<u16> {
    if text.is_empty() {
        return Some(0);
    }
    let start = text
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(text.len());
    let mut rest = &text[start..];
    if rest.first() == Some(&b'+') {
        rest = &rest[1..];
    }
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // strtoul saturates at ULONG_MAX on overflow.
    let value = rest.iter().fold(0u64, |value, &byte| {
        value
            .checked_mul(10)
            .and_then(|value| value.checked_add(u64::from(byte - b'0')))
            .unwrap_or(u64::MAX)
    });
    Some(value as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(text: &str) -> Option<String> {
        parse_ipv6(text.as_bytes())
            .map(|address| String::from_utf8(format_ipv6(address).as_bytes().to_vec()).unwrap())
    }

    #[test]
    fn ipv4_dotted_decimal_is_strict() {
        assert_eq!(parse_ipv4(b"192.168.0.1"), Some([192, 168, 0, 1]));
        assert_eq!(parse_ipv4(b"0.0.0.0"), Some([0; 4]));
        assert_eq!(parse_ipv4(b"255.255.255.255"), Some([255; 4]));
        for bad in [
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..2.3",
            "1.2.3.4 ",
            "",
            "a.b.c.d",
            "1.2.3.-4",
        ] {
            assert_eq!(parse_ipv4(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(format_ipv4([10, 0, 200, 7]).as_bytes(), b"10.0.200.7");
    }

    #[test]
    fn ipv6_text_round_trips_as_glibc_writes_it() {
        assert_eq!(v6("::").as_deref(), Some("::"));
        assert_eq!(v6("::1").as_deref(), Some("::1"));
        assert_eq!(v6("2001:DB8:0:0:0:0:0:1").as_deref(), Some("2001:db8::1"));
        assert_eq!(
            v6("2001:db8:0:1:0:0:0:1").as_deref(),
            Some("2001:db8:0:1::1")
        );
        // One zero group is not compressed; of equal runs, the first is.
        assert_eq!(v6("1:0:2:3:4:5:6:7").as_deref(), Some("1:0:2:3:4:5:6:7"));
        assert_eq!(v6("1:0:0:2:0:0:3:4").as_deref(), Some("1::2:0:0:3:4"));
        assert_eq!(v6("fe80::").as_deref(), Some("fe80::"));
        assert_eq!(v6("::ffff:192.0.2.1").as_deref(), Some("::ffff:192.0.2.1"));
        assert_eq!(v6("::10.0.0.1").as_deref(), Some("::10.0.0.1"));
        assert_eq!(
            v6("1:2:3:4:5:6:1.2.3.4").as_deref(),
            Some("1:2:3:4:5:6:102:304")
        );
        assert_eq!(v6("0:0:0:0:0:0:0:0").as_deref(), Some("::"));
        for bad in [
            ":1",
            "1:",
            "1:::2",
            "1::2::3",
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "g::",
            "::1.2.3",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "",
            "1:2:3:4:5:6:7:8::",
        ] {
            assert_eq!(parse_ipv6(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(
            parse_ipv6(b"1:2:3:4:5:6:7::"),
            Some([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0])
        );
    }

    #[test]
    fn aton_takes_the_traditional_forms() {
        assert_eq!(parse_aton(b"127.0.0.1"), Some([127, 0, 0, 1]));
        assert_eq!(parse_aton(b"127.1"), Some([127, 0, 0, 1]));
        assert_eq!(parse_aton(b"10.1.300"), Some([10, 1, 1, 44]));
        assert_eq!(parse_aton(b"0x7f000001"), Some([127, 0, 0, 1]));
        assert_eq!(parse_aton(b"0177.0.0.01"), Some([127, 0, 0, 1]));
        assert_eq!(parse_aton(b"1.2.3.4 trailing"), Some([1, 2, 3, 4]));
        assert_eq!(parse_aton(b"4294967295"), Some([255; 4]));
        for bad in [
            "",
            "4294967296",
            "1.2.3.256",
            "1.256.3",
            "08",
            "1.2.3.4.5",
            "1..2",
            "x",
            " 1.2.3.4",
        ] {
            assert_eq!(parse_aton(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn ports_are_read_as_strtoul_reads_them() {
        assert_eq!(parse_port(b"0"), Some(0));
        assert_eq!(parse_port(b"8080"), Some(8080));
        assert_eq!(parse_port(b"65535"), Some(65535));
        assert_eq!(parse_port(b"70000"), Some(4464));
        assert_eq!(parse_port(b" +81"), Some(81));
        assert_eq!(parse_port(b""), Some(0));
        assert_eq!(parse_port(b"99999999999999999999999"), Some(65535));
        for bad in ["http", "80 ", " ", "+", "8o", "-1"] {
            assert_eq!(parse_port(bad.as_bytes()), None, "{bad}");
        }
    }
}
