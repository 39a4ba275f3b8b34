//! ASLR (runtime/kernel/src/aslr.rs): the image, heap and stack move at every boot,
//! `unik run --no-aslr` keeps them put, the image file itself stays reproducible, an
//! image the runtime could not relocate is refused at link time, a pointer at an
//! unaligned address (left in `.rela.dyn`, not `.relr.dyn`) moves too, and crash
//! reports say where the image runs.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{boot, build_image, run_command, scratch, targets, unikcc};

const BOOTS: usize = 20;
const KINDS: [&str; 4] = ["function", "global", "heap", "stack"];

/// The four addresses one boot prints.
fn addresses(image: &std::path::Path, options: &[&str]) -> BTreeMap<String, String> {
    let outcome = boot(image, options, &[]);
    assert_eq!(outcome.status, 0, "{outcome:?}");
    let printed: BTreeMap<String, String> = outcome
        .stdout
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(kind, address)| (kind.to_string(), address.to_string()))
        .collect();
    for kind in KINDS {
        assert!(printed.contains_key(kind), "no {kind} line: {outcome:?}");
    }
    printed
}

#[test]
fn addresses_differ_from_boot_to_boot_and_not_with_no_aslr() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/aslr_addresses.c"], &[], dir.path());
        let mut seen: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for _ in 0..BOOTS {
            let printed = addresses(&image, &[]);
            for kind in KINDS {
                seen.entry(kind).or_default().insert(printed[kind].clone());
            }
        }
        for kind in KINDS {
            let distinct = seen[kind].len();
            // The observed entropy: log2 of the distinct values among the boots (at
            // most log2(20) = 4.3 bits can show in 20 boots).
            println!(
                "{target}: {kind}: {distinct} distinct addresses in {BOOTS} boots \
                 ({:.1} bits observed)",
                (distinct as f64).log2()
            );
            assert!(
                distinct >= 15,
                "{target}: the {kind} address took only {distinct} values in {BOOTS} boots: {:?}",
                seen[kind]
            );
        }

        let first = addresses(&image, &["--no-aslr"]);
        for _ in 0..3 {
            assert_eq!(addresses(&image, &["--no-aslr"]), first, "{target}");
        }
    }
}

#[test]
fn two_builds_are_byte_identical() {
    let dir = scratch();
    for target in targets() {
        let first = build_image(target, &["c/aslr_addresses.c"], &[], dir.path());
        let first_bytes = std::fs::read(&first).expect("the first image");
        let second = build_image(target, &["c/aslr_addresses.c"], &[], dir.path());
        assert_eq!(
            first_bytes,
            std::fs::read(&second).expect("the second image"),
            "{target}"
        );
    }
}

#[test]
fn a_relocation_other_than_relative_is_refused() {
    let dir = scratch();
    for target in targets() {
        let image = dir.path().join(format!("ifunc-{target}.img"));
        let outcome = run_command(
            unikcc()
                .arg("--target")
                .arg(target)
                .arg(common::fixture("c/aslr_ifunc.c"))
                .arg("-o")
                .arg(&image),
        );
        assert_eq!(outcome.status, 1, "{outcome:?}");
        let kind = match target {
            "x86_64" => "R_X86_64_IRELATIVE",
            _ => "R_AARCH64_IRELATIVE",
        };
        let expected = format!(
            "unikcc: error: {}: dynamic relocation {kind} against `answer` at ",
            image.display()
        );
        // (A first build of the sysroot may print its progress line before.)
        assert!(
            outcome
                .stderr
                .lines()
                .any(|line| line.starts_with(&expected)),
            "{outcome:?}"
        );
        assert!(
            outcome
                .stderr
                .contains("the runtime moves the image at boot (ASLR) applying only RELATIVE"),
            "{outcome:?}"
        );
        assert!(!image.exists(), "a refused link left {image:?}");
    }
}

#[test]
fn a_crash_report_prints_the_image_base() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/crash_null.c"], &[], dir.path());
        let link_address = match target {
            "x86_64" => "0x100000",
            _ => "0x40200000",
        };
        let outcome = boot(&image, &[], &[]);
        assert_eq!(outcome.status, 139, "{outcome:?}");
        let line = outcome
            .stderr
            .lines()
            .find(|line| line.trim_start().starts_with("image base 0x"))
            .unwrap_or_else(|| panic!("no image base line: {outcome:?}"));
        assert!(
            line.ends_with(&format!("(linked at {link_address})")),
            "{line}"
        );
        assert!(!line.contains(&format!("base {link_address} ")), "{line}");

        let outcome = boot(&image, &["--no-aslr"], &[]);
        assert!(
            outcome.stderr.contains(&format!(
                "  image base {link_address} (linked at {link_address})\n"
            )),
            "{outcome:?}"
        );
    }
}

#[test]
fn without_a_hardware_random_source_the_image_stays_put_and_stdout_clean() {
    // QEMU's raspi4b is a Cortex-A72: no RNDR. Its one UART carries stdout and stderr,
    // so the warning shows only with --verbose.
    if !targets().contains(&"aarch64") {
        return;
    }
    let dir = scratch();
    let image = build_image("raspi4b", &["c/aslr_addresses.c"], &[], dir.path());
    let options = ["--machine", "raspi4b"];
    let first = addresses(&image, &options);
    assert_eq!(addresses(&image, &options), first);
    let outcome = boot(&image, &options, &[]);
    assert_eq!(outcome.stdout.lines().count(), KINDS.len(), "{outcome:?}");

    let outcome = boot(&image, &["--machine", "raspi4b", "--verbose"], &[]);
    let log = format!("{}{}", outcome.stdout, outcome.stderr);
    assert!(
        log.contains(
            "unik: warning: the CPU has no random number instruction (RDRAND / RNDR): \
             the image, heap and stack are not randomized (no ASLR)\n"
        ),
        "{outcome:?}"
    );
    assert!(
        log.contains("unik: aslr: off, image base 0x"),
        "{outcome:?}"
    );
}

#[test]
fn a_pointer_at_an_unaligned_address_is_relocated_and_grub_refuses_the_image() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/aslr_packed_pointer.c"], &[], dir.path());
        for options in [&[][..], &["--no-aslr"][..]] {
            let outcome = boot(&image, options, &[]);
            assert_eq!(outcome.status, 0, "{target} {options:?}: {outcome:?}");
            assert_eq!(outcome.stdout, "same 42\n", "{target} {options:?}");
        }
        if target != "x86_64" {
            continue;
        }
        let outcome = run_command(
            common::unik()
                .arg("iso")
                .arg("-o")
                .arg(dir.path().join("packed.iso"))
                .arg(&image),
        );
        assert_eq!(outcome.status, 125, "{outcome:?}");
        let address = format!("{:#x}", symbol_address(&image, "packed") + 1);
        assert_eq!(
            outcome.stderr,
            format!(
                "unik: error: {}: GRUB's Multiboot2 loader refuses ELF files with a \
                 relocation section, and this image has `.rela.dyn` (a pointer at an \
                 unaligned address, as in a packed struct: {address} in `packed`); align \
                 those pointers, or boot the image through PVH (unik run without --machine)\n",
                image.display()
            )
        );
    }
}

/// The `.symtab` value of `name` in the image.
fn symbol_address(image: &std::path::Path, name: &str) -> u64 {
    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(image).expect("the image");
    let file = object::File::parse(bytes.as_slice()).expect("an ELF image");
    file.symbols()
        .find(|symbol| symbol.name() == Ok(name))
        .unwrap_or_else(|| panic!("no {name} in {image:?}"))
        .address()
}
