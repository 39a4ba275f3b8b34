//! reboot(2) booted on every machine that claims it: RB_AUTOBOOT resets the machine
//! (x86_64: ACPI reset register, 8042, 0xcf9, triple fault; aarch64: PSCI
//! SYSTEM_RESET, the Raspberry Pi's watchdog), which `unik run` reports as "the guest
//! rebooted" with status 133; RB_POWER_OFF and RB_HALT_SYSTEM end the run with status
//! 0; the other commands return as on Linux.

mod common;

use std::path::Path;

use common::*;

/// The machines of each target that reboot, with `unik run` options.
fn machines(target: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    match target {
        "x86_64" => {
            let mut machines = vec![("microvm", vec![])];
            let firmware = [
                "/usr/lib/grub/i386-pc",
                "/usr/share/OVMF",
                "/usr/bin/xorriso",
            ];
            if firmware.iter().all(|path| Path::new(path).exists()) {
                machines.push(("pc-grub", vec!["--machine", "pc-grub"]));
                machines.push(("uefi", vec!["--machine", "uefi"]));
            } else {
                eprintln!("skipped pc-grub and uefi: run bash .ci/install");
            }
            machines
        }
        "aarch64" => vec![("virt", vec![])],
        _ => Vec::new(),
    }
}

fn assert_rebooted(outcome: &Outcome, what: &str) {
    assert_eq!(outcome.status, 133, "{what}: {outcome:?}");
    assert_eq!(outcome.stdout, "restart\n", "{what}: {outcome:?}");
    assert!(
        outcome
            .stderr
            .ends_with("unik run: the guest rebooted (exit status 133)\n"),
        "{what}: {}",
        outcome.stderr
    );
}

#[test]
fn rb_autoboot_resets_the_machine_everywhere() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/reboot.c"], &[], dir.path());
        for (machine, options) in machines(target) {
            let outcome = boot(&image, &options, &["restart"]);
            assert_rebooted(&outcome, &format!("{target} {machine}"));
        }
    }
    if targets().contains(&"aarch64") {
        // The Raspberry Pi 4 has no PSCI: its power-management watchdog resets it.
        let image = build_image("raspi4b", &["c/reboot.c"], &[], dir.path());
        let outcome = boot(&image, &[], &["restart"]);
        assert_rebooted(&outcome, "raspi4b");
    }
}

#[test]
fn power_off_and_halt_end_the_run_with_status_0_and_other_commands_return() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/reboot.c"], &[], dir.path());
        for what in ["power-off", "halt"] {
            let outcome = boot(&image, &[], &[what]);
            assert_eq!(outcome.status, 0, "{target} {what}: {outcome:?}");
            assert_eq!(outcome.stdout, format!("{what}\n"), "{target}");
            assert_eq!(outcome.stderr, "", "{target} {what}");
        }
        let outcome = boot(&image, &[], &["refused"]);
        assert_eq!(
            outcome.stdout,
            "RB_KEXEC: -1 Invalid argument\n12345: -1 Invalid argument\n\
             RB_DISABLE_CAD: 0\nRB_ENABLE_CAD: 0\n",
            "{target}: {outcome:?}"
        );
        assert_eq!(outcome.status, 0, "{target}");
    }
}
