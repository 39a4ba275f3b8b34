//! The kernel's view of the command line: only the runtime options (`unik.*` words
//! before a lone `--`). The libc turns the whole line into argv and environ with the
//! same word rules (runtime/README.md, "Program start and exit").

/// Splits a command line into raw words: separated by blanks, where `"…"` and `'…'`
/// group and `\` escapes the next byte (outside single quotes). The words are returned
/// as written (quotes and backslashes kept): a word the kernel looks for (`--`,
/// `unik.verbose`) has none, so comparing raw words is exact.
struct RawWords<'line> {
    rest: &'line [u8],
}

impl<'line> Iterator for RawWords<'line> {
    type Item = &'line [u8];

    fn next(&mut self) -> Option<&'line [u8]> {
        let start = self.rest.iter().position(|byte| !is_blank(*byte))?;
        let line = &self.rest[start..];
        let mut index = 0;
        let mut quote: Option<u8> = None;
        while index < line.len() {
            let byte = line[index];
            match quote {
                None if is_blank(byte) => break,
                None if byte == b'"' || byte == b'\'' => quote = Some(byte),
                Some(b'\'') if byte == b'\'' => quote = None,
                Some(b'"') if byte == b'"' => quote = None,
                // A backslash escapes the next byte, except inside single quotes.
                None | Some(b'"') if byte == b'\\' => index += 1,
                _ => {}
            }
            index += 1;
        }
        let end = index.min(line.len());
        self.rest = &line[end..];
        Some(&line[..end])
    }
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// The parameters: the words before a lone `--`, or none when there is no `--`.
fn parameters(command_line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let has_separator = RawWords { rest: command_line }.any(|word| word == b"--");
    RawWords { rest: command_line }
        .take_while(|word| *word != b"--")
        .filter(move |_| has_separator)
}

/// Whether `unik.verbose` is among the parameters: print the boot log.
pub fn is_verbose(command_line: &[u8]) -> bool {
    has_parameter(command_line, b"unik.verbose")
}

/// Whether the boot parameter `name` (a word before `--`) is on the command line.
pub fn has_parameter(command_line: &[u8], name: &[u8]) -> bool {
    parameters(command_line).any(|word| word == name)
}

/// Whether `unik.start-mark` is among the parameters: write [`START_MARK`] on the
/// console (stdout and stderr) just before the program starts.
pub fn wants_start_mark(command_line: &[u8]) -> bool {
    parameters(command_line).any(|word| word == b"unik.start-mark")
}

/// What `unik.start-mark` writes on stdout and stderr when the program starts: an
/// escape sequence terminals ignore (an OSC string). `unik run` boots through firmware
/// (GRUB, UEFI) that writes its own messages on the same serial ports; it drops
/// everything up to this mark, so that the streams are the program's alone.
pub const START_MARK: &[u8] = b"\x1b]unik;start\x07";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_only_before_separator() {
        assert!(is_verbose(b"unik.verbose -- app"));
        assert!(is_verbose(b"A=1  unik.verbose\t-- app x"));
        assert!(!is_verbose(b"-- app unik.verbose"));
        assert!(!is_verbose(b"unik.verbose app"));
        assert!(!is_verbose(b""));
    }

    #[test]
    fn start_mark_is_a_parameter() {
        assert!(wants_start_mark(b"unik.verbose unik.start-mark -- app"));
        assert!(!wants_start_mark(b"-- app unik.start-mark"));
        assert!(!wants_start_mark(b"unik.start-mark"));
    }

    #[test]
    fn quoted_separator_is_not_a_separator() {
        assert!(!is_verbose(b"X=\"a -- b\" unik.verbose"));
        assert!(is_verbose(b"X='a -- b' unik.verbose -- app"));
        assert!(!is_verbose(b"X=a\\ -- unik.verbose"));
    }
}
