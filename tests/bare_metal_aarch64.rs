//! aarch64 boards and boot loaders: the Raspberry Pi 4 target (`unikcc --target
//! raspi4b`, a kernel8.img booted by QEMU `-M raspi4b` with Linux's
//! bcm2711-rpi-4-b.dtb: EL2 entry, PL011 and GIC-400 under /soc, memory from the device
//! tree) and U-Boot (`unik run --machine uboot`: Debian's qemu_arm64 U-Boot boots an
//! aarch64 `--format image` with booti). Output and exit status against native runs.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn aarch64_tested() -> bool {
    targets().contains(&"aarch64")
}

/// Compiles one C fixture for the Raspberry Pi 4 (a kernel8.img).
fn build_kernel8(source: &str, dir: &Path) -> PathBuf {
    build_image("raspi4b", &[source], &[], dir)
}

/// Compiles one C fixture as an aarch64 Linux arm64 Image (what U-Boot's booti takes).
fn build_arm64_image(source: &str, dir: &Path) -> PathBuf {
    build_image("aarch64", &[source], &["--format", "image"], dir)
}

fn word(bytes: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(bytes[offset..offset + 8].try_into().expect("8 bytes"))
}

#[test]
fn hello_boots_on_the_raspberry_pi_4() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_kernel8("c/hello.c", dir.path());
    let bytes = std::fs::read(&image).expect("kernel8.img");
    // The firmware jumps to the file's first byte at 0x80000: a branch (b imm26).
    assert_eq!(
        u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) >> 26,
        0b000101,
        "the first word is a branch"
    );
    assert_eq!(
        word(&bytes, 8),
        0x8_0000,
        "text_offset: the Pi's load address"
    );
    assert_eq!(&bytes[56..60], b"ARM\x64");
    // The ELF header at the link address, a page above the load address.
    assert_eq!(&bytes[0x1000..0x1004], b"\x7fELF");

    // Found by its text_offset without --machine, and with it.
    for options in [&[][..], &["--machine", "raspi4b"][..]] {
        let outcome = boot(&image, options, &[]);
        assert_eq!(
            outcome.stdout, "Hello, world!\n",
            "{options:?}: {outcome:?}"
        );
        assert_eq!(
            outcome.stderr, "",
            "{options:?}: QEMU's board warnings are dropped"
        );
        assert_eq!(outcome.status, 0);
    }

    // The ELF of the same program (--format elf) is recognised by its link address
    // and booted as its Image (the device tree then comes in x0).
    let elf_dir = scratch();
    let elf = build_image(
        "raspi4b",
        &["c/hello.c"],
        &["--format", "elf"],
        elf_dir.path(),
    );
    assert_eq!(&std::fs::read(&elf).expect("the ELF")[..4], b"\x7fELF");
    let outcome = boot(&elf, &[], &[]);
    assert_eq!(outcome.stdout, "Hello, world!\n", "{outcome:?}");
    assert_eq!(outcome.status, 0);
}

#[test]
fn the_raspberry_pi_4_boot_reads_its_device_tree() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_kernel8("c/hello.c", dir.path());
    let outcome = boot(&image, &["--verbose"], &[]);
    assert_eq!(outcome.status, 0, "{outcome:?}");
    // The board has one enabled PL011: the boot log shares the console with stdout.
    let log = &outcome.stdout;
    for expected in [
        // The firmware (and QEMU) enter at EL2 with the device tree in x0.
        "unik: boot: entered at EL2, device tree at 0x",
        "(from x0, ",
        // /soc's ranges translate the bus addresses 0x7e201000 and 0x40041000.
        "unik: console: PL011 at 0xfe201000\n",
        "unik: interrupt controller: GICv2 0xff841000-0xff842000 0xff842000-0xff844000",
        "unik: generic timer interrupts: 29 30 27 26\n",
        "unik: watchdog: BCM2835 PM at 0xfe100000\n",
        // RAM starts at 0 (QEMU fills /memory in); the image at the link address.
        "unik:   0x000000000000-0x",
        "unik: image 0x81000-",
        "Hello, world!\n",
    ] {
        assert!(log.contains(expected), "no {expected:?} in:\n{log}");
    }
}

