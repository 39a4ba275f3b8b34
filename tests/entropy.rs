//! Randomness everywhere, failing closed, booted on every target: the virtio-rng device
//! (`unik run --rng`) as the generator's seed source on a CPU without RDRAND/RDSEED or
//! RNDR; `/dev/null`, `/dev/zero`, `/dev/random` and `/dev/urandom` against Linux's;
//! the network stack refusing to start without a random seed.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn random_sources_image(target: &str, dir: &Path) -> PathBuf {
    build_image(target, &["c/random_sources.c"], &[], dir)
}

/// What the boot says first on such a CPU: ASLR draws its bits before any device
/// driver runs, so a virtio-rng device cannot stand in for it.
const NO_ASLR_WARNING: &str = "unik: warning: the CPU has no random number instruction (RDRAND / RNDR): the image, heap and stack are not randomized (no ASLR)\n";
const NO_SOURCE_MESSAGE: &str = "unik: sockets need random numbers (TCP sequence numbers, ports) and there is no random source: the CPU has no random number instruction (RDRAND/RDSEED, RNDR) and there is no virtio-rng device (`unik run --rng` adds one); socket calls fail with EIO\n";

#[test]
fn virtio_rng_seeds_the_generator_on_a_cpu_without_a_random_instruction() {
    for target in targets() {
        let dir = scratch();
        let image = random_sources_image(target, dir.path());
        let cpu = cpu_without_random_instruction(target);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let outcome = boot(&image, &["--rng", "--cpu", cpu], &["bytes"]);
            assert_eq!(outcome.status, 0, "{target}: {outcome:?}");
            let line = outcome.stdout.trim_end().to_string();
            assert!(
                line.len() == 32 && line.bytes().all(|byte| byte.is_ascii_hexdigit()),
                "{target}: {outcome:?}"
            );
            seen.push(line);
        }
        assert_ne!(seen[0], seen[1], "{target}: two boots gave the same bytes");
        let outcome = boot(&image, &["--rng", "--cpu", cpu], &["devices"]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            (
                "/dev/urandom: 32 bytes\n/dev/urandom (O_NONBLOCK): 32 bytes\n\
                 /dev/random: 32 bytes\n/dev/random (O_NONBLOCK): 32 bytes\n\
                 poll /dev/urandom: readable\n",
                0
            ),
            "{target}: {outcome:?}"
        );
        // Without the device the same CPU fails closed.
        let outcome = boot(&image, &["--cpu", cpu], &["bytes"]);
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            ("getrandom: Resource temporarily unavailable\n", 0),
            "{target}: {outcome:?}"
        );
    }
}

#[test]
fn the_random_devices_fail_closed_without_a_source() {
    for target in targets() {
        let dir = scratch();
        let image = random_sources_image(target, dir.path());
        let outcome = boot(
            &image,
            &["--cpu", cpu_without_random_instruction(target)],
            &["devices"],
        );
        // Linux blocks a blocking read until its pool is seeded, which here is never:
        // EIO instead; O_NONBLOCK gets Linux's EAGAIN, and poll never says readable.
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            (
                "/dev/urandom: Input/output error\n\
                 /dev/urandom (O_NONBLOCK): Resource temporarily unavailable\n\
                 /dev/random: Input/output error\n\
                 /dev/random (O_NONBLOCK): Resource temporarily unavailable\n\
                 poll /dev/urandom: not readable\n",
                0
            ),
            "{target}: {outcome:?}"
        );
    }
}

#[test]
fn dev_has_linuxs_character_devices() {
    let dir = scratch();
    let native = native(&["c/files_devices.c"], &[], dir.path());
    assert_eq!(native.status, 0, "native: {}", native.stderr);
    for target in targets() {
        let image = build_image(target, &["c/files_devices.c"], &[], dir.path());
        let outcome = boot(&image, &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("files_devices on {target}"));
    }
}

#[test]
fn sockets_fail_closed_without_a_random_source() {
    for target in targets() {
        let dir = scratch();
        let image = random_sources_image(target, dir.path());
        let cpu = cpu_without_random_instruction(target);
        let failed = "first TCP socket: Input/output error\n\
                      second TCP socket: Input/output error\n\
                      UDP socket: Input/output error\n";
        // The loopback stack (no device) and the virtio-net one alike; the cause is
        // named once, however many calls fail.
        let outcome = boot(&image, &["--cpu", cpu], &["sockets"]);
        assert_eq!(
            (
                outcome.stdout.as_str(),
                outcome.stderr.as_str(),
                outcome.status
            ),
            (
                failed,
                format!("{NO_ASLR_WARNING}{NO_SOURCE_MESSAGE}").as_str(),
                0
            ),
            "{target}"
        );
        let outcome = boot(&image, &["--net", "user", "--cpu", cpu], &["sockets"]);
        let hint = format!(
            "unik run: hint: the CPU `{cpu}` has no random number instruction, so the guest's sockets will fail (no seed for TCP sequence numbers and ports); add --rng to give it a virtio-rng device\n"
        );
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            (failed, 0),
            "{target}: {outcome:?}"
        );
        assert_eq!(
            outcome.stderr,
            format!("{hint}{NO_ASLR_WARNING}{NO_SOURCE_MESSAGE}"),
            "{target}"
        );
        // The device gives the stack its seed.
        let opened = "first TCP socket: ok\nsecond TCP socket: ok\nUDP socket: ok\n";
        let outcome = boot(
            &image,
            &["--net", "user", "--rng", "--cpu", cpu],
            &["sockets"],
        );
        assert_eq!(
            (
                outcome.stdout.as_str(),
                outcome.stderr.as_str(),
                outcome.status
            ),
            (opened, NO_ASLR_WARNING, 0),
            "{target}"
        );
    }
}

