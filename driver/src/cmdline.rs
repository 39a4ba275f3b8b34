//! The kernel command line `unik run` passes to the guest, and the splitter that
//! mirrors the runtime's parser (runtime/README.md, "Program start and exit").
//!
//! Rules: words are separated by blanks; `"…"` and `'…'` group; single quotes are
//! literal; inside double quotes `\"` and `\\` escape; outside quotes `\` escapes
//! the next byte. Words before a lone `--` are parameters (`KEY=VALUE` for the
//! environment, `unik.*` runtime options); words after it are `argv`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::error::{Error, Result};

/// Bytes that separate words.
fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Quotes one word so the runtime's splitter yields exactly it. Plain words stay as
/// they are (the command line is readable in `--verbose` output); anything else is
/// double-quoted with `"` and `\` escaped.
pub fn quote_word(word: &[u8]) -> Result<Vec<u8>> {
    if word.contains(&0) {
        return Err(Error::Usage(format!(
            "the argument `{}` contains a NUL byte, which a kernel command line cannot carry",
            String::from_utf8_lossy(word).replace('\0', "\\0")
        )));
    }
    let plain = !word.is_empty()
        && word
            .iter()
            .all(|&byte| !is_blank(byte) && !matches!(byte, b'"' | b'\'' | b'\\'))
        && word != b"--";
    if plain {
        return Ok(word.to_vec());
    }
    let mut quoted = Vec::with_capacity(word.len() + 2);
    quoted.push(b'"');
    for &byte in word {
        if matches!(byte, b'"' | b'\\') {
            quoted.push(b'\\');
        }
        quoted.push(byte);
    }
    quoted.push(b'"');
    Ok(quoted)
}

/// `PARAMETERS… -- ARGV…`, every word quoted as needed. A parameter or argument
/// that is literally `--` is quoted, so it cannot be taken for the separator.
pub fn build<P, A>(parameters: &[P], arguments: &[A]) -> Result<Vec<u8>>
where
    P: AsRef<OsStr>,
    A: AsRef<OsStr>,
{
    let mut line = Vec::new();
    for parameter in parameters {
        line.extend(quote_word(parameter.as_ref().as_bytes())?);
        line.push(b' ');
    }
    line.extend_from_slice(b"--");
    for argument in arguments {
        line.push(b' ');
        line.extend(quote_word(argument.as_ref().as_bytes())?);
    }
    Ok(line)
}

/// Checks one `--env` value: `KEY=VALUE` with a non-empty key that holds no `=`.
pub fn check_environment_entry(entry: &OsStr) -> Result<()> {
    let bytes = entry.as_bytes();
    match bytes.iter().position(|&byte| byte == b'=') {
        Some(position) if position > 0 => Ok(()),
        _ => Err(Error::Usage(format!(
            "--env {}: expected KEY=VALUE with a non-empty KEY",
            entry.to_string_lossy()
        ))),
    }
}

/// One word of a split line, and whether it was quoted (a quoted `--` is not the
/// separator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub bytes: Vec<u8>,
    pub quoted: bool,
}

/// Splits a command line by the runtime's rules.
pub fn split(line: &[u8]) -> Vec<Word> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Between,
        Plain,
        Single,
        Double,
    }
    let mut words = Vec::new();
    let mut current = Vec::new();
    let mut quoted = false;
    let mut state = State::Between;
    let mut index = 0;
    while index < line.len() {
        let byte = line[index];
        index += 1;
        match state {
            State::Between | State::Plain => match byte {
                _ if is_blank(byte) => {
                    if state == State::Plain {
                        words.push(Word {
                            bytes: std::mem::take(&mut current),
                            quoted,
                        });
                        quoted = false;
                    }
                    state = State::Between;
                }
                b'\\' => {
                    if let Some(&next) = line.get(index) {
                        current.push(next);
                        index += 1;
                    }
                    state = State::Plain;
                }
                b'\'' => {
                    quoted = true;
                    state = State::Single;
                }
                b'"' => {
                    quoted = true;
                    state = State::Double;
                }
                _ => {
                    current.push(byte);
                    state = State::Plain;
                }
            },
            State::Single => match byte {
                b'\'' => state = State::Plain,
                _ => current.push(byte),
            },
            State::Double => match byte {
                b'"' => state = State::Plain,
                b'\\' if matches!(line.get(index), Some(b'"' | b'\\')) => {
                    current.push(line[index]);
                    index += 1;
                }
                _ => current.push(byte),
            },
        }
    }
    if state != State::Between {
        words.push(Word {
            bytes: current,
            quoted,
        });
    }
    words
}