#[test]
fn exit_statuses_and_arguments_on_the_raspberry_pi_4() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_kernel8("c/exit_status.c", dir.path());
    assert_exit_statuses_match_native(
        &image,
        &[],
        &[("return", 0), ("exit", 42), ("exit", 255), ("return", 1)],
        "raspi4b",
        dir.path(),
    );

    // The command line travels in /chosen/bootargs (QEMU -append).
    let image = build_kernel8("c/args.c", dir.path());
    assert_arguments_match_native(&image, &[], "raspi4b args", dir.path());

    let image = build_kernel8("c/env.c", dir.path());
    assert_environment_reaches_getenv(&image, &[]);
}

#[test]
fn threads_run_on_the_raspberry_pi_4_timer() {
    if !aarch64_tested() {
        return;
    }
    // Preemption and sleeping need the GIC-400 and the generic timer's interrupt.
    let dir = scratch();
    for fixture_name in ["c/threads_producer_consumer.c", "c/threads_counter.c"] {
        let image = build_kernel8(fixture_name, dir.path());
        let outcome = boot(&image, &[], &[]);
        let reference = native(&[fixture_name], &[], dir.path());
        assert_same_as_native(&outcome, &reference, fixture_name);
    }
}

#[test]
fn a_crash_on_the_raspberry_pi_4_is_reported() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_kernel8("c/crash_null.c", dir.path());
    let outcome = boot(&image, &[], &[]);
    assert_eq!(outcome.status, 139, "{outcome:?}");
    // One UART: the report follows the program's output on the console.
    assert!(outcome.stdout.starts_with("before\n"), "{outcome:?}");
    let report = outcome.stdout.to_lowercase();
    for part in [
        "data abort",
        "elr",
        "null pointer dereference",
        "address 0x0",
    ] {
        assert!(
            report.contains(part),
            "the report lacks {part:?}:\n{}",
            outcome.stdout
        );
    }
}

#[test]
fn u_boot_boots_an_arm64_image() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_arm64_image("c/hello.c", dir.path());
    let outcome = boot(&image, &["--machine", "uboot", "--verbose"], &[]);
    // U-Boot's own messages are dropped up to its "Starting kernel ..." line.
    assert_eq!(outcome.stdout, "Hello, world!\n", "{outcome:?}");
    assert_eq!(outcome.status, 0);
    assert!(
        outcome.stderr.contains(" -bios /") && outcome.stderr.contains("u-boot.bin"),
        "the QEMU line names U-Boot: {}",
        outcome.stderr
    );
    // booti passes its device tree in x0, and U-Boot enters the Image at EL1.
    assert!(
        outcome
            .stderr
            .contains("unik: boot: entered at EL1, device tree at 0x"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("(from x0, "), "{}", outcome.stderr);

    let uboot = ["--machine", "uboot"];
    let image = build_arm64_image("c/exit_status.c", dir.path());
    assert_exit_statuses_match_native(
        &image,
        &uboot,
        &[("exit", 42), ("return", 0)],
        "U-Boot",
        dir.path(),
    );

    // U-Boot's qfw load puts QEMU's -append into bootargs.
    let image = build_arm64_image("c/args.c", dir.path());
    assert_arguments_match_native(&image, &uboot, "U-Boot args", dir.path());

    let image = build_arm64_image("c/crash_null.c", dir.path());
    let outcome = boot(&image, &uboot, &[]);
    assert_eq!(outcome.stdout, "before\n", "{outcome:?}");
    assert_eq!(outcome.status, 139, "{outcome:?}");
    let report = outcome.stderr.to_lowercase();
    for part in ["data abort", "null pointer dereference", "address 0x0"] {
        assert!(
            report.contains(part),
            "the report lacks {part:?}:\n{}",
            outcome.stderr
        );
    }
}

