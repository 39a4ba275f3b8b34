//! `strftime` in the "C" locale (C11 7.27.3.5, POSIX strftime, and glibc's GNU
//! additions `%k %l %P %s` and the `_ - 0 ^ #` flags are not supported: a flag or an
//! unknown conversion is copied as text, as glibc does for unknown ones), and the fixed
//! `asctime` format.

use super::Tm;
use super::calendar::{days_from_civil, is_leap_year};

const DAY_NAMES: [&[u8]; 7] = [
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
];
const MONTH_NAMES: [&[u8]; 12] = [
    b"January",
    b"February",
    b"March",
    b"April",
    b"May",
    b"June",
    b"July",
    b"August",
    b"September",
    b"October",
    b"November",
    b"December",
];

/// Output that stops (and remembers it) when the buffer is full.
struct Output<'a> {
    buffer: &'a mut [u8],
    length: usize,
    overflow: bool,
}

impl Output<'_> {
    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.length < self.buffer.len() {
                self.buffer[self.length] = byte;
                self.length += 1;
            } else {
                self.overflow = true;
            }
        }
    }

    /// `value` in decimal, at least `width` digits, padded with `pad`.
    fn number(&mut self, value: i64, width: usize, pad: u8) {
        let mut digits = [0u8; 24];
        let mut count = 0;
        let negative = value < 0;
        let mut magnitude = value.unsigned_abs();
        loop {
            digits[count] = b'0' + (magnitude % 10) as u8;
            count += 1;
            magnitude /= 10;
            if magnitude == 0 {
                break;
            }
        }
        if negative {
            self.bytes(b"-");
        }
        for _ in count + usize::from(negative)..width {
            self.bytes(&[pad]);
        }
        for index in (0..count).rev() {
            self.bytes(&[digits[index]]);
        }
    }
}

