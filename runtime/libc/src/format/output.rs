//! Writing to the sink: byte counting, runs of one byte, and field padding.

use super::Sink;
use super::specification::Specification;

/// The sink of one `format` call, counting what went through it (for `%n` and the
/// return value).
pub(super) struct CountingSink<'a> {
    sink: &'a mut dyn Sink,
    count: usize,
}

impl<'a> CountingSink<'a> {
    pub(super) fn new(sink: &'a mut dyn Sink) -> Self {
        CountingSink { sink, count: 0 }
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }

    pub(super) fn write(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.sink.write(bytes);
            self.count = self.count.saturating_add(bytes.len());
        }
    }

    /// Writes `byte` `count` times, in chunks from a small stack buffer (widths and
    /// precisions can be as large as `INT_MAX`).
    pub(super) fn write_repeated(&mut self, byte: u8, count: usize) {
        let chunk = [byte; 64];
        let mut remaining = count;
        while remaining > 0 {
            let length = remaining.min(chunk.len());
            self.write(&chunk[..length]);
            remaining -= length;
        }
    }
}

/// A part of a conversion's output: bytes, or a run of one byte (leading or trailing
/// zeros that are never materialised).
#[derive(Clone, Copy)]
pub(super) enum Piece<'a> {
    Bytes(&'a [u8]),
    Repeat(u8, usize),
}

impl Piece<'_> {
    fn length(self) -> usize {
        match self {
            Piece::Bytes(bytes) => bytes.len(),
            Piece::Repeat(_, count) => count,
        }
    }
}

fn total_length(pieces: &[Piece<'_>]) -> usize {
    pieces
        .iter()
        .fold(0, |total, piece| total.saturating_add(piece.length()))
}

fn write_pieces(out: &mut CountingSink<'_>, pieces: &[Piece<'_>]) {
    for piece in pieces {
        match *piece {
            Piece::Bytes(bytes) => out.write(bytes),
            Piece::Repeat(byte, count) => out.write_repeated(byte, count),
        }
    }
}

/// Writes `prefix` then `body` in a field of the specification's width (C99 7.19.6.1p2:
/// padded on the left with spaces, on the right with spaces for the `-` flag). With
/// `zero_fill` (the `0` flag where the conversion honours it) the padding is zeros
/// between the prefix (sign, `0x`) and the body instead.
pub(super) fn write_field(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    zero_fill: bool,
    prefix: &[Piece<'_>],
    body: &[Piece<'_>],
) {
    let length = total_length(prefix).saturating_add(total_length(body));
    let padding = specification.width.saturating_sub(length);
    if specification.left_justify {
        write_pieces(out, prefix);
        write_pieces(out, body);
        out.write_repeated(b' ', padding);
    } else if zero_fill {
        write_pieces(out, prefix);
        out.write_repeated(b'0', padding);
        write_pieces(out, body);
    } else {
        out.write_repeated(b' ', padding);
        write_pieces(out, prefix);
        write_pieces(out, body);
    }
}

/// Writes text in a space-padded field (`%c`, `%s`, `(nil)`): glibc ignores the `0`
/// flag for these.
pub(super) fn write_padded(
    out: &mut CountingSink<'_>,
    specification: &Specification,
    pieces: &[Piece<'_>],
) {
    write_field(out, specification, false, &[], pieces);
}
