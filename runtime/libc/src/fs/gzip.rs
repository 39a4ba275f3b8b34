//! Reader of gzip-compressed boot archives (`gzip -c tree.cpio`, what Linux initramfs
//! tools write by default): RFC 1952 members, one after another, each checked against
//! its CRC-32 and length; the DEFLATE data (RFC 1951) is inflated by `miniz_oxide`.
//!
//! Member layout (RFC 1952 2.3): ID1 0x1f, ID2 0x8b, CM 8 (deflate), FLG, MTIME (4),
//! XFL, OS; then per FLG: FEXTRA (u16 length + bytes), FNAME and FCOMMENT (NUL
//! terminated), FHCRC (2 bytes); the compressed blocks; CRC32 and ISIZE (the length
//! mod 2^32), little-endian.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress};

/// Whether `bytes` start like a gzip member.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Why a gzip stream could not be read: the byte offset of the member (in the
/// compressed input) and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct Damaged {
    pub offset: usize,
    pub reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The header or the trailer is cut short.
    Truncated,
    /// Not 1f 8b 08, or reserved flag bits set (RFC 1952 2.3.1.2: must be refused).
    BadHeader,
    /// The compressed data is invalid or ends before its last block.
    BadData,
    /// The CRC-32 of the inflated data differs from the trailer's.
    Checksum,
    /// The inflated length differs from the trailer's ISIZE.
    Length,
    /// No memory for the inflated data.
    OutOfMemory,
    /// Something other than zero padding or another member follows a member.
    TrailingGarbage,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Truncated => "truncated gzip header or trailer",
            Self::BadHeader => "bad gzip header (not deflate, or reserved flags set)",
            Self::BadData => "corrupt or truncated compressed data",
            Self::Checksum => "CRC-32 mismatch",
            Self::Length => "length mismatch",
            Self::OutOfMemory => "out of memory for the uncompressed archive",
            Self::TrailingGarbage => "data after the gzip stream that is not another member",
        }
    }
}

const FLAG_HEADER_CRC: u8 = 2;
const FLAG_EXTRA: u8 = 4;
const FLAG_NAME: u8 = 8;
const FLAG_COMMENT: u8 = 16;
const FLAGS_RESERVED: u8 = 0xe0;

/// The CRC-32 of RFC 1952 8 (polynomial 0xedb88320, reflected), one table lookup per
/// byte.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut index = 0;
    while index < 256 {
        let mut value = index as u32;
        let mut bit = 0;
        while bit < 8 {
            value = if value & 1 != 0 {
                0xedb8_8320 ^ (value >> 1)
            } else {
                value >> 1
            };
            bit += 1;
        }
        table[index] = value;
        index += 1;
    }
    table
};

pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        CRC_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// The length of the member header at the start of `member`.
fn header_length(member: &[u8]) -> Result<usize, Reason> {
    let fixed = member.get(..10).ok_or(Reason::Truncated)?;
    let flags = fixed[3];
    if fixed[..3] != [0x1f, 0x8b, 8] || flags & FLAGS_RESERVED != 0 {
        return Err(Reason::BadHeader);
    }
    let mut length = 10;
    if flags & FLAG_EXTRA != 0 {
        let size = member.get(length..length + 2).ok_or(Reason::Truncated)?;
        length += 2 + usize::from(u16::from_le_bytes([size[0], size[1]]));
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            let text = member.get(length..).ok_or(Reason::Truncated)?;
            let end = text
                .iter()
                .position(|&byte| byte == 0)
                .ok_or(Reason::Truncated)?;
            length += end + 1;
        }
    }
    if flags & FLAG_HEADER_CRC != 0 {
        length += 2;
    }
    if length > member.len() {
        return Err(Reason::Truncated);
    }
    Ok(length)
}

/// Grows `output` (zero-filled) to at least `length` bytes, doubling; false when out
/// of memory.
fn grow(output: &mut Vec<u8>, length: usize) -> bool {
    let target = length.max(output.len().saturating_mul(2)).max(64 * 1024);
    output.try_reserve_exact(target - output.len()).is_ok() && {
        output.resize(target, 0);
        true
    }
}

