//! Hardening, booted on every target: W^X (text, rodata and string literals read-only;
//! stack, heap, .data and .bss never executable; page 0 unmapped; the boot-time check;
//! the link-time refusals), stack protection (canary random per boot and checked,
//! guard pages with the thread named), the random generator failing closed without a
//! hardware source (C and Rust std), and the heap checks.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use common::*;

/// The fault report's words for a data access and for an instruction fetch.
fn fault_words(target: &str) -> (&'static str, &'static str) {
    match target {
        "aarch64" => ("data abort", "instruction abort"),
        _ => ("page fault", "instruction fetch"),
    }
}

fn hardening_image(target: &str, dir: &Path) -> PathBuf {
    build_image(target, &["c/hardening.c"], &["-pthread"], dir)
}

/// Boots the fixture in `mode`; it must have run up to its "before" line and not
/// past the forbidden operation.
fn stopped(image: &Path, run_options: &[&str], arguments: &[&str]) -> Outcome {
    let outcome = boot(image, run_options, arguments);
    assert!(
        outcome.stdout.starts_with("before\n") && !outcome.stdout.contains("not stopped"),
        "{image:?} {arguments:?}: {outcome:?}"
    );
    outcome
}

fn assert_report(outcome: &Outcome, status: i32, parts: &[&str], what: &str) {
    assert_eq!(outcome.status, status, "{what}: {}", outcome.stderr);
    for part in parts {
        assert!(
            outcome.stderr.contains(part),
            "{what}: the report lacks {part:?}:\n{}",
            outcome.stderr
        );
    }
}

#[test]
fn forbidden_memory_accesses_fault() {
    for target in targets() {
        let dir = scratch();
        let image = hardening_image(target, dir.path());
        let (data, fetch) = fault_words(target);
        let cases: [(&str, &[&str]); 9] = [
            ("write-text", &[data, "write to read-only memory"]),
            ("write-literal", &[data, "write to read-only memory"]),
            (
                "execute-stack",
                &[fetch, "execute of non-executable memory"],
            ),
            ("execute-heap", &[fetch, "execute of non-executable memory"]),
            ("execute-data", &[fetch, "execute of non-executable memory"]),
            ("execute-bss", &[fetch, "execute of non-executable memory"]),
            (
                "read-0",
                &[data, "at address 0x0: NULL pointer dereference"],
            ),
            (
                "read-fff",
                &[data, "at address 0xfff: NULL pointer dereference"],
            ),
            (
                "recursion",
                &[
                    data,
                    "stack overflow (guard page hit)\n  in thread 1 (main)\n",
                ],
            ),
        ];
        for (mode, parts) in cases {
            let outcome = stopped(&image, &[], &[mode]);
            assert_report(&outcome, 139, parts, &format!("{target} {mode}"));
        }
        let outcome = stopped(&image, &[], &["thread-recursion"]);
        assert_report(
            &outcome,
            139,
            &[
                data,
                "thread stack overflow (guard page hit)\n  in thread 2\n",
            ],
            &format!("{target} thread-recursion"),
        );
    }
}

/// The hex number in `token` (`0x…`).
fn hex_value(token: &str) -> u64 {
    u64::from_str_radix(token.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("not a hex number: {token:?}"))
}

