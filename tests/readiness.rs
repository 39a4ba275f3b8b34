//! Readiness end to end: poll, ppoll, select, pselect, epoll (level- and
//! edge-triggered, one-shot, EPOLLRDHUP, EPOLLEXCLUSIVE), eventfd and socketpair
//! between threads, booted on every threaded target against the same fixture built
//! with gcc and run on Linux; blocked waits use no CPU time; the component is linked
//! only when a program waits.
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn poll_select_epoll_eventfd_and_socketpair_match_linux() {
    let dir = scratch();
    let native = native_threaded(&["c/readiness.c"], dir.path());
    assert_eq!(native.status, 0, "{}\n{}", native.stdout, native.stderr);
    // The fixture checks itself too; make sure the native run exercised the waits.
    for line in [
        "poll woken: 1 revents 1\n",
        "poll timeout: 0 waited>=190ms 1 cpu<100ms 1\n",
        "woken by eventfd: 1 [1 10]\n",
        "pair read HELLO\n",
        "failures 0\n",
    ] {
        assert!(
            native.stdout.contains(line),
            "{line:?} in\n{}",
            native.stdout
        );
    }
    for target in threaded_targets() {
        let image = build_image(target, &["c/readiness.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("readiness on {target}"));
    }
}

#[test]
fn the_readiness_component_is_linked_only_when_used() {
    assert_linked_only_when_used(
        "readiness",
        &[("c/files_pipe.c", false), ("c/readiness.c", true)],
    );
}