#[test]
fn mismatched_machines_are_refused_with_the_reason() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    // Its own directory: build_arm64_image writes the same file name.
    let elf_dir = scratch();
    let elf = build_image("aarch64", &["c/hello.c"], &[], elf_dir.path());
    let kernel8 = build_kernel8("c/hello.c", dir.path());
    let virt_image = build_arm64_image("c/hello.c", dir.path());
    for (image, machine, expected) in [
        (
            &elf,
            "uboot",
            "unik: error: --machine uboot: U-Boot's booti takes a Linux arm64 Image, not an \
             ELF (build with unikcc --target aarch64 --format image)\n",
        ),
        (
            &kernel8,
            "uboot",
            "unik: error: --machine uboot: U-Boot boots aarch64 Images on QEMU virt; this \
             image is for the raspi4b target (build it with --target aarch64 --format image)\n",
        ),
        (
            &virt_image,
            "raspi4b",
            "unik: error: --machine raspi4b: this image is for the aarch64 target; the board \
             needs an image linked for it (unikcc --target raspi4b)\n",
        ),
        (
            &kernel8,
            "virt",
            "unik: error: --machine virt: this image is for the raspi4b board and runs only \
             on machine raspi4b (rebuild it for another target)\n",
        ),
    ] {
        let outcome = boot(image, &["--machine", machine], &[]);
        assert_eq!(outcome.stderr, expected, "{machine}: {outcome:?}");
        assert_eq!(outcome.stdout, "");
        assert_eq!(
            outcome.status, 125,
            "{machine}: unik run's own error status"
        );
    }
}

#[test]
fn without_semihosting_the_board_prints_the_status_and_halts() {
    if !aarch64_tested() {
        return;
    }
    // As on a real Pi 4: no semihosting, so the exit prints its status on the console
    // and halts the board through the power-management watchdog (boot partition 63),
    // which QEMU raspi4b models by shutting down: QEMU ends by itself, status 0.
    let dir = scratch();
    let image = build_kernel8("c/exit_status.c", dir.path());
    let dtb_dir = std::env::var_os("UNIK_DTB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/local/share/unik/dtbs"));
    let outcome = run_command(
        std::process::Command::new("timeout")
            .arg(GUEST_TIMEOUT_SECONDS.to_string())
            .args([
                "qemu-system-aarch64",
                "-M",
                "raspi4b",
                "-cpu",
                "cortex-a72",
                "-m",
                "2G",
            ])
            .args(["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"])
            .arg("-kernel")
            .arg(&image)
            .arg("-dtb")
            .arg(dtb_dir.join("bcm2711-rpi-4-b.dtb"))
            .args(["-append", "-- app exit 42", "-serial", "stdio"]),
    );
    assert_eq!(outcome.status, 0, "QEMU shut down by itself: {outcome:?}");
    assert!(
        outcome.stdout.ends_with("unik: exit status 42\n"),
        "{outcome:?}"
    );
    assert!(outcome.stdout.starts_with("leaving with 42"), "{outcome:?}");
}

#[test]
fn a_rust_std_program_runs_on_the_raspberry_pi_4() {
    if !aarch64_tested() {
        return;
    }
    // cargo unik links for the board and writes its kernel8.img. A target directory
    // of its own: the aarch64 builds share the triple.
    let target_directory = repository().join("target").join("rust-fixtures-raspi4b");
    // A fresh link each run (cargo does not relink when only cargo-unik changed).
    let _ = std::fs::remove_dir_all(&target_directory);
    let outcome = run_command(
        std::process::Command::new(env!("CARGO_BIN_EXE_cargo-unik"))
            .args([
                "unik",
                "run",
                "--locked",
                "--release",
                "--target",
                "raspi4b",
            ])
            .args(["--bin", "args_env", "--env", "GREETING=from the Pi"])
            .arg("--manifest-path")
            .arg(repository().join("fixtures/rust/std-programs/Cargo.toml"))
            .args(["--", "one"])
            .env("CARGO_TARGET_DIR", &target_directory),
    );
    assert_eq!(outcome.status, 0, "{}", outcome.stderr);
    assert_eq!(
        outcome.stdout,
        "arg 0: one\nGREETING=from the Pi\nUNSET_VARIABLE: environment variable not found\n\
         GREETING appears 1 time(s)\n"
    );
    let image = target_directory.join("aarch64-unknown-linux-gnu/release/args_env");
    let bytes = std::fs::read(&image).expect("the image");
    assert_eq!(&bytes[56..60], b"ARM\x64", "a kernel8.img");
    assert_eq!(word(&bytes, 8), 0x8_0000, "text_offset");
}