/// x86_64's register dump after a fault: the rip/rsp/rflags/cs/ss line and four lines
/// of general registers, laid out as core::fmt's `{:#018x}`/`{:#010x}`/`{:#x}` would.
#[test]
fn the_x86_64_fault_report_dumps_every_register() {
    if !targets().contains(&"x86_64") {
        return;
    }
    let dir = scratch();
    let image = hardening_image("x86_64", dir.path());
    let outcome = stopped(&image, &[], &["read-0"]);
    assert_eq!(outcome.status, 139, "{}", outcome.stderr);
    let lines: Vec<&str> = outcome.stderr.lines().collect();
    let first = lines
        .iter()
        .position(|line| line.starts_with("  rip 0x"))
        .unwrap_or_else(|| panic!("no register dump:\n{}", outcome.stderr));
    let value = |line: &str, name: &str| {
        let mut tokens = line.split_whitespace();
        tokens.find(|token| token == &name.trim_end());
        hex_value(
            tokens
                .next()
                .unwrap_or_else(|| panic!("no {name} in {line:?}")),
        )
    };
    let special = lines[first];
    assert_eq!(
        special,
        format!(
            "  rip {:#018x}  rsp {:#018x}  rflags {:#010x}  cs {:#x}  ss {:#x}",
            value(special, "rip"),
            value(special, "rsp"),
            value(special, "rflags"),
            value(special, "cs"),
            value(special, "ss"),
        )
    );
    let rows: [&[&str]; 4] = [
        &["rax", "rbx", "rcx", "rdx"],
        &["rsi", "rdi", "rbp", "r8 "],
        &["r9 ", "r10", "r11", "r12"],
        &["r13", "r14", "r15"],
    ];
    for (offset, names) in rows.iter().enumerate() {
        let line = lines.get(first + 1 + offset).copied().unwrap_or_default();
        let expected: String = names
            .iter()
            .map(|name| format!(" {name} {:#018x}", value(line, name)))
            .collect();
        assert_eq!(line, format!(" {expected}"), "{}", outcome.stderr);
    }
}

#[test]
fn a_smashed_canary_reaches_stack_chk_fail() {
    for target in targets() {
        let dir = scratch();
        let image = hardening_image(target, dir.path());
        let outcome = stopped(&image, &[], &["smash", "64"]);
        assert!(!outcome.stdout.contains("returned"), "{outcome:?}");
        assert_report(
            &outcome,
            134,
            &["unik: stack smashing detected\n"],
            &format!("{target} smash"),
        );
        // Within the buffer, nothing is reported.
        let outcome = boot(&image, &[], &["smash", "8"]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            ("before\nreturned\n", 0),
            "{target}: {outcome:?}"
        );
    }
}

/// The canary a boot prints: (value, low byte, the same in a second thread).
fn canary(image: &Path, run_options: &[&str]) -> (String, String, bool) {
    let outcome = boot(image, run_options, &["guard"]);
    assert_eq!(outcome.status, 0, "{outcome:?}");
    let line = outcome
        .stdout
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words.len(), 9, "unexpected line {line:?}");
    (words[1].to_string(), words[4].to_string(), words[8] == "1")
}

#[test]
fn the_canary_is_random_per_boot_with_a_zero_low_byte() {
    for target in targets() {
        let dir = scratch();
        let image = hardening_image(target, dir.path());
        let mut seen = HashSet::new();
        for _ in 0..4 {
            let (value, low_byte, same_in_thread) = canary(&image, &[]);
            assert_eq!(low_byte, "0", "{target}: canary {value}");
            assert!(same_in_thread, "{target}: threads see another canary");
            assert!(value.ends_with("00"), "{target}: {value}");
            seen.insert(value);
        }
        assert_eq!(
            seen.len(),
            4,
            "{target}: canaries repeat across boots: {seen:?}"
        );
        // Without a hardware random source: glibc's terminator canary, never a
        // clock-derived one.
        let (value, ..) = canary(&image, &["--cpu", cpu_without_random_instruction(target)]);
        assert_eq!(value, "ff0a000000000000", "{target}");
    }
}

#[test]
fn getrandom_fails_closed_without_a_hardware_source() {
    for target in targets() {
        let dir = scratch();
        let image = hardening_image(target, dir.path());
        let outcome = boot(&image, &[], &["random"]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            (
                "before\ngetrandom: 16 bytes\nsyscall: 16 bytes\ngetentropy: ok\n",
                0
            ),
            "{target}: {outcome:?}"
        );
        let outcome = boot(
            &image,
            &["--cpu", cpu_without_random_instruction(target)],
            &["random"],
        );
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            (
                "before\ngetrandom: Resource temporarily unavailable\n\
                 syscall: Resource temporarily unavailable\n\
                 getentropy: Resource temporarily unavailable\n",
                0
            ),
            "{target}: {outcome:?}"
        );
    }
}

