//! C programs compiled by `unikcc` and booted with `unik run`, on every available
//! target: console output and exit status asserted, against a native gcc/glibc run
//! of the same fixture wherever the program is deterministic.

mod common;

use common::*;

#[test]
fn hello_prints_and_exits_zero_with_a_clean_console() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_eq!(outcome.stdout, "Hello, world!\n", "{target}: {outcome:?}");
        assert_eq!(
            outcome.stderr, "",
            "{target}: the runtime must print nothing"
        );
        assert_eq!(outcome.status, 0, "{target}");
    }
}

#[test]
fn constructors_and_destructors_run_in_glibcs_order() {
    let dir = scratch();
    let reference = native(&["c/constructors.c"], &[], dir.path());
    assert_eq!(reference.status, 3, "native: {reference:?}");
    for target in targets() {
        let image = build_image(target, &["c/constructors.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &reference, &format!("constructors on {target}"));
    }
}

#[test]
fn exit_statuses_through_return_and_exit_match_native() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/exit_status.c"], &[], dir.path());
        for mode in ["return", "exit"] {
            for status in [0, 1, 42, 255] {
                let status_text = status.to_string();
                let arguments = [mode, status_text.as_str()];
                let outcome = boot(&image, &[], &arguments);
                let reference = native(&["c/exit_status.c"], &arguments, dir.path());
                assert_eq!(outcome.status, status, "{target} {mode}");
                assert_same_as_native(&outcome, &reference, &format!("{target} {mode} {status}"));
            }
        }
        let outcome = boot(&image, &[], &["_Exit", "7"]);
        assert_eq!(outcome.status, 7, "{target} _Exit");
        assert_eq!(outcome.stdout, "", "{target}: _Exit runs no atexit handler");
    }
}

/// Without the exit device the runtime prints `unik: exit status N` and switches the
/// machine off; where it cannot (x86_64 microvm: its ACPI has no `\_S5`; aarch64 virt
/// has PSCI SYSTEM_OFF), `unik run` stops the machine a grace period later and ends
/// with the program's status, not at the timeout.
#[test]
fn without_an_exit_device_the_status_line_ends_the_run() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/exit_status.c"], &[], dir.path());
        let outcome = boot(&image, &["--no-exit-device"], &["exit", "3"]);
        assert_eq!(outcome.status, 3, "{target}: {outcome:?}");
        assert!(
            outcome.stderr.starts_with("unik: exit status 3\n"),
            "{target}: {}",
            outcome.stderr
        );
        if target == "x86_64" {
            assert!(
                outcome.stderr.contains("did not switch itself off"),
                "{target}: microvm has no power-off: {}",
                outcome.stderr
            );
        }
    }
}

#[test]
fn arguments_with_blanks_and_quotes_reach_main() {
    let arguments = [
        "plain",
        "two words",
        "",
        "double\"quote",
        "single'quote",
        "back\\slash",
        "  padded  ",
        "--",
        "tab\there",
    ];
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/args.c"], &[], dir.path());
        let outcome = boot(&image, &[], &arguments);
        let reference = native(&["c/args.c"], &arguments, dir.path());
        assert_same_as_native(&outcome, &reference, target);
        assert!(
            outcome.stdout.starts_with("argc=10\n"),
            "{target}: {outcome:?}"
        );
    }
}

#[test]
fn environment_variables_from_unik_run_reach_getenv() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/env.c"], &[], dir.path());
        let outcome = boot(
            &image,
            &["--env", "GREETING=hello there", "--env", "EMPTY="],
            &["GREETING", "EMPTY", "MISSING"],
        );
        assert_eq!(
            outcome.stdout, "GREETING=hello there\nEMPTY=\nMISSING=(unset)\n",
            "{target}: {outcome:?}"
        );
        assert_eq!(outcome.status, 0);
    }
}

#[test]
fn printf_conformance_table_matches_glibc() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/printf_table.c"], &["-w"], dir.path());
        let outcome = boot(&image, &[], &[]);
        let reference = native(&["c/printf_table.c"], &[], dir.path());
        assert_same_as_native(&outcome, &reference, target);
        let cases: usize = outcome
            .stdout
            .lines()
            .last()
            .and_then(|line| line.strip_prefix("cases: "))
            .and_then(|count| count.parse().ok())
            .expect("the table ends with its case count");
        assert!(cases >= 1000, "{target}: only {cases} printf cases ran");
    }
}

#[test]
fn malloc_realloc_free_stress_keeps_every_byte() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/malloc_stress.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        let reference = native(&["c/malloc_stress.c"], &[], dir.path());
        assert_same_as_native(&outcome, &reference, target);
        assert!(
            outcome.stdout.starts_with("operations: 40000"),
            "{outcome:?}"
        );
    }
}

/// A 2 GiB heap block in a 4 GiB guest, written and read back in every 2 MiB: the
/// kernel's identity map of that much RAM uses its largest pages (1 GiB on x86_64 where
/// the CPU has them, as QEMU's `-cpu max` does), and the boot's W^X check walks them.
#[test]
fn a_large_heap_is_usable_across_the_large_pages_that_map_it() {
    let dir = scratch();
    let native = native(&["c/large_heap.c"], &[], dir.path());
    assert_eq!(native.status, 0, "native: {native:?}");
    for target in targets() {
        let image = build_image(target, &["c/large_heap.c"], &[], dir.path());
        let outcome = boot(&image, &["-m", "4G"], &[]);
        assert_same_as_native(&outcome, &native, target);
    }
}

