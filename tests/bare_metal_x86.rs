//! x86_64 images booted through real firmware paths: SeaBIOS + GRUB (Multiboot2) on
//! QEMU `pc` and OVMF (UEFI) + GRUB EFI on QEMU `q35`, from the hybrid ISO `unik iso`
//! makes (`unik run --machine pc-grub|uefi`). The same image boots through PVH in the
//! other test files. Output and exit status are asserted against native runs; the
//! ACPI power-off (no exit device) is checked on QEMU directly; `unik iso` errors.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use common::*;

/// The firmware machines of `unik run`.
const MACHINES: [&str; 2] = ["pc-grub", "uefi"];

/// Whether GRUB, xorriso, mtools and OVMF are installed (`.ci/install` installs them);
/// prints why not otherwise, so a skipped test says so.
fn firmware_tools_present() -> bool {
    let missing: Vec<&str> = [
        ("grub-mkrescue", "/usr/bin/grub-mkrescue"),
        ("xorriso", "/usr/bin/xorriso"),
        ("mtools", "/usr/bin/mformat"),
        ("grub-pc-bin", "/usr/lib/grub/i386-pc"),
        ("grub-efi-amd64-bin", "/usr/lib/grub/x86_64-efi"),
        ("ovmf", "/usr/share/OVMF"),
    ]
    .into_iter()
    .filter(|(_, path)| !Path::new(path).exists())
    .map(|(package, _)| package)
    .collect();
    if missing.is_empty() {
        return true;
    }
    eprintln!(
        "skipped: the Debian packages {} are not installed (bash .ci/install installs them)",
        missing.join(", ")
    );
    false
}

/// Whether this machine boots x86_64 images at all (UNIK_TEST_TARGETS).
fn x86_64_tested() -> bool {
    targets().contains(&"x86_64")
}

/// One firmware boot at a time: OVMF and GRUB under TCG take tens of seconds alone,
/// and several at once on a loaded two-core machine can take minutes.
static FIRMWARE_BOOTS: Mutex<()> = Mutex::new(());

/// How long a firmware boot may take: the firmware and GRUB come before the program.
const FIRMWARE_TIMEOUT_SECONDS: u32 = 4 * GUEST_TIMEOUT_SECONDS;

fn boot_through(machine: &str, image: &Path, options: &[&str], arguments: &[&str]) -> Outcome {
    let _one_at_a_time = FIRMWARE_BOOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    run_command(
        unik()
            .args(["run", "--machine", machine, "--timeout"])
            .arg(FIRMWARE_TIMEOUT_SECONDS.to_string())
            .args(options)
            .arg(image)
            .arg("--")
            .args(arguments),
    )
}

#[test]
fn hello_boots_through_grub_bios_and_uefi_with_a_clean_console() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    for machine in MACHINES {
        let outcome = boot_through(machine, &image, &[], &[]);
        assert_eq!(outcome.stdout, "Hello, world!\n", "{machine}: {outcome:?}");
        assert_eq!(
            outcome.stderr, "",
            "{machine}: neither the firmware nor GRUB nor the runtime may show"
        );
        assert_eq!(outcome.status, 0, "{machine}");
    }
}

#[test]
fn exit_statuses_through_firmware_match_native() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/exit_status.c"], &[], dir.path());
    let cases: [(&str, &[&str]); 2] = [("pc-grub", &["exit", "42"]), ("uefi", &["return", "255"])];
    for (machine, arguments) in cases {
        let outcome = boot_through(machine, &image, &[], arguments);
        let reference = native(&["c/exit_status.c"], arguments, dir.path());
        assert_same_as_native(&outcome, &reference, &format!("{machine} {arguments:?}"));
    }
    let outcome = boot_through("pc-grub", &image, &[], &["_Exit", "7"]);
    assert_eq!(outcome.status, 7, "pc-grub _Exit: {outcome:?}");
    assert_eq!(outcome.stdout, "", "_Exit runs no atexit handler");
}

