//! `unikcc` on bad input: a clear message, gcc's exit status, and no output file.

mod common;

use common::*;

fn assert_fails_without_output(arguments: &[&str], message: &str) {
    let dir = scratch();
    let output = dir.path().join("app.img");
    let outcome = run_command(unikcc().args(arguments).arg("-o").arg(&output));
    assert_eq!(outcome.status, 1, "{arguments:?}: {outcome:?}");
    assert!(
        outcome.stderr.contains(message),
        "{arguments:?}: expected {message:?} in:\n{}",
        outcome.stderr
    );
    assert!(
        !output.exists(),
        "{arguments:?}: a failed build left {output:?}"
    );
}

#[test]
fn a_missing_source_file_is_named() {
    assert_fails_without_output(
        &["/nonexistent/missing.c"],
        "/nonexistent/missing.c: No such file or directory",
    );
}

#[test]
fn a_syntax_error_reaches_the_user_unchanged() {
    let source = fixture("c/syntax_error.c");
    let source = source.to_str().expect("a UTF-8 path");
    assert_fails_without_output(&[source], "syntax_error.c:3:13: error: expected ';'");
}

#[test]
fn an_unknown_option_is_rejected_like_gcc_does() {
    let source = fixture("c/hello.c");
    let source = source.to_str().expect("a UTF-8 path");
    assert_fails_without_output(
        &["--frobnicate", source],
        "unikcc: error: unrecognized command-line option '--frobnicate'",
    );
}

#[test]
fn no_input_files_is_an_error() {
    assert_fails_without_output(&[], "no input files");
}

#[test]
fn a_failed_link_leaves_no_output() {
    // A program whose main is missing cannot link.
    let dir = scratch();
    let source = dir.path().join("nomain.c");
    std::fs::write(&source, "int not_main(void) { return 0; }\n").expect("write a source");
    assert_fails_without_output(&[source.to_str().expect("a UTF-8 path")], "main");
}