#[test]
fn rust_std_hash_map_fails_closed_without_a_hardware_source() {
    for target in targets() {
        let image = std_program_image(target, "collections");
        // HashMap::new draws its keys from getrandom: std panics with its message.
        let outcome = boot(
            &image,
            &["--cpu", cpu_without_random_instruction(target)],
            &[],
        );
        assert_report(
            &outcome,
            101,
            &["panicked at", "failed to generate random data"],
            &format!("{target} collections without a random source"),
        );
        assert_eq!(outcome.stdout, "", "{target}");
    }
}

#[test]
fn heap_misuse_aborts_with_a_report() {
    for target in targets() {
        let dir = scratch();
        let image = hardening_image(target, dir.path());
        for (mode, message) in [
            ("double-free", "unik: free(): double free detected: 0x"),
            ("interior-free", "unik: free(): invalid pointer: 0x"),
            ("stack-free", "unik: free(): invalid pointer: 0x"),
            ("overwritten-header", "unik: free(): corrupted chunk header"),
        ] {
            let outcome = stopped(&image, &[], &[mode]);
            assert_report(&outcome, 134, &[message], &format!("{target} {mode}"));
        }
    }
}

#[test]
fn an_executable_stack_object_is_refused_unless_asked_for() {
    for target in targets() {
        let dir = scratch();
        let image = dir.path().join("app.img");
        let link = |extra: &[&str]| {
            run_command(
                unikcc()
                    .args(["--target", target, "-O2"])
                    .arg(fixture("c/hello.c"))
                    .arg(fixture("c/executable_stack.s"))
                    .args(extra)
                    .arg("-o")
                    .arg(&image),
            )
        };
        let refused = link(&[]);
        assert_eq!(refused.status, 1, "{target}: {refused:?}");
        assert!(
            refused.stderr.contains(
                "unikcc: error: executable_stack.o asks for an executable stack (its .note.GNU-stack section has the SHF_EXECINSTR flag)\n"
            ),
            "{target}: {}",
            refused.stderr
        );
        assert!(!image.exists(), "{target}: an image was written");
        let accepted = link(&["-Wl,-z,execstack"]);
        assert_eq!(accepted.status, 0, "{target}: {}", accepted.stderr);
        let outcome = boot(&image, &[], &[]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            ("Hello, world!\n", 0),
            "{target}: {outcome:?}"
        );
    }
}

#[test]
fn a_writable_executable_section_is_refused() {
    for target in targets() {
        let dir = scratch();
        let image = dir.path().join("rwx.img");
        let outcome = run_command(
            unikcc()
                .args(["--target", target, "-O2"])
                .arg(fixture("c/rwx_section.c"))
                .arg("-o")
                .arg(&image),
        );
        assert_eq!(outcome.status, 1, "{target}: {outcome:?}");
        assert!(
            outcome.stderr.contains(&format!(
                "unikcc: error: {}: section .patchable_code is writable and executable (flags \"awx\")\n",
                image.display()
            )),
            "{target}: {}",
            outcome.stderr
        );
        assert!(!image.exists(), "{target}: an image was written");
    }
}

#[test]
fn the_boot_check_refuses_writable_executable_pages() {
    // x86_64 without NX: every data page would be executable. (aarch64 has no CPU
    // without execute-never; its walk is unit-tested in page_walk.rs.)
    if !targets().contains(&"x86_64") {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    let outcome = boot(&image, &["--cpu", "max,-nx"], &[]);
    assert_eq!(outcome.stdout, "", "{outcome:?}");
    assert_report(
        &outcome,
        1,
        &[
            "unik: fatal: W^X violation: ",
            "is mapped writable and executable (the CPU has no execute-disable, NX); refusing to run",
        ],
        "x86_64 without NX",
    );
}