#[test]
fn arguments_and_environment_travel_through_grub_cfg() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    // What GRUB's script quoting and its command line re-quoting must carry intact.
    let arguments = [
        "plain",
        "two words",
        "double\"quote",
        "single'quote",
        "back\\slash",
        "  padded  ",
        "--",
        "$HOME;{x}",
    ];
    let dir = scratch();
    let image = build_image("x86_64", &["c/args.c"], &[], dir.path());
    let reference = native(&["c/args.c"], &arguments, dir.path());
    for machine in MACHINES {
        let outcome = boot_through(machine, &image, &[], &arguments);
        // argv[0] differs (the image's name); the rest must be the native run's.
        let ours: Vec<&str> = outcome.stdout.lines().skip(1).collect();
        let theirs: Vec<&str> = reference.stdout.lines().skip(1).collect();
        assert_eq!(ours, theirs, "{machine}: {outcome:?}");
        assert_eq!(outcome.status, reference.status, "{machine}");
    }
    let image = build_image("x86_64", &["c/env.c"], &[], dir.path());
    let outcome = boot_through(
        "pc-grub",
        &image,
        &["--env", "GREETING=hello \"there\"", "--env", "EMPTY="],
        &["GREETING", "EMPTY", "UNSET"],
    );
    assert_eq!(
        outcome.stdout, "GREETING=hello \"there\"\nEMPTY=\nUNSET=(unset)\n",
        "{outcome:?}"
    );
}

#[test]
fn a_crash_through_firmware_reports_and_ends_like_a_signal() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/crash_null.c"], &[], dir.path());
    for machine in MACHINES {
        let outcome = boot_through(machine, &image, &[], &[]);
        assert_eq!(outcome.status, 139, "{machine}: {outcome:?}");
        assert_eq!(outcome.stdout, "before\n", "{machine}");
        assert!(
            outcome.stderr.contains("page fault") && outcome.stderr.contains("0x0"),
            "{machine}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn the_boot_log_names_multiboot2_and_the_acpi_power_off() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    for machine in MACHINES {
        let outcome = boot_through(machine, &image, &["--verbose"], &[]);
        assert_eq!(outcome.stdout, "Hello, world!\n", "{machine}: {outcome:?}");
        assert!(
            outcome
                .stderr
                .contains("unik: boot: Multiboot2 information at 0x"),
            "{machine}: {}",
            outcome.stderr
        );
        assert!(
            outcome.stderr.contains("unik: acpi: RSDP at 0x")
                && outcome.stderr.contains(", S5 through PM1a control 0x"),
            "{machine}: {}",
            outcome.stderr
        );
    }
    // PVH still boots the same image, and says so.
    let outcome = boot(&image, &["--verbose"], &[]);
    assert!(
        outcome.stderr.contains("unik: boot: PVH start_info v1 at"),
        "{}",
        outcome.stderr
    );
}

/// Boots the ISO on QEMU without isa-debug-exit: the runtime prints the status and
/// switches the machine off through ACPI (FADT PM1a control, `\_S5`), so QEMU ends
/// by itself.
fn boot_iso_without_exit_device(iso: &Path, machine: &str, dir: &Path) -> Outcome {
    let _one_at_a_time = FIRMWARE_BOOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut command = Command::new("timeout");
    command.arg(FIRMWARE_TIMEOUT_SECONDS.to_string());
    command.args([
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        "128M",
        "-nodefaults",
        "-no-user-config",
        "-nographic",
        "-no-reboot",
        "-serial",
        "stdio",
        "-boot",
        "order=d",
        "-cdrom",
    ]);
    command.arg(iso);
    if machine == "uefi" {
        let variables = dir.join("OVMF_VARS.fd");
        std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &variables).expect("OVMF vars");
        command.args([
            "-M",
            "q35",
            "-drive",
            "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
            "-drive",
        ]);
        command.arg(format!(
            "if=pflash,format=raw,unit=1,file={}",
            variables.display()
        ));
    } else {
        command.args(["-M", "pc"]);
    }
    run_command(&mut command)
}

#[test]
fn without_an_exit_device_acpi_switches_the_machine_off() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/exit_status.c"], &[], dir.path());
    let iso = dir.path().join("exit.iso");
    let made = run_command(
        unik()
            .args(["iso", "-o"])
            .arg(&iso)
            .arg(&image)
            .args(["--", "exit", "3"]),
    );
    assert_eq!(made.status, 0, "unik iso: {made:?}");
    for machine in MACHINES {
        let outcome = boot_iso_without_exit_device(&iso, machine, dir.path());
        // QEMU ends with 0 on an ACPI power-off; `timeout` would end it with 124.
        assert_eq!(outcome.status, 0, "{machine}: {outcome:?}");
        assert!(
            outcome.stdout.contains("leaving with 3")
                && outcome.stdout.ends_with("unik: exit status 3\n"),
            "{machine}: {}",
            outcome.stdout
        );
    }
}