fn name(table: &[&'static [u8]], index: i32) -> &'static [u8] {
    usize::try_from(index)
        .ok()
        .and_then(|index| table.get(index))
        .copied()
        .unwrap_or(b"?")
}

/// ISO 8601 week-based year and week number (for %G, %g, %V).
fn iso_week(tm: &Tm) -> (i64, i64) {
    let year = i64::from(tm.year) + 1900;
    let day_of_year = i64::from(tm.day_of_year);
    // Monday = 0.
    let weekday = (i64::from(tm.day_of_week) + 6) % 7;
    let week = (day_of_year - weekday + 10) / 7;
    if week < 1 {
        let previous = year - 1;
        let previous_days = if is_leap_year(previous) { 366 } else { 365 };
        let week = (day_of_year + previous_days - weekday + 10) / 7;
        return (previous, week);
    }
    let days_in_year = if is_leap_year(year) { 366 } else { 365 };
    if week == 53 && day_of_year - weekday + 3 >= days_in_year {
        return (year + 1, 1);
    }
    (year, week)
}

fn zone_name(tm: &Tm) -> &'static [u8] {
    if core::ptr::eq(tm.zone, super::ZONE_UTC.as_ptr()) {
        b"UTC"
    } else {
        b"GMT"
    }
}

fn convert(output: &mut Output<'_>, conversion: u8, tm: &Tm) -> bool {
    let year = i64::from(tm.year) + 1900;
    let hour12 = match tm.hour % 12 {
        0 => 12,
        hour => hour,
    };
    match conversion {
        b'a' => output.bytes(&name(&DAY_NAMES, tm.day_of_week)[..3]),
        b'A' => output.bytes(name(&DAY_NAMES, tm.day_of_week)),
        b'b' | b'h' => output.bytes(&name(&MONTH_NAMES, tm.month)[..3]),
        b'B' => output.bytes(name(&MONTH_NAMES, tm.month)),
        b'c' => {
            format_into(output, b"%a %b %e %H:%M:%S %Y", tm);
        }
        b'C' => output.number(year.div_euclid(100), 2, b'0'),
        b'd' => output.number(i64::from(tm.day_of_month), 2, b'0'),
        b'D' => format_into(output, b"%m/%d/%y", tm),
        b'e' => output.number(i64::from(tm.day_of_month), 2, b' '),
        b'F' => format_into(output, b"%Y-%m-%d", tm),
        b'g' => output.number(iso_week(tm).0.rem_euclid(100), 2, b'0'),
        b'G' => output.number(iso_week(tm).0, 1, b'0'),
        b'H' => output.number(i64::from(tm.hour), 2, b'0'),
        b'I' => output.number(i64::from(hour12), 2, b'0'),
        b'j' => output.number(i64::from(tm.day_of_year) + 1, 3, b'0'),
        b'k' => output.number(i64::from(tm.hour), 2, b' '),
        b'l' => output.number(i64::from(hour12), 2, b' '),
        b'm' => output.number(i64::from(tm.month) + 1, 2, b'0'),
        b'M' => output.number(i64::from(tm.minute), 2, b'0'),
        b'n' => output.bytes(b"\n"),
        b'p' => output.bytes(if tm.hour >= 12 { b"PM" } else { b"AM" }),
        b'P' => output.bytes(if tm.hour >= 12 { b"pm" } else { b"am" }),
        b'r' => format_into(output, b"%I:%M:%S %p", tm),
        b'R' => format_into(output, b"%H:%M", tm),
        b's' => {
            let days = days_from_civil(year, i64::from(tm.month) + 1, i64::from(tm.day_of_month));
            let seconds = days * 86_400
                + i64::from(tm.hour) * 3600
                + i64::from(tm.minute) * 60
                + i64::from(tm.second);
            output.number(seconds, 1, b'0');
        }
        b'S' => output.number(i64::from(tm.second), 2, b'0'),
        b't' => output.bytes(b"\t"),
        b'T' => format_into(output, b"%H:%M:%S", tm),
        b'u' => output.number(
            if tm.day_of_week == 0 {
                7
            } else {
                i64::from(tm.day_of_week)
            },
            1,
            b'0',
        ),
        b'U' => output.number(
            (i64::from(tm.day_of_year) + 7 - i64::from(tm.day_of_week)) / 7,
            2,
            b'0',
        ),
        b'V' => output.number(iso_week(tm).1, 2, b'0'),
        b'w' => output.number(i64::from(tm.day_of_week), 1, b'0'),
        b'W' => output.number(
            (i64::from(tm.day_of_year) + 7 - (i64::from(tm.day_of_week) + 6) % 7) / 7,
            2,
            b'0',
        ),
        b'x' => format_into(output, b"%m/%d/%y", tm),
        b'X' => format_into(output, b"%H:%M:%S", tm),
        b'y' => output.number(year.rem_euclid(100), 2, b'0'),
        b'Y' => output.number(year, 1, b'0'),
        b'z' => {
            let offset = tm.gmt_offset;
            output.bytes(if offset < 0 { b"-" } else { b"+" });
            let minutes = offset.unsigned_abs() / 60;
            output.number((minutes / 60 * 100 + minutes % 60) as i64, 4, b'0');
        }
        b'Z' => output.bytes(zone_name(tm)),
        b'%' => output.bytes(b"%"),
        _ => return false,
    }
    true
}

fn format_into(output: &mut Output<'_>, format: &[u8], tm: &Tm) {
    let mut index = 0;
    while index < format.len() {
        let byte = format[index];
        if byte != b'%' {
            output.bytes(&[byte]);
            index += 1;
            continue;
        }
        let start = index;
        index += 1;
        // The E and O modifiers select alternative representations, the same in the
        // "C" locale (C11 7.27.3.5p4).
        while index < format.len() && (format[index] == b'E' || format[index] == b'O') {
            index += 1;
        }
        let Some(&conversion) = format.get(index) else {
            output.bytes(&format[start..]);
            break;
        };
        index += 1;
        if !convert(output, conversion, tm) {
            output.bytes(&format[start..index]);
        }
    }
}

/// `strftime`: the length written without the NUL, or 0 when it (with the NUL) does
/// not fit in `buffer` (C11: "the contents of the array are indeterminate").
pub fn strftime(buffer: &mut [u8], format: &[u8], tm: &Tm) -> usize {
    let Some(capacity) = buffer.len().checked_sub(1) else {
        return 0;
    };
    let mut output = Output {
        buffer: &mut buffer[..capacity],
        length: 0,
        overflow: false,
    };
    format_into(&mut output, format, tm);
    if output.overflow {
        return 0;
    }
    let length = output.length;
    buffer[length] = 0;
    length
}

/// `asctime`'s fixed format (C11 7.27.3.1): "Sun Sep 16 01:03:52 1973\n"; glibc prints
/// the year with as many digits as it has. Returns the length (without the NUL).
pub fn asctime(buffer: &mut [u8; 64], tm: &Tm) -> usize {
    let mut output = Output {
        buffer: &mut buffer[..63],
        length: 0,
        overflow: false,
    };
    output.bytes(&name(&DAY_NAMES, tm.day_of_week)[..3]);
    output.bytes(b" ");
    output.bytes(&name(&MONTH_NAMES, tm.month)[..3]);
    output.bytes(b" ");
    output.number(i64::from(tm.day_of_month), 2, b' ');
    output.bytes(b" ");
    output.number(i64::from(tm.hour), 2, b'0');
    output.bytes(b":");
    output.number(i64::from(tm.minute), 2, b'0');
    output.bytes(b":");
    output.number(i64::from(tm.second), 2, b'0');
    output.bytes(b" ");
    output.number(i64::from(tm.year) + 1900, 1, b'0');
    output.bytes(b"\n");
    let length = output.length;
    buffer[length] = 0;
    length
}

#[cfg(test)]
mod tests {
    use super::super::calendar::broken_down;
    use super::*;

    fn render(format: &str, seconds: i64) -> String {
        let tm = broken_down(seconds, core::ptr::null()).unwrap();
        let mut buffer = [0u8; 256];
        let length = strftime(&mut buffer, format.as_bytes(), &tm);
        String::from_utf8(buffer[..length].to_vec()).unwrap()
    }

    #[test]
    fn matches_glibc_in_the_c_locale() {
        // Expected texts from glibc 2.36: TZ=UTC date -d @951827696 +'...'.
        assert_eq!(render("%c", 951_827_696), "Tue Feb 29 12:34:56 2000");
        assert_eq!(
            render("%F %T %j %U %W %V %G %u %w", 951_827_696),
            "2000-02-29 12:34:56 060 09 09 09 2000 2 2"
        );
        assert_eq!(
            render("%D %r %e %y %C %Z %z %%", 951_827_696),
            "02/29/00 12:34:56 PM 29 00 20 GMT +0000 %"
        );
        // 2021-01-01 is in ISO week 53 of 2020.
        assert_eq!(render("%G-W%V-%u", 1_609_459_200), "2020-W53-5");
    }

    #[test]
    fn too_small_a_buffer_gives_zero() {
        let tm = broken_down(0, core::ptr::null()).unwrap();
        let mut buffer = [0u8; 4];
        assert_eq!(strftime(&mut buffer, b"%Y", &tm), 0);
        let mut buffer = [0u8; 5];
        assert_eq!(strftime(&mut buffer, b"%Y", &tm), 4);
    }

    #[test]
    fn asctime_has_the_fixed_format() {
        let tm = broken_down(116_989_432, core::ptr::null()).unwrap();
        let mut buffer = [0u8; 64];
        let length = asctime(&mut buffer, &tm);
        assert_eq!(&buffer[..length], b"Sun Sep 16 01:03:52 1973\n");
    }
}