/// Splits a line into (parameters, argv) the way the runtime does.
pub fn parse(line: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let words = split(line);
    match words
        .iter()
        .position(|word| !word.quoted && word.bytes == b"--")
    {
        Some(separator) => {
            let parameters = words[..separator]
                .iter()
                .map(|word| word.bytes.clone())
                .collect();
            let arguments = words[separator + 1..]
                .iter()
                .map(|word| word.bytes.clone())
                .collect();
            (parameters, arguments)
        }
        None => (
            Vec::new(),
            words.into_iter().map(|word| word.bytes).collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(parameters: &[&str], arguments: &[&str]) {
        let line = build(parameters, arguments).unwrap();
        let (got_parameters, got_arguments) = parse(&line);
        let expected_parameters: Vec<Vec<u8>> = parameters
            .iter()
            .map(|word| word.as_bytes().to_vec())
            .collect();
        let expected_arguments: Vec<Vec<u8>> = arguments
            .iter()
            .map(|word| word.as_bytes().to_vec())
            .collect();
        assert_eq!(
            got_parameters,
            expected_parameters,
            "{}",
            String::from_utf8_lossy(&line)
        );
        assert_eq!(
            got_arguments,
            expected_arguments,
            "{}",
            String::from_utf8_lossy(&line)
        );
    }

    #[test]
    fn plain_words_stay_readable() {
        let line = build(&["unik.verbose", "HOME=/"], &["hello.img", "a", "-x"]).unwrap();
        assert_eq!(line, b"unik.verbose HOME=/ -- hello.img a -x");
    }

    #[test]
    fn awkward_words_are_quoted() {
        assert_eq!(quote_word(b"two words").unwrap(), b"\"two words\"");
        assert_eq!(quote_word(b"").unwrap(), b"\"\"");
        assert_eq!(quote_word(br#"say "hi"\n"#).unwrap(), br#""say \"hi\"\\n""#);
        assert_eq!(quote_word(b"it's").unwrap(), b"\"it's\"");
        assert_eq!(quote_word(b"--").unwrap(), b"\"--\"");
    }

    #[test]
    fn round_trips() {
        round_trip(&[], &["app"]);
        round_trip(&["unik.verbose"], &["app", "one two", "", "  ", "\t"]);
        round_trip(
            &["GREETING=hello world", "Q=\"'"],
            &["app", "back\\slash", "\\\"", "'single'"],
        );
        round_trip(&[], &["app", "--", "-- x", "ünïcödé", "$HOME", "a=b"]);
        round_trip(
            &["A=--"],
            &["app", "line\nbreak", "tab\there", "trailing\\"],
        );
    }

    #[test]
    fn the_splitter_follows_the_runtime_rules() {
        let words = |line: &str| -> Vec<String> {
            split(line.as_bytes())
                .into_iter()
                .map(|word| String::from_utf8(word.bytes).unwrap())
                .collect()
        };
        assert_eq!(words("  a  b\tc "), ["a", "b", "c"]);
        assert_eq!(
            words(r#"'a \" b' "c \d" e\ f"#),
            [r#"a \" b"#, r"c \d", "e f"]
        );
        assert_eq!(words(r#"x"y z"'w'"#), ["xy zw"]);
        let (parameters, arguments) = parse(b"a b");
        assert!(parameters.is_empty());
        assert_eq!(arguments, [b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn nul_bytes_and_bad_environment_entries_are_refused() {
        assert_eq!(
            build::<&str, &str>(&[], &["a\0b"]).unwrap_err().to_string(),
            "the argument `a\\0b` contains a NUL byte, which a kernel command line cannot carry"
        );
        assert!(check_environment_entry(OsStr::new("K=V")).is_ok());
        assert!(check_environment_entry(OsStr::new("K=")).is_ok());
        assert_eq!(
            check_environment_entry(OsStr::new("=V"))
                .unwrap_err()
                .to_string(),
            "--env =V: expected KEY=VALUE with a non-empty KEY"
        );
        assert!(check_environment_entry(OsStr::new("novalue")).is_err());
    }

    proptest::proptest! {
        /// Any words without NUL survive build → the runtime's splitting.
        #[test]
        fn arbitrary_words_round_trip(
            parameters in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..12), 0..4),
            arguments in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..12), 0..6),
        ) {
            use std::os::unix::ffi::OsStringExt;
            let to_os = |words: &Vec<Vec<u8>>| -> Vec<std::ffi::OsString> {
                words.iter().map(|word| std::ffi::OsString::from_vec(word.clone())).collect()
            };
            let line = build(&to_os(&parameters), &to_os(&arguments)).unwrap();
            let (got_parameters, got_arguments) = parse(&line);
            proptest::prop_assert_eq!(got_parameters, parameters);
            proptest::prop_assert_eq!(got_arguments, arguments);
        }

        /// The splitter takes any bytes without panicking.
        #[test]
        fn splitting_never_panics(line in proptest::collection::vec(0u8..=255, 0..64)) {
            let _ = parse(&line);
        }
    }
}
