//! Internet names and addresses: `<arpa/inet.h>` text and byte order and `<netdb.h>`
//! getaddrinfo/getnameinfo/gethostbyname on numeric hosts and localhost, booted on
//! every target against the same fixture built with gcc and run on Linux (no DNS or
//! /etc/services is involved, so glibc's answers are the reference).
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn address_text_and_getaddrinfo_match_glibc() {
    let dir = scratch();
    let native = native(&["c/netdb.c"], &[], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    for line in [
        "pton(10, \"2001:db8:0:0:1:0:0:1\") = 1 -> 2001:db8::1:0:0:1\n",
        "aton(\"127.1\") = 1 7f000001 addr 7f000001\n",
        "gai(NULL, 80, 0x1, 2, 1, 0): 0 [2 1 6 len 16 0.0.0.0 port 80]\n",
    ] {
        assert!(
            native.stdout.contains(line),
            "{line:?} in\n{}",
            native.stdout
        );
    }
    for target in targets() {
        let image = build_image(target, &["c/netdb.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("netdb on {target}"));
    }
}
