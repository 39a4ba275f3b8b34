//! `unikcc --format image`: the Linux arm64 Image variant of an aarch64 image
//! (driver/src/image_format.rs), booted by `unik run` (QEMU's `-kernel` loads it as a
//! Linux Image: the device tree's address in x0, the Image at RAM base + text_offset).
//! The same programs as the ELF tests, with the same results; and the x86_64 refusal.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Whether the aarch64 target is among the ones this run tests.
fn aarch64_tested() -> bool {
    targets().contains(&"aarch64")
}

/// Compiles one C fixture for aarch64 with `--format image`.
fn build_arm64_image(source: &str, dir: &Path) -> PathBuf {
    let stem = Path::new(source)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("app");
    let image = dir.join(format!("{stem}.Image"));
    let outcome = run_command(
        unikcc()
            .args(["--target", "aarch64", "--format", "image", "-O2"])
            .arg(fixture(source))
            .arg("-o")
            .arg(&image),
    );
    assert_eq!(
        outcome.status, 0,
        "unikcc --format image failed:\n{}",
        outcome.stderr
    );
    image
}

fn header_word(bytes: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(bytes[offset..offset + 8].try_into().expect("8 bytes"))
}

#[test]
fn hello_boots_from_an_arm64_image_with_a_clean_console() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_arm64_image("c/hello.c", dir.path());
    let bytes = std::fs::read(&image).expect("the Image");
    // booting.rst: magic at 56, text_offset at 8, image_size at 16, flags at 24.
    assert_eq!(&bytes[56..60], b"ARM\x64");
    assert_eq!(header_word(&bytes, 8), 0x1f_ffc0, "text_offset");
    assert_eq!(header_word(&bytes, 24), 0b010, "flags: LE, 4 KiB pages");
    assert!(
        header_word(&bytes, 16) >= bytes.len() as u64,
        "image_size covers .bss"
    );
    // The ELF header follows the Image header: the image's own view of itself
    // (__ehdr_start) is the same in both formats.
    assert_eq!(&bytes[64..68], b"\x7fELF");

    let outcome = boot(&image, &[], &[]);
    assert_eq!(outcome.stdout, "Hello, world!\n", "{outcome:?}");
    assert_eq!(outcome.stderr, "", "the runtime must print nothing");
    assert_eq!(outcome.status, 0);
}

#[test]
fn exit_statuses_from_an_arm64_image_match_native() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_arm64_image("c/exit_status.c", dir.path());
    assert_exit_statuses_match_native(
        &image,
        &[],
        &[("return", 0), ("exit", 42), ("exit", 255), ("return", 1)],
        "Image",
        dir.path(),
    );
}

#[test]
fn arguments_and_environment_reach_main_from_an_arm64_image() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_arm64_image("c/args.c", dir.path());
    assert_arguments_match_native(&image, &[], "Image args", dir.path());

    let image = build_arm64_image("c/env.c", dir.path());
    assert_environment_reaches_getenv(&image, &[]);
}

#[test]
fn program_headers_read_the_same_in_both_formats() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let elf = build_image("aarch64", &["c/program_headers.c"], &[], dir.path());
    let image = build_arm64_image("c/program_headers.c", dir.path());
    let from_elf = boot(&elf, &[], &[]);
    let from_image = boot(&image, &[], &[]);
    assert_eq!(from_elf.status, 0, "{from_elf:?}");
    assert_eq!(
        from_elf.stdout,
        "entry size 56\n\
         loadable segments 3, headers inside one: yes\n\
         ELF magic before them: yes\n\
         dl_iterate_phdr: 1, same headers: yes, same count: yes\n"
    );
    assert_eq!(from_image.stdout, from_elf.stdout, "{from_image:?}");
    assert_eq!(from_image.status, 0);
}

#[test]
fn the_image_is_reproducible() {
    if !aarch64_tested() {
        return;
    }
    let first = scratch();
    let second = scratch();
    let a = std::fs::read(build_arm64_image("c/hello.c", first.path())).expect("first");
    let b = std::fs::read(build_arm64_image("c/hello.c", second.path())).expect("second");
    assert!(a == b, "two builds of one program differ");
}

#[test]
fn x86_64_refuses_the_arm64_image_format() {
    let dir = scratch();
    let output = dir.path().join("hello.img");
    let outcome = run_command(
        unikcc()
            .args(["--target", "x86_64", "--format", "image"])
            .arg(fixture("c/hello.c"))
            .arg("-o")
            .arg(&output),
    );
    assert_eq!(outcome.status, 1, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        "unikcc: error: --format image: the Linux arm64 Image format is for aarch64 \
         images, not x86_64 (an x86_64 image boots as an ELF: drop --format, or use \
         --target aarch64)\n"
    );
    assert!(!output.exists(), "nothing is written");

    let outcome = run_command(
        unikcc()
            .args(["--format", "bzimage"])
            .arg(fixture("c/hello.c"))
            .arg("-o")
            .arg(&output),
    );
    assert_eq!(outcome.status, 1, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        "unikcc: error: --format: unknown format `bzimage` (expected elf or image)\n"
    );
}

#[test]
fn an_arm64_image_boots_at_el2_and_el1_with_the_device_tree_in_x0() {
    if !aarch64_tested() {
        return;
    }
    let dir = scratch();
    let image = build_arm64_image("c/hello.c", dir.path());
    // booting.rst: the loader passes the device tree's address in x0 and may enter at
    // EL2 (QEMU does with virtualization=on) or EL1; the boot log says which.
    for (machine, level) in [("virt", "EL1"), ("virt,virtualization=on", "EL2")] {
        let outcome = boot(&image, &["--machine", machine, "--verbose"], &[]);
        assert_eq!(outcome.stdout, "Hello, world!\n", "{machine}: {outcome:?}");
        assert_eq!(outcome.status, 0, "{machine}");
        let boot_line = outcome
            .stderr
            .lines()
            .find(|line| line.starts_with("unik: boot: "))
            .unwrap_or_else(|| panic!("{machine}: no boot line in {outcome:?}"));
        assert!(
            boot_line.starts_with(&format!(
                "unik: boot: entered at {level}, device tree at 0x"
            )) && boot_line.contains("(from x0, "),
            "{machine}: {boot_line}"
        );
    }
}
