//! The kernel command line → words → `argv` and the environment (runtime/README.md,
//! "Program start and exit", step 2).
//!
//! Quoting, as a Linux shell-like splitter: words are separated by blanks (space, tab,
//! CR, LF); `'…'` groups literally; `"…"` groups with `\"` and `\\` as escapes (any other
//! backslash stays); outside quotes `\` takes the next byte literally. An unterminated
//! quote runs to the end. Quotes may sit inside a word (`a"b c"d` is `ab cd`), and `""`
//! is an empty word. The first bare `--` separates parameters from `argv`; a quoted
//! `"--"` is an ordinary word (that is how `unik run` passes a literal `--` argument).

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// What [`split_words`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// How many words were written.
    pub words: usize,
    /// The index of the first `--` written without quotes or escapes.
    pub separator: Option<usize>,
}

/// Splits `command_line` into words, writing each unquoted word followed by a NUL into
/// `out`, one after another.
///
/// `out` needs `command_line.len() + 1` bytes: a word is never longer than its source,
/// and every word but the last is followed by at least one blank in the source to pay
/// for its NUL (an empty quoted word `""` pays with its two quotes). Returns None when
/// `out` is smaller than that.
pub fn split_words(command_line: &[u8], out: &mut [u8]) -> Option<Split> {
    if out.len() < command_line.len() + 1 {
        return None;
    }
    let mut separator = None;
    let mut words = 0;
    let mut written = 0;
    let mut index = 0;
    let length = command_line.len();
    while index < length {
        while index < length && is_blank(command_line[index]) {
            index += 1;
        }
        if index == length {
            break;
        }
        // One word: until an unquoted blank.
        let word_start = written;
        let mut bare = true;
        while index < length && !is_blank(command_line[index]) {
            match command_line[index] {
                b'\'' => {
                    bare = false;
                    index += 1;
                    while index < length && command_line[index] != b'\'' {
                        out[written] = command_line[index];
                        written += 1;
                        index += 1;
                    }
                    index += 1; // the closing quote (or past the end)
                }
                b'"' => {
                    bare = false;
                    index += 1;
                    while index < length && command_line[index] != b'"' {
                        let escaped = command_line[index] == b'\\'
                            && index + 1 < length
                            && matches!(command_line[index + 1], b'"' | b'\\');
                        if escaped {
                            index += 1;
                        }
                        out[written] = command_line[index];
                        written += 1;
                        index += 1;
                    }
                    index += 1;
                }
                b'\\' if index + 1 < length => {
                    bare = false;
                    out[written] = command_line[index + 1];
                    written += 1;
                    index += 2;
                }
                byte => {
                    out[written] = byte;
                    written += 1;
                    index += 1;
                }
            }
        }
        if bare && separator.is_none() && out[word_start..written] == *b"--" {
            separator = Some(words);
        }
        out[written] = 0;
        written += 1;
        words += 1;
    }
    Some(Split { words, separator })
}

/// The words [`split_words`] wrote, in order (without their NULs).
pub fn words(split: &[u8], count: usize) -> impl Iterator<Item = &[u8]> {
    split.split(|&byte| byte == 0).take(count)
}

/// What a word before the `--` separator means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parameter {
    /// `KEY=VALUE`: goes to the environment.
    Environment,
    /// `unik.*`: a runtime option (read by the kernel, e.g. `unik.verbose`).
    RuntimeOption,
    /// Anything else (the kernel's own parameters): ignored.
    Ignored,
}

pub fn classify_parameter(word: &[u8]) -> Parameter {
    if word.starts_with(b"unik.") {
        Parameter::RuntimeOption
    } else if word
        .iter()
        .position(|&byte| byte == b'=')
        .is_some_and(|equals| equals > 0)
    {
        Parameter::Environment
    } else {
        Parameter::Ignored
    }
}