#[test]
fn unik_iso_refuses_what_it_cannot_boot() {
    if !x86_64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    let iso = dir.path().join("out.iso");

    // No grub-mkrescue: the message names the Debian packages.
    let empty = dir.path().join("empty-path");
    std::fs::create_dir(&empty).expect("a directory");
    let outcome = run_command(
        unik()
            .env("PATH", &empty)
            .args(["iso", "-o"])
            .arg(&iso)
            .arg(&image),
    );
    assert_eq!(outcome.status, 125, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        format!(
            "unik: error: no grub-mkrescue found (looked for grub-mkrescue in PATH); on \
             Debian: apt-get install grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools\n"
        )
    );
    assert!(!iso.exists());

    // An argument GRUB cannot carry.
    let outcome = run_command(
        unik()
            .args(["iso", "-o"])
            .arg(&iso)
            .arg(&image)
            .args(["--", "tab\there"]),
    );
    assert_eq!(outcome.status, 125, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        "unik: error: the argument `tab\\there` holds the control character 0x09, which a \
         GRUB command line cannot carry\n"
    );

    // Not an image; an aarch64 image.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").expect("a file");
    let outcome = run_command(unik().args(["iso", "-o"]).arg(&iso).arg(&text));
    assert_eq!(outcome.status, 125, "{outcome:?}");
    assert!(
        outcome.stderr.starts_with(&format!(
            "unik: error: {}: not an ELF image",
            text.display()
        )),
        "{}",
        outcome.stderr
    );
    if targets().contains(&"aarch64") {
        let arm = build_image("aarch64", &["c/hello.c"], &[], dir.path());
        let outcome = run_command(unik().args(["iso", "-o"]).arg(&iso).arg(&arm));
        assert_eq!(outcome.status, 125, "{outcome:?}");
        assert_eq!(
            outcome.stderr,
            format!(
                "unik: error: {}: an aarch64 image; GRUB ISOs (unik iso, --machine \
                 pc-grub/uefi) boot x86_64 images\n",
                arm.display()
            )
        );
        let outcome = boot(&arm, &["--machine", "uefi"], &[]);
        assert_eq!(outcome.status, 125, "{outcome:?}");
        assert_eq!(
            outcome.stderr,
            "unik: error: --machine uefi: GRUB boots x86_64 images; this image is for the \
             aarch64 target\n"
        );
    }
}

#[test]
fn the_initrd_travels_as_a_multiboot2_module() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("etc")).expect("a directory");
    std::fs::write(tree.join("etc/app.conf"), "level = 3\n").expect("a file");
    // Several pages, so that the module's whole extent is reserved and mapped.
    let big: Vec<u8> = (0..300_000u32)
        .map(|index| (index * 7 % 251) as u8)
        .collect();
    std::fs::write(tree.join("big.bin"), big).expect("a file");
    let archive = dir.path().join("tree.cpio");
    let mut pack = Command::new("sh");
    pack.arg("-c")
        .arg("find . | LC_ALL=C sort | cpio -o -H newc --quiet")
        .current_dir(&tree)
        .stdout(std::fs::File::create(&archive).expect("the archive"));
    let packed = run_command(&mut pack);
    assert_eq!(packed.status, 0, "cpio failed: {}", packed.stderr);

    let image = build_image("x86_64", &["c/files_tree.c"], &[], dir.path());
    let tree_text = tree.to_str().expect("a UTF-8 path");
    let reference = native(&["c/files_tree.c"], &[tree_text], dir.path());
    assert_eq!(reference.status, 0, "{}", reference.stderr);
    let archive_text = archive.to_str().expect("a UTF-8 path");
    for machine in MACHINES {
        let outcome = boot_through(machine, &image, &["--initrd", archive_text], &["/"]);
        assert_same_as_native(&outcome, &reference, &format!("initrd through {machine}"));
    }
}
