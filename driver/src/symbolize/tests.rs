use super::*;

fn symbolizer() -> Symbolizer {
    Symbolizer {
        functions: vec![
            (0x1000, 0x1100, "std::rt::lang_start".into()),
            (
                0x1100,
                0x1200,
                "std::sys::backtrace::__rust_begin_short_backtrace".into(),
            ),
            (0x1200, 0x1300, "backtrace::outer".into()),
            (0x1300, 0x1400, "backtrace::inner".into()),
            (
                0x1400,
                0x1500,
                "std::panicking::begin_panic::{{closure}}".into(),
            ),
            (
                0x1500,
                0x1600,
                "std::sys::backtrace::__rust_end_short_backtrace".into(),
            ),
            (0x1600, 0x1700, "std::panicking::default_hook".into()),
            // No size: reaches to the end of the code.
            (0x2000, 0x2000, "main".into()),
        ],
        lines: vec![(0x1300, 0x1340, "src/bin/backtrace.rs".into(), 12)],
        code_end: 0x2100,
    }
}

#[test]
fn addresses_resolve_to_functions_offsets_and_lines() {
    let symbols = symbolizer();
    assert_eq!(
        symbols.locate(0x1310),
        Some(Location {
            function: "backtrace::inner".into(),
            offset: 0x10,
            line: Some("src/bin/backtrace.rs:12".into()),
        })
    );
    assert_eq!(symbols.locate(0x1350).and_then(|l| l.line), None);
    assert_eq!(symbols.locate(0x0fff), None);
    assert_eq!(symbols.locate(0x1800), None, "between functions");
    assert_eq!(
        symbols.locate(0x2040).map(|l| l.function),
        Some("main".into())
    );
}

#[test]
fn crash_report_frames_get_names_and_the_image_base_moves_them() {
    let mut annotator = Annotator::new(symbolizer(), BacktraceStyle::AsPrinted);
    // Frame 0 is the faulting address itself; the others are return addresses.
    assert_eq!(
        annotator.rewrite("    #0  0x0000000000001300"),
        ["    #0  0x0000000000001300  backtrace::inner+0x0 at src/bin/backtrace.rs:12"]
    );
    assert_eq!(
        annotator.rewrite("    #1  0x0000000000001300"),
        ["    #1  0x0000000000001300  backtrace::outer+0xff"]
    );
    assert_eq!(
        annotator.rewrite("    #2  0x0000000000009999"),
        ["    #2  0x0000000000009999"]
    );
    assert_eq!(
        annotator.rewrite("  image base 0x0000000040001000 (linked at 0x0000000000001000)"),
        ["  image base 0x0000000040001000 (linked at 0x0000000000001000)"]
    );
    assert_eq!(
        annotator.rewrite("    #0  0x0000000040001600"),
        ["    #0  0x0000000040001600  std::panicking::default_hook+0x0"]
    );
    assert_eq!(annotator.rewrite("    #1 and more"), ["    #1 and more"]);
}

#[test]
fn std_full_frames_are_named_in_place() {
    let mut annotator = Annotator::new(symbolizer(), BacktraceStyle::AsPrinted);
    assert_eq!(annotator.rewrite("stack backtrace:"), ["stack backtrace:"]);
    assert_eq!(
        annotator.rewrite("   3:             0x1301 - <unknown>"),
        [
            "   3:             0x1301 - backtrace::inner",
            "             at src/bin/backtrace.rs:12"
        ]
    );
    assert_eq!(
        annotator.rewrite("   4:             0x9999 - <unknown>"),
        ["   4:             0x9999 - <unknown>"]
    );
    assert_eq!(annotator.rewrite("dropped"), ["dropped"]);
    assert!(annotator.finish().is_empty());
}

#[test]
fn the_short_form_is_trimmed_between_std_markers_and_ends_with_std_note() {
    let mut annotator = Annotator::new(symbolizer(), BacktraceStyle::Short);
    let mut out = Vec::new();
    for line in [
        "thread 'main' panicked at src/bin/backtrace.rs:12:5:",
        "stack backtrace:",
        "   0:   0x1601 - <unknown>",
        "   1:   0x1501 - <unknown>",
        "   2:   0x1401 - <unknown>",
        "   3:   0x1301 - <unknown>",
        "   4:   0x1201 - <unknown>",
        "   5:   0x1101 - <unknown>",
        "   6:   0x1001 - <unknown>",
    ] {
        out.extend(annotator.rewrite(line));
    }
    out.extend(annotator.finish());
    assert_eq!(
        out,
        [
            "thread 'main' panicked at src/bin/backtrace.rs:12:5:",
            "stack backtrace:",
            "   0: std::panicking::begin_panic::{{closure}}",
            "   1: backtrace::inner",
            "             at src/bin/backtrace.rs:12",
            "   2: backtrace::outer",
            SHORT_NOTE,
        ]
    );
    assert_eq!(
        backtrace_environment("1"),
        (Some("RUST_BACKTRACE=full"), BacktraceStyle::Short)
    );
    assert_eq!(
        backtrace_environment("full"),
        (None, BacktraceStyle::AsPrinted)
    );
    assert_eq!(
        backtrace_environment("0"),
        (None, BacktraceStyle::AsPrinted)
    );
}

#[test]
fn only_lines_that_may_be_frames_are_held_back() {
    for partial in ["", "   ", "    #1", "  12:", "image ba", "stack back"] {
        assert!(Annotator::may_rewrite(partial), "{partial:?}");
    }
    for partial in ["Enter a number: ", "thread 'main'", "  note"] {
        assert!(!Annotator::may_rewrite(partial), "{partial:?}");
    }
}

#[test]
fn images_without_symbols_give_no_symbolizer() {
    assert!(Symbolizer::load(b"not an image").is_none());
}