#[test]
fn rust_std_hash_map_works_with_virtio_rng() {
    for target in targets() {
        let image = std_program_image(target, "collections");
        let with_instruction = boot(&image, &[], &[]);
        assert_eq!(with_instruction.status, 0, "{target}: {with_instruction:?}");
        // std's HashMap keys come from getrandom (a system call): the device seeds them.
        let outcome = boot(
            &image,
            &["--rng", "--cpu", cpu_without_random_instruction(target)],
            &[],
        );
        assert_eq!(
            (outcome.stdout.as_str(), outcome.status),
            (with_instruction.stdout.as_str(), 0),
            "{target}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn at_random_comes_from_the_cpu_and_is_absent_without_it() {
    for target in targets() {
        let dir = scratch();
        let image = random_sources_image(target, dir.path());
        let mut seen = Vec::new();
        for _ in 0..2 {
            let outcome = boot(&image, &[], &["auxv"]);
            assert_eq!(outcome.status, 0, "{target}: {outcome:?}");
            let lines: Vec<&str> = outcome.stdout.lines().collect();
            assert!(
                lines.len() == 2
                    && lines[0].len() == 32
                    && lines[0].bytes().all(|byte| byte.is_ascii_hexdigit()),
                "{target}: {outcome:?}"
            );
            assert_eq!(lines[0], lines[1], "{target}: the bytes are drawn once");
            seen.push(lines[0].to_string());
        }
        assert_ne!(seen[0], seen[1], "{target}: two boots gave the same bytes");
        // Drawn straight from the instruction: without it the entry is absent (glibc's
        // answer for a missing entry), with or without a virtio-rng device.
        let cpu = cpu_without_random_instruction(target);
        for options in [&["--cpu", cpu][..], &["--rng", "--cpu", cpu]] {
            let outcome = boot(&image, options, &["auxv"]);
            assert_eq!(
                (outcome.stdout.as_str(), outcome.status),
                (
                    "AT_RANDOM: No such file or directory\n\
                     AT_RANDOM: No such file or directory\n",
                    0
                ),
                "{target} {options:?}: {outcome:?}"
            );
        }
    }
}

/// Whether the image's symbol table has a symbol of the ChaCha20 generator.
fn has_chacha20(image: &Path) -> bool {
    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(image).expect("the image is readable");
    let file = object::File::parse(bytes.as_slice()).expect("the image is an ELF file");
    file.symbols()
        .any(|symbol| symbol.name().is_ok_and(|name| name.contains("chacha20")))
}

#[test]
fn the_chacha20_generator_is_linked_only_with_a_random_consumer() {
    // The boot's draws (canary, heap secret, ASLR, AT_RANDOM) take the CPU's
    // instruction directly: a program that draws no stream carries no generator.
    for target in targets() {
        let dir = scratch();
        let hello = build_image(target, &["c/hello.c"], &[], dir.path());
        assert!(!has_chacha20(&hello), "{target}: hello links ChaCha20");
        let consumer = random_sources_image(target, dir.path());
        assert!(
            has_chacha20(&consumer),
            "{target}: getrandom without ChaCha20"
        );
    }
}

#[test]
fn the_virtio_rng_driver_is_linked_only_with_a_random_consumer() {
    assert_linked_only_when_used(
        "rng-virtio",
        &[
            ("c/hello.c", false),
            ("c/threads_counter.c", false),
            ("c/random_sources.c", true),
            ("c/files_devices.c", true),
        ],
    );
}

#[test]
fn rng_needs_a_machine_with_virtio_mmio() {
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    let outcome = run_command(
        unik()
            .args(["run", "--rng", "--machine", "q35"])
            .arg(&image),
    );
    assert_eq!(
        (outcome.stderr.as_str(), outcome.status),
        (
            "unik: error: --rng: the q35 machine has no virtio-mmio transports (virtio-rng works on microvm, the default, and on aarch64 virt)\n",
            125
        )
    );
}