/// Whether a word is a device description a VMM appended to the command line
/// (`virtio_mmio.device=SIZE@ADDRESS:LINE`: QEMU microvm and Firecracker add one per
/// virtio-mmio device, after the program's arguments). The kernel reads them; they are
/// neither environment nor arguments.
pub fn is_device_description(word: &[u8]) -> bool {
    word.starts_with(b"virtio_mmio.device=")
}

/// The program name used when the command line gives no arguments.
pub const DEFAULT_PROGRAM_NAME: &[u8] = b"app";

/// The split of a command line's words: which are parameters and which are `argv`
/// (as indices into the word list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Words `0..parameters_end` are parameters.
    pub parameters_end: usize,
    /// Words `arguments_start..` are `argv[0..]`.
    pub arguments_start: usize,
}

/// Without a separator every word is an argument.
pub fn layout(split: Split) -> Layout {
    match split.separator {
        Some(separator) => Layout {
            parameters_end: separator,
            arguments_start: separator + 1,
        },
        None => Layout {
            parameters_end: 0,
            arguments_start: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(command_line: &str) -> Vec<String> {
        let mut out = vec![0xaau8; command_line.len() + 1];
        let split = split_words(command_line.as_bytes(), &mut out).unwrap();
        words(&out, split.words)
            .map(|word| String::from_utf8(word.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn blanks_separate_words() {
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("   \t "), Vec::<String>::new());
        assert_eq!(split("t a b"), ["t", "a", "b"]);
        assert_eq!(split("  lead\ttrail  \n"), ["lead", "trail"]);
    }

    #[test]
    fn quotes_group() {
        assert_eq!(split("'a b' \"c d\""), ["a b", "c d"]);
        assert_eq!(split("x'a b'y\"c\"z"), ["xa bycz"]);
        assert_eq!(split("'' \"\" end"), ["", "", "end"]);
        assert_eq!(split("'it''s'"), ["its"]);
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(split(r"'a\b' '\''"), [r"a\b", r"\"]);
        assert_eq!(split(r"'a\b'"), [r"a\b"]);
        assert_eq!(split("'\"'"), ["\""]);
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(split(r#""a\"b""#), [r#"a"b"#]);
        assert_eq!(split(r#""a\\b""#), [r"a\b"]);
        assert_eq!(split(r#""a\nb""#), [r"a\nb"]);
        assert_eq!(split(r#""it's""#), ["it's"]);
    }

    #[test]
    fn backslash_outside_quotes() {
        assert_eq!(split(r"a\ b c"), ["a b", "c"]);
        assert_eq!(split(r"\'x\'"), ["'x'"]);
        assert_eq!(split(r"\\"), [r"\"]);
        assert_eq!(split(r"end\"), [r"end\"]);
    }

    #[test]
    fn unterminated_quotes_run_to_the_end() {
        assert_eq!(split("'a b"), ["a b"]);
        assert_eq!(split("x \"c d"), ["x", "c d"]);
        assert_eq!(split(r#""a\"#), [r"a\"]);
    }

    #[test]
    fn output_never_exceeds_the_bound() {
        for command_line in ["\"\"", "'' ''", "a", "\"\" \"\" \"\"", "a\\", "\\ \\ "] {
            let mut out = vec![0u8; command_line.len() + 1];
            assert!(split_words(command_line.as_bytes(), &mut out).is_some());
        }
        assert_eq!(split_words(b"abc", &mut [0; 3]), None);
    }

    fn layout_of(command_line: &str) -> Layout {
        let mut out = vec![0u8; command_line.len() + 1];
        layout(split_words(command_line.as_bytes(), &mut out).unwrap())
    }

    #[test]
    fn separator_splits_parameters_from_arguments() {
        let expected = Layout {
            parameters_end: 3,
            arguments_start: 4,
        };
        assert_eq!(
            layout_of("PATH=/bin unik.verbose console=ttyS0 -- prog -- x"),
            expected
        );
        assert_eq!(
            layout_of("t a"),
            Layout {
                parameters_end: 0,
                arguments_start: 0
            }
        );
        assert_eq!(
            layout_of("-- a"),
            Layout {
                parameters_end: 0,
                arguments_start: 1
            }
        );
        // Quoted or escaped, `--` is an argument, not the separator.
        assert_eq!(
            layout_of("\"--\" a -- b"),
            Layout {
                parameters_end: 2,
                arguments_start: 3
            }
        );
        assert_eq!(
            layout_of("'--' \\-- x"),
            Layout {
                parameters_end: 0,
                arguments_start: 0
            }
        );
        assert_eq!(classify_parameter(b"PATH=/bin"), Parameter::Environment);
        assert_eq!(
            classify_parameter(b"unik.verbose"),
            Parameter::RuntimeOption
        );
        assert_eq!(classify_parameter(b"console=ttyS0"), Parameter::Environment);
        assert_eq!(classify_parameter(b"quiet"), Parameter::Ignored);
        assert_eq!(classify_parameter(b"=x"), Parameter::Ignored);
        assert_eq!(classify_parameter(b"unik.x=1"), Parameter::RuntimeOption);
    }

    /// `unik run`'s quoting (driver/src/cmdline.rs): plain words as they are, others in
    /// double quotes with `"` and `\` escaped.
    fn quote_like_the_driver(word: &[u8]) -> Vec<u8> {
        let plain = !word.is_empty()
            && word
                .iter()
                .all(|&byte| !is_blank(byte) && !matches!(byte, b'"' | b'\'' | b'\\'))
            && word != b"--";
        if plain {
            return word.to_vec();
        }
        let mut quoted = vec![b'"'];
        for &byte in word {
            if matches!(byte, b'"' | b'\\') {
                quoted.push(b'\\');
            }
            quoted.push(byte);
        }
        quoted.push(b'"');
        quoted
    }

    /// A small deterministic generator (xorshift), so the property tests need no crate.
    struct Bytes(u64);

    impl Bytes {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A byte biased towards the characters the splitter treats specially.
        fn byte(&mut self) -> u8 {
            const SPECIAL: &[u8] = b" \t\n'\"\\-=ab";
            let value = self.next();
            if value.is_multiple_of(3) {
                (value >> 8) as u8
            } else {
                SPECIAL[(value >> 8) as usize % SPECIAL.len()]
            }
        }
    }

    #[test]
    fn arbitrary_input_never_overflows_the_bound() {
        let mut random = Bytes(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let length = (random.next() % 24) as usize;
            let line: Vec<u8> = (0..length).map(|_| random.byte()).collect();
            let mut out = vec![0u8; line.len() + 1];
            let split = split_words(&line, &mut out).expect("the bound is enough");
            assert!(
                split
                    .separator
                    .is_none_or(|separator| separator < split.words)
            );
        }
    }

    #[test]
    fn driver_quoting_round_trips() {
        let mut random = Bytes(0x1234_5678_9abc_def1);
        for _ in 0..5_000 {
            let count = (random.next() % 5) as usize;
            let words_in: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    (0..random.next() % 6)
                        .map(|_| random.byte())
                        .filter(|&byte| byte != 0)
                        .collect()
                })
                .collect();
            let mut line = b"KEY=v --".to_vec();
            for word in &words_in {
                line.push(b' ');
                line.extend(quote_like_the_driver(word));
            }
            let mut out = vec![0u8; line.len() + 1];
            let split = split_words(&line, &mut out).unwrap();
            assert_eq!(
                split.separator,
                Some(1),
                "{}",
                String::from_utf8_lossy(&line)
            );
            let words_out: Vec<&[u8]> = words(&out, split.words).skip(2).collect();
            let expected: Vec<&[u8]> = words_in.iter().map(Vec::as_slice).collect();
            assert_eq!(words_out, expected, "{}", String::from_utf8_lossy(&line));
        }
    }
}
