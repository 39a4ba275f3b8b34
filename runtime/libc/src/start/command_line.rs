//! The kernel command line → words → `argv` and the environment (runtime/README.md,
//! "Program start and exit", step 2).
//!
//! Quoting, as a Linux shell-like splitter: words are separated by blanks (space, tab,
//! CR, LF); `'…'` groups literally; `"…"` groups with `\"` and `\\` as escapes (any other
//! backslash stays); outside quotes `\` takes the next byte literally. An unterminated
//! quote runs to the end. Quotes may sit inside a word (`a"b c"d` is `ab cd`), and `""`
//! is an empty word.

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Splits `command_line` into words, writing each unquoted word followed by a NUL into
/// `out`, one after another. Returns the number of words.
///
/// `out` needs `command_line.len() + 1` bytes: a word is never longer than its source,
/// and every word but the last is followed by at least one blank in the source to pay
/// for its NUL (an empty quoted word `""` pays with its two quotes). Returns None when
/// `out` is smaller than that.
pub fn split_words(command_line: &[u8], out: &mut [u8]) -> Option<usize> {
    if out.len() < command_line.len() + 1 {
        return None;
    }
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
        while index < length && !is_blank(command_line[index]) {
            match command_line[index] {
                b'\'' => {
                    index += 1;
                    while index < length && command_line[index] != b'\'' {
                        out[written] = command_line[index];
                        written += 1;
                        index += 1;
                    }
                    index += 1; // the closing quote (or past the end)
                }
                b'"' => {
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
        out[written] = 0;
        written += 1;
        words += 1;
    }
    Some(words)
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

/// The index of the first lone `--`: words before it are parameters, after it `argv`.
/// None means every word is an argument.
pub fn separator_index<'a>(words: impl Iterator<Item = &'a [u8]>) -> Option<usize> {
    words.into_iter().position(|word| word == b"--")
}

/// The program name used when the command line gives no arguments.
pub const DEFAULT_PROGRAM_NAME: &[u8] = b"app";

/// The split of a command line's words: which become environment entries and which
/// become `argv` (as indices into the word list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Words `0..parameters_end` are parameters.
    pub parameters_end: usize,
    /// Words `arguments_start..` are `argv[0..]`.
    pub arguments_start: usize,
}

pub fn layout<'a>(all_words: impl Iterator<Item = &'a [u8]>) -> Layout {
    match separator_index(all_words) {
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
        let count = split_words(command_line.as_bytes(), &mut out).unwrap();
        words(&out, count)
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

    #[test]
    fn separator_splits_parameters_from_arguments() {
        let all = [
            "PATH=/bin",
            "unik.verbose",
            "console=ttyS0",
            "--",
            "prog",
            "--",
            "x",
        ];
        let all: Vec<&[u8]> = all.iter().map(|word| word.as_bytes()).collect();
        let layout = layout(all.iter().copied());
        assert_eq!(
            layout,
            Layout {
                parameters_end: 3,
                arguments_start: 4
            }
        );
        assert_eq!(classify_parameter(all[0]), Parameter::Environment);
        assert_eq!(classify_parameter(all[1]), Parameter::RuntimeOption);
        assert_eq!(classify_parameter(all[2]), Parameter::Environment);
        assert_eq!(classify_parameter(b"quiet"), Parameter::Ignored);
        assert_eq!(classify_parameter(b"=x"), Parameter::Ignored);
        assert_eq!(classify_parameter(b"unik.x=1"), Parameter::RuntimeOption);
        let none: Vec<&[u8]> = vec![b"t", b"a"];
        assert_eq!(
            layout_of(&none),
            Layout {
                parameters_end: 0,
                arguments_start: 0
            }
        );
    }

    fn layout_of(words: &[&[u8]]) -> Layout {
        layout(words.iter().copied())
    }
}