/// Inflates the DEFLATE stream at the start of `input`, appending to `output`;
/// returns how many input bytes it took.
fn inflate(input: &[u8], output: &mut Vec<u8>) -> Result<usize, Reason> {
    let mut decompressor = Box::<DecompressorOxide>::default();
    let mut consumed = 0;
    let mut written = output.len();
    if !grow(
        output,
        written.saturating_add(input.len().saturating_mul(3)),
    ) {
        return Err(Reason::OutOfMemory);
    }
    loop {
        let (status, taken, produced) = decompress(
            &mut decompressor,
            &input[consumed..],
            output,
            written,
            // The whole output is one buffer: back references read it directly. Without
            // TINFL_FLAG_HAS_MORE_INPUT, running out of input is an error.
            TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        consumed += taken;
        written += produced;
        match status {
            TINFLStatus::Done => {
                output.truncate(written);
                return Ok(consumed);
            }
            TINFLStatus::HasMoreOutput => {
                if !grow(output, written.saturating_add(1)) {
                    return Err(Reason::OutOfMemory);
                }
            }
            _ => return Err(Reason::BadData),
        }
    }
}

/// Inflates every member of the gzip stream `input` into one buffer (concatenated
/// members are one stream, RFC 1952 2.2), with zero padding allowed between and after
/// them.
pub fn decompress_all(input: &[u8]) -> Result<Vec<u8>, Damaged> {
    let mut output = Vec::new();
    let mut offset = 0;
    loop {
        while input.get(offset) == Some(&0) {
            offset += 1;
        }
        if offset == input.len() {
            return Ok(output);
        }
        let member = &input[offset..];
        let damaged = |reason| Damaged { offset, reason };
        if !is_gzip(member) {
            return Err(damaged(Reason::TrailingGarbage));
        }
        let header = header_length(member).map_err(damaged)?;
        let start = output.len();
        let compressed = inflate(&member[header..], &mut output).map_err(damaged)?;
        let trailer_start = header + compressed;
        let trailer = member
            .get(trailer_start..trailer_start + 8)
            .ok_or(damaged(Reason::Truncated))?;
        let expected_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let expected_length = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if crc32(&output[start..]) != expected_crc {
            return Err(damaged(Reason::Checksum));
        }
        // ISIZE is the length modulo 2^32: the truncation is the format's.
        if (output.len() - start) as u32 != expected_length {
            return Err(damaged(Reason::Length));
        }
        offset += trailer_start + 8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzip member around `data` with the given flags' fields.
    fn member(data: &[u8], flags: u8) -> Vec<u8> {
        let mut bytes = vec![0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3];
        if flags & FLAG_EXTRA != 0 {
            bytes.extend_from_slice(&[3, 0, b'x', b'y', b'z']);
        }
        if flags & FLAG_NAME != 0 {
            bytes.extend_from_slice(b"tree.cpio\0");
        }
        if flags & FLAG_COMMENT != 0 {
            bytes.extend_from_slice(b"a comment\0");
        }
        if flags & FLAG_HEADER_CRC != 0 {
            bytes.extend_from_slice(&[0xaa, 0xbb]);
        }
        bytes.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        bytes.extend_from_slice(&crc32(data).to_le_bytes());
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
        bytes
    }

    fn sample(length: usize) -> Vec<u8> {
        (0..length).map(|index| (index * 7 % 251) as u8).collect()
    }

    #[test]
    fn crc32_is_the_gzip_one() {
        // The check value of CRC-32/ISO-HDLC (the gzip CRC) for "123456789".
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn members_with_every_optional_field_inflate() {
        let data = sample(300_000);
        for flags in [
            0,
            FLAG_NAME,
            FLAG_EXTRA | FLAG_NAME | FLAG_COMMENT | FLAG_HEADER_CRC,
        ] {
            assert_eq!(decompress_all(&member(&data, flags)), Ok(data.clone()));
        }
        // Two members and padding: one stream.
        let mut stream = member(b"first ", FLAG_NAME);
        stream.extend(member(b"second", 0));
        stream.extend([0; 16]);
        assert_eq!(decompress_all(&stream), Ok(b"first second".to_vec()));
        assert_eq!(decompress_all(&member(b"", 0)), Ok(Vec::new()));
    }

    #[test]
    fn damage_is_named() {
        let data = sample(5000);
        let good = member(&data, FLAG_NAME);
        let damaged = |change: &dyn Fn(&mut Vec<u8>)| {
            let mut copy = good.clone();
            change(&mut copy);
            decompress_all(&copy)
                .map(|_| ())
                .map_err(|error| error.reason)
        };
        assert_eq!(damaged(&|bytes| bytes[2] = 7), Err(Reason::BadHeader));
        assert_eq!(damaged(&|bytes| bytes[3] |= 0x80), Err(Reason::BadHeader));
        assert_eq!(damaged(&|bytes| bytes.truncate(8)), Err(Reason::Truncated));
        // The name never ends.
        assert_eq!(damaged(&|bytes| bytes.truncate(15)), Err(Reason::Truncated));
        assert_eq!(
            damaged(&|bytes| bytes.truncate(bytes.len() - 30)),
            Err(Reason::BadData)
        );
        assert_eq!(
            damaged(&|bytes| bytes.truncate(bytes.len() - 3)),
            Err(Reason::Truncated)
        );
        let crc_at = good.len() - 8;
        assert_eq!(damaged(&|bytes| bytes[crc_at] ^= 1), Err(Reason::Checksum));
        assert_eq!(
            damaged(&|bytes| bytes[crc_at + 4] ^= 1),
            Err(Reason::Length)
        );
        assert_eq!(
            damaged(&|bytes| bytes.extend_from_slice(b"070701")),
            Err(Reason::TrailingGarbage)
        );
        let mut two = good.clone();
        let second = two.len();
        two.extend(member(b"x", 0));
        two[second + 2] = 9;
        assert_eq!(
            decompress_all(&two),
            Err(Damaged {
                offset: second,
                reason: Reason::BadHeader
            })
        );
    }

    /// Fuzz-style: random byte changes and cuts (xorshift, fixed seed) never panic, and
    /// whatever inflates passed the CRC.
    #[test]
    fn random_damage_never_panics() {
        let data = sample(20_000);
        let good = member(&data, FLAG_NAME | FLAG_COMMENT);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut copy = good.clone();
            for _ in 0..1 + random() % 3 {
                let index = (random() as usize) % copy.len();
                copy[index] = random() as u8;
            }
            if random() % 4 == 0 {
                copy.truncate((random() as usize) % copy.len());
            }
            if let Ok(output) = decompress_all(&copy) {
                // Only all-zero input (padding) inflates to nothing.
                assert!(output == data || copy.iter().all(|&byte| byte == 0));
            }
        }
    }
}