#[test]
fn out_of_memory_makes_malloc_return_null() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/out_of_memory.c"], &[], dir.path());
        let outcome = boot(&image, &["-m", "64M"], &[]);
        assert_eq!(outcome.status, 0, "{target}: {outcome:?}");
        let mut lines = outcome.stdout.lines();
        let first = lines.next().unwrap_or_default();
        let mebibytes: usize = first
            .strip_prefix("malloc returned NULL after ")
            .and_then(|rest| rest.strip_suffix(" MiB (errno ENOMEM)"))
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("{target}: unexpected report {first:?}"));
        assert!(
            (32..64).contains(&mebibytes),
            "{target}: {mebibytes} MiB allocated in a 64 MiB guest"
        );
        assert_eq!(lines.next(), Some("after freeing: allocation works"));
    }
}

/// Boots a crash fixture on every target and checks the report and the
/// signal-like status.
fn assert_crash(fixture_name: &str, status: i32, report_parts: &[&str]) {
    for target in targets() {
        assert_crash_on(target, fixture_name, status, report_parts);
    }
}

/// Boots a crash fixture on one target and checks the report and the status.
fn assert_crash_on(target: &str, fixture_name: &str, status: i32, report_parts: &[&str]) {
    {
        let dir = scratch();
        let image = build_image(target, &[fixture_name], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_eq!(
            outcome.stdout, "before\n",
            "{target} {fixture_name}: {outcome:?}"
        );
        assert_eq!(
            outcome.status, status,
            "{target} {fixture_name}: {}",
            outcome.stderr
        );
        let report = outcome.stderr.to_lowercase();
        for part in report_parts {
            assert!(
                report.contains(part),
                "{target} {fixture_name}: the report lacks {part:?}:\n{}",
                outcome.stderr
            );
        }
    }
}

/// The CPU's name for a faulting data access, and its faulting-instruction register,
/// as the crash report spells them.
fn memory_fault_words(target: &str) -> [&'static str; 2] {
    match target {
        "aarch64" => ["data abort", "elr"],
        _ => ["page fault", "rip"],
    }
}

/// [`assert_crash`] for a memory fault: the arch's words plus `report_parts`.
fn assert_memory_fault(fixture_name: &str, report_parts: &[&str]) {
    for target in targets() {
        let mut parts = memory_fault_words(target).to_vec();
        parts.extend_from_slice(report_parts);
        assert_crash_on(target, fixture_name, 139, &parts);
    }
}

#[test]
fn null_dereference_reports_a_page_fault_at_zero() {
    assert_memory_fault(
        "c/crash_null.c",
        &["null pointer dereference", "address 0x0"],
    );
}

#[test]
fn crash_reports_name_the_crashing_function_and_with_g_its_line() {
    for target in targets() {
        for (flags, line) in [(&[][..], None), (&["-g"][..], Some("crash_null.c:8"))] {
            let dir = scratch();
            let image = build_image(target, &["c/crash_null.c"], flags, dir.path());
            let outcome = boot(&image, &[], &[]);
            assert_eq!(outcome.status, 139, "{target} {flags:?}: {outcome:?}");
            let frame = outcome
                .stderr
                .lines()
                .find(|text| text.trim_start().starts_with("#0 "))
                .unwrap_or_else(|| panic!("{target}: no frame #0 in\n{}", outcome.stderr));
            assert!(frame.contains("  main+0x"), "{target} {flags:?}: {frame}");
            if let Some(line) = line {
                assert!(frame.ends_with(line), "{target} {flags:?}: {frame}");
            }
        }
    }
}

#[test]
fn write_into_text_faults() {
    assert_memory_fault("c/crash_write_text.c", &["read-only"]);
}

#[test]
fn stack_overflow_hits_the_guard_page() {
    assert_memory_fault(
        "c/crash_stack_overflow.c",
        &["stack overflow", "guard page"],
    );
}

#[test]
fn division_by_zero_reports_a_divide_error() {
    // x86_64 only: aarch64's integer division returns 0 for a zero divisor and
    // never traps (Arm ARM, SDIV/UDIV), natively as in a unikernel.
    if targets().contains(&"x86_64") {
        assert_crash_on("x86_64", "c/crash_divide.c", 136, &["divide error", "rip"]);
    }
}

#[test]
fn abort_ends_with_status_134() {
    assert_crash("c/crash_abort.c", 134, &["abort"]);
}

#[test]
fn a_hung_guest_is_stopped_by_the_timeout() {
    for target in targets() {
        let dir = scratch();
        let image = build_image(target, &["c/hang.c"], &[], dir.path());
        let outcome = run_command(unik().arg("run").arg("--timeout").arg("3").arg(&image));
        assert_eq!(outcome.status, 124, "{target}: {outcome:?}");
        assert_eq!(outcome.stdout, "spinning\n");
        assert!(
            outcome.stderr.contains("timed out after 3 s"),
            "{}",
            outcome.stderr
        );
    }
}
