//! `unik run --initrd ARCHIVE`: a cpio newc archive made on the host by Debian's `cpio
//! -o -H newc` is unpacked at `/` before `main` (x86_64: the PVH module; aarch64: the
//! device tree's `linux,initrd-start`/`-end`), walked and checksummed against the
//! host's walk of the same directory; layered over an embedded `--fs` tree (later
//! wins, directories merge); read by a Rust `std::fs` program through `cargo unik run
//! --initrd`; and refused with a clear message when it is missing, not a newc
//! archive, or damaged.
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// Packs `tree` as Linux's initramfs tools do: `find . | cpio -o -H newc`, in sorted
/// order so parents come first.
fn pack(tree: &Path, archive: &Path) {
    let mut find = Command::new("sh");
    find.arg("-c")
        .arg("find . | LC_ALL=C sort | cpio -o -H newc --quiet")
        .current_dir(tree)
        .stdout(Stdio::from(std::fs::File::create(archive).unwrap()));
    let outcome = run_command(&mut find);
    assert_eq!(outcome.status, 0, "cpio failed: {}", outcome.stderr);
}

/// `gzip -9 -n` of `input` (no name or time stamp in the header).
fn gzip(input: &Path) -> Vec<u8> {
    let output = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(input)
        .output()
        .unwrap();
    assert!(output.status.success(), "gzip failed");
    output.stdout
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A tree with nested directories, a binary file, modes git would not keep, a link
/// that resolves and one that dangles, a hard link, and an empty directory.
fn make_tree(root: &Path) {
    for directory in ["etc/app/conf.d", "data/deep/er/still", "empty"] {
        std::fs::create_dir_all(root.join(directory)).unwrap();
    }
    std::fs::write(root.join("readme.txt"), "from the initrd\n").unwrap();
    std::fs::write(root.join("etc/app/app.toml"), "name = \"initrd\"\n").unwrap();
    std::fs::write(root.join("etc/app/conf.d/10-local.toml"), "level = 3\n").unwrap();
    std::fs::write(
        root.join("data/deep/er/still/blob.bin"),
        random_bytes(200_003, 0x9e37_79b9_7f4a_7c15),
    )
    .unwrap();
    std::fs::write(root.join("data/secret"), "owner only\n").unwrap();
    symlink("app/app.toml", root.join("etc/config")).unwrap();
    // A hard link: cpio stores the data once, with the last of the two names.
    std::fs::hard_link(root.join("readme.txt"), root.join("data/readme-link.txt")).unwrap();
    symlink("missing", root.join("dangling")).unwrap();
    for (path, mode) in [
        ("readme.txt", 0o644),
        ("etc/app/app.toml", 0o644),
        ("etc/app/conf.d/10-local.toml", 0o444),
        ("data/deep/er/still/blob.bin", 0o755),
        ("data/secret", 0o600),
        ("etc/app", 0o750),
        ("etc", 0o755),
        ("etc/app/conf.d", 0o755),
        ("data", 0o755),
        ("data/deep", 0o711),
        ("data/deep/er", 0o755),
        ("data/deep/er/still", 0o755),
        ("empty", 0o755),
    ] {
        set_mode(&root.join(path), mode);
    }
}

#[test]
fn the_initrd_tree_matches_the_host_checksums() {
    let dir = scratch();
    let tree = dir.path().join("tree");
    make_tree(&tree);
    let archive = dir.path().join("tree.cpio");
    pack(&tree, &archive);
    let images: Vec<_> = targets()
        .into_iter()
        .map(|target| {
            (
                target,
                build_image(target, &["c/files_tree.c"], &[], dir.path()),
            )
        })
        .collect();
    // Natively last: the run appends to readme.txt.
    let tree_text = tree.to_str().unwrap();
    let native = native(&["c/files_tree.c"], &[tree_text, "readme.txt"], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    for line in [
        format!("dir  {:<32} 0711", "data/deep"),
        format!("file {:<32} 0600", "data/secret"),
        format!("file {:<32} 0444", "etc/app/conf.d/10-local.toml"),
        format!("link {:<32} -> app/app.toml (resolves)", "etc/config"),
        format!("link {:<32} -> missing (dangling)", "dangling"),
        format!("dir  {:<32} 0755", "empty"),
    ] {
        assert!(native.stdout.contains(&line), "{line}\n{}", native.stdout);
    }
    let archive_text = archive.to_str().unwrap();
    for (target, image) in images {
        let outcome = boot(&image, &["--initrd", archive_text], &["/", "readme.txt"]);
        assert_same_as_native(&outcome, &native, &format!("initrd tree on {target}"));
    }
}

/// The other aarch64 boot paths take the initrd too: an arm64 Image booted directly
/// (QEMU writes the device tree properties), through U-Boot's booti (`--machine
/// uboot`: U-Boot writes them), and the Raspberry Pi 4's kernel8.img (QEMU raspi4b).
#[test]
fn the_initrd_reaches_images_u_boot_and_the_raspberry_pi() {
    if !targets().contains(&"aarch64") {
        return;
    }
    let dir = scratch();
    let tree = dir.path().join("tree");
    make_tree(&tree);
    let archive = dir.path().join("tree.cpio");
    pack(&tree, &archive);
    let native = native(&["c/files_tree.c"], &[tree.to_str().unwrap()], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    let image = build_image(
        "aarch64",
        &["c/files_tree.c"],
        &["--format", "image"],
        dir.path(),
    );
    let kernel8 = build_image("raspi4b", &["c/files_tree.c"], &[], dir.path());
    let archive_text = archive.to_str().unwrap();
    for (what, file, machine) in [
        ("arm64 Image", &image, &[][..]),
        ("U-Boot", &image, &["--machine", "uboot"][..]),
        ("Raspberry Pi 4", &kernel8, &[][..]),
    ] {
        let mut options = machine.to_vec();
        options.extend(["--initrd", archive_text]);
        let outcome = boot(file, &options, &["/"]);
        assert_same_as_native(&outcome, &native, &format!("initrd through {what}"));
    }
}

#[test]
fn the_initrd_is_layered_over_the_embedded_tree() {
    let dir = scratch();
    // Embedded: a file the initrd replaces, a file it replaces with a link, a directory
    // both have (the initrd's mode wins, the contents merge), a file only it has.
    let embedded = dir.path().join("embedded");
    std::fs::create_dir_all(embedded.join("etc")).unwrap();
    std::fs::write(embedded.join("shared.txt"), "embedded version\n").unwrap();
    std::fs::write(embedded.join("becomes-link"), "embedded file\n").unwrap();
    std::fs::write(embedded.join("etc/embedded.conf"), "a = 1\n").unwrap();
    std::fs::write(embedded.join("only-embedded.txt"), "kept\n").unwrap();
    let initrd = dir.path().join("initrd");
    std::fs::create_dir_all(initrd.join("etc")).unwrap();
    std::fs::write(initrd.join("shared.txt"), "initrd version, longer\n").unwrap();
    symlink("shared.txt", initrd.join("becomes-link")).unwrap();
    std::fs::write(initrd.join("etc/initrd.conf"), "b = 2\n").unwrap();
    std::fs::write(initrd.join("only-initrd.txt"), "added\n").unwrap();
    for root in [&embedded, &initrd] {
        for entry in ["shared.txt", "etc/embedded.conf", "etc/initrd.conf"] {
            if root.join(entry).exists() {
                set_mode(&root.join(entry), 0o644);
            }
        }
        set_mode(root, 0o755);
    }
    set_mode(&embedded.join("etc"), 0o755);
    set_mode(&initrd.join("etc"), 0o700);
    for file in ["becomes-link", "only-embedded.txt"] {
        set_mode(&embedded.join(file), 0o644);
    }
    set_mode(&initrd.join("only-initrd.txt"), 0o640);
    let archive = dir.path().join("initrd.cpio");
    pack(&initrd, &archive);
    // The host's picture of the result: the embedded tree with the initrd copied over.
    let merged = dir.path().join("merged");
    copy_tree_over(&embedded, &merged);
    copy_tree_over(&initrd, &merged);
    let native = native(&["c/files_tree.c"], &[merged.to_str().unwrap()], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    for line in [
        format!("dir  {:<32} 0700", "etc"),
        format!("file {:<32} 0644 {:>8}", "etc/embedded.conf", 6),
        format!("file {:<32} 0644 {:>8}", "shared.txt", 23),
        format!("link {:<32} -> shared.txt (resolves)", "becomes-link"),
        format!("file {:<32} 0640", "only-initrd.txt"),
        format!("file {:<32} 0644", "only-embedded.txt"),
    ] {
        assert!(native.stdout.contains(&line), "{line}\n{}", native.stdout);
    }
    for target in targets() {
        let image = build_image(
            target,
            &["c/files_tree.c"],
            &["--fs", embedded.to_str().unwrap()],
            dir.path(),
        );
        let outcome = boot(&image, &["--initrd", archive.to_str().unwrap()], &["/"]);
        assert_same_as_native(&outcome, &native, &format!("--fs + --initrd on {target}"));
    }
}

#[test]
fn a_gzip_compressed_initrd_of_two_members_is_inflated() {
    let dir = scratch();
    let tree = dir.path().join("tree");
    make_tree(&tree);
    let more = dir.path().join("more");
    std::fs::create_dir_all(more.join("etc/app")).unwrap();
    std::fs::write(more.join("etc/app/app.toml"), "name = \"second member\"\n").unwrap();
    std::fs::write(more.join("added.txt"), "from the second member\n").unwrap();
    set_mode(&more, 0o755);
    set_mode(&more.join("etc"), 0o755);
    set_mode(&more.join("etc/app"), 0o750);
    set_mode(&more.join("etc/app/app.toml"), 0o644);
    set_mode(&more.join("added.txt"), 0o644);
    // Two archives, each gzipped, concatenated: as initramfs tools append an archive.
    let first = dir.path().join("first.cpio");
    let second = dir.path().join("second.cpio");
    pack(&tree, &first);
    pack(&more, &second);
    let mut compressed = gzip(&first);
    compressed.extend(gzip(&second));
    let archive = dir.path().join("tree.cpio.gz");
    std::fs::write(&archive, &compressed).unwrap();
    let merged = dir.path().join("merged");
    copy_tree_over(&tree, &merged);
    copy_tree_over(&more, &merged);
    let native = native(&["c/files_tree.c"], &[merged.to_str().unwrap()], dir.path());
    assert_eq!(native.status, 0, "{}", native.stderr);
    assert!(native.stdout.contains("added.txt"), "{}", native.stdout);
    // The CRC of the first member damaged: refused with the member's offset.
    let mut damaged = compressed.clone();
    let first_length = gzip(&first).len();
    damaged[first_length - 8] ^= 0x55;
    let damaged_archive = dir.path().join("damaged.cpio.gz");
    std::fs::write(&damaged_archive, &damaged).unwrap();
    for target in targets() {
        let image = build_image(target, &["c/files_tree.c"], &[], dir.path());
        let outcome = boot(&image, &["--initrd", archive.to_str().unwrap()], &["/"]);
        assert_same_as_native(&outcome, &native, &format!("gzip initrd on {target}"));
        let outcome = boot(
            &image,
            &["--initrd", damaged_archive.to_str().unwrap()],
            &["/"],
        );
        assert_eq!(outcome.status, 1, "{target}: {outcome:?}");
        assert_eq!(
            outcome.stderr, "unik: fatal: initrd: bad gzip stream at byte 0: CRC-32 mismatch\n",
            "{target}"
        );
    }
}

/// The MiB `out_of_memory.c` could allocate in one boot.
fn allocatable_mebibytes(outcome: &Outcome) -> usize {
    let line = outcome
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("malloc returned NULL after "))
        .unwrap_or_else(|| panic!("no count in {outcome:?}"));
    line.split(' ').next().unwrap().parse().unwrap()
}

/// QEMU virt puts the initrd in the middle of RAM (64 MiB into 128 MiB): the allocator
/// gets the RAM on both sides of it, so the program loses only the archive's pages.
#[test]
fn the_initrd_costs_the_heap_only_its_own_pages() {
    let dir = scratch();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("one-mebibyte"), random_bytes(1 << 20, 7)).unwrap();
    let archive = dir.path().join("small.cpio");
    pack(&tree, &archive);
    for target in targets() {
        let image = build_image(target, &["c/out_of_memory.c"], &[], dir.path());
        // --no-aslr: the heap's random start (README, ASLR) moves what is left by up to
        // 1 MiB from boot to boot; this compares capacities.
        let without = boot(&image, &["-m", "128M", "--no-aslr"], &[]);
        assert_eq!(without.status, 0, "{target}: {without:?}");
        let with = boot(
            &image,
            &[
                "-m",
                "128M",
                "--no-aslr",
                "--initrd",
                archive.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(with.status, 0, "{target}: {with:?}");
        let (without, with) = (
            allocatable_mebibytes(&without),
            allocatable_mebibytes(&with),
        );
        // The archive (1 MiB) and at most a block lost at each edge of a second range.
        assert!(
            with + 4 >= without && with <= without,
            "{target}: {with} MiB with the initrd, {without} MiB without"
        );
    }
}

/// `cargo unik run --initrd` of the Rust std::fs fixture (fixtures/rust/files), which
/// reads the file named by its second argument: a file of the initrd, against the
/// native run reading the same file on the host.
#[test]
fn rust_std_fs_reads_the_initrd_through_cargo_unik_run() {
    let dir = scratch();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("srv/data")).unwrap();
    let payload = tree.join("srv/data/payload.bin");
    std::fs::write(&payload, random_bytes(70_001, 0x2545_f491_4f6c_dd1d)).unwrap();
    let archive = dir.path().join("rust.cpio");
    pack(&tree, &archive);

    let manifest = fixture("rust/files/Cargo.toml");
    let target_directory = repository().join("target").join("files-rust");
    let built = run_command(
        Command::new(env!("CARGO"))
            .args([
                "build",
                "--locked",
                "--release",
                "--quiet",
                "--manifest-path",
            ])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", target_directory.join("native")),
    );
    assert_eq!(built.status, 0, "native build:\n{}", built.stderr);
    let native = run_command(
        Command::new(target_directory.join("native/release/files"))
            .arg(dir.path().join("root"))
            .arg(&payload),
    );
    assert_eq!(native.status, 0, "{}", native.stderr);
    assert!(
        native.stdout.contains("embedded file: 70001 bytes, fnv1a "),
        "{}",
        native.stdout
    );
    for target in targets() {
        // The same options as tests/files.rs's build (--fs fixtures/fs/tree), so the
        // two tests share one build.
        let outcome = run_command(
            Command::new(env!("CARGO_BIN_EXE_cargo-unik"))
                .args(["unik", "run", "--locked", "--release", "--target", target])
                .arg("--fs")
                .arg(fixture("fs/tree"))
                .arg("--initrd")
                .arg(&archive)
                .args(["--timeout", &GUEST_TIMEOUT_SECONDS.to_string()])
                .arg("--manifest-path")
                .arg(&manifest)
                .env("CARGO_TARGET_DIR", &target_directory)
                .args(["--", "/work", "/srv/data/payload.bin"]),
        );
        // cargo's and cargo-unik's own lines are on stderr; stdout is the program's.
        assert_same_as_native(&outcome, &native, &format!("std::fs + initrd on {target}"));
    }
}

fn damaged_archive(dir: &Path) -> (PathBuf, Vec<u8>) {
    let tree = dir.join("damaged-tree");
    std::fs::create_dir_all(tree.join("a")).unwrap();
    std::fs::write(tree.join("a/file"), "0123456789").unwrap();
    let archive = dir.join("good.cpio");
    pack(&tree, &archive);
    (tree, std::fs::read(&archive).unwrap())
}

/// Byte offset of the entry named `name` (its header starts 110 bytes before it).
fn entry_offset(archive: &[u8], name: &str) -> usize {
    let mut needle = name.as_bytes().to_vec();
    needle.push(0);
    archive
        .windows(needle.len())
        .position(|window| window == needle)
        .unwrap()
        - 110
}

#[test]
fn a_damaged_initrd_stops_the_boot_with_the_offset_and_the_reason() {
    let dir = scratch();
    let (_, good) = damaged_archive(dir.path());
    // GNU cpio stores `find .`'s "./a/file" as "a/file".
    let at = entry_offset(&good, "a/file");
    let mut bad_magic = good.clone();
    bad_magic[at..at + 6].copy_from_slice(b"070707");
    let mut name_overflow = good.clone();
    name_overflow[at + 94..at + 102].copy_from_slice(b"7fffffff");
    // Cut inside a/file's data: its size runs past the end.
    let truncated = good[..at + 110 + 8 + 4].to_vec();
    let truncated_header = good[..at + 60].to_vec();
    let cases = [
        ("bad-magic", bad_magic, "bad magic (not 070701, cpio newc)"),
        (
            "name-overflow",
            name_overflow,
            "name runs past the end of the archive",
        ),
        (
            "truncated",
            truncated,
            "file size runs past the end of the archive",
        ),
        ("truncated-header", truncated_header, "truncated header"),
    ];
    for target in targets() {
        let image = build_image(target, &["c/files_tree.c"], &[], dir.path());
        for (name, bytes, reason) in &cases {
            let archive = dir.path().join(format!("{name}.cpio"));
            std::fs::write(&archive, bytes).unwrap();
            let outcome = boot(&image, &["--initrd", archive.to_str().unwrap()], &["/"]);
            assert_eq!(outcome.status, 1, "{target} {name}: {outcome:?}");
            assert_eq!(
                outcome.stderr,
                format!("unik: fatal: initrd: malformed cpio archive at byte {at}: {reason}\n"),
                "{target} {name}"
            );
            // Nothing of the program ran.
            assert_eq!(outcome.stdout, "", "{target} {name}");
        }
    }
}

#[test]
fn an_image_without_files_is_warned_about() {
    let dir = scratch();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("file"), "x").unwrap();
    let archive = dir.path().join("tree.cpio");
    pack(&tree, &archive);
    for target in targets() {
        let image = build_image(target, &["c/hello.c"], &[], dir.path());
        let outcome = boot(&image, &["--initrd", archive.to_str().unwrap()], &[]);
        assert_eq!(outcome.status, 0, "{target}: {outcome:?}");
        assert_eq!(outcome.stdout, "Hello, world!\n", "{target}");
        assert_eq!(
            outcome.stderr,
            format!(
                "unik: warning: --initrd: {} does not use files (its program opens none, so \
                 the files component that unpacks the archive is not linked); the archive is \
                 passed but not read\n",
                image.display()
            ),
            "{target}"
        );
    }
}

/// `--dry-run` prints a command that works: on aarch64 the Image it boots in place of
/// the ELF is kept, and named on stderr.
#[test]
fn dry_run_keeps_the_converted_image() {
    if !targets().contains(&"aarch64") {
        return;
    }
    let dir = scratch();
    let (_, archive_bytes) = damaged_archive(dir.path());
    let archive = dir.path().join("tree.cpio");
    std::fs::write(&archive, archive_bytes).unwrap();
    let image = build_image("aarch64", &["c/files_tree.c"], &[], dir.path());
    let outcome = run_command(
        unik()
            .args(["run", "--dry-run", "--initrd"])
            .arg(&archive)
            .arg(&image),
    );
    assert_eq!(outcome.status, 0, "{outcome:?}");
    let words: Vec<&str> = outcome.stdout.split_whitespace().collect();
    let kernel = words[words.iter().position(|word| *word == "-kernel").unwrap() + 1];
    let initrd = words[words.iter().position(|word| *word == "-initrd").unwrap() + 1];
    assert_eq!(initrd, archive.to_str().unwrap());
    let kept = Path::new(kernel);
    assert_eq!(kept.file_name(), image.file_name());
    let bytes = std::fs::read(kept).unwrap();
    assert_eq!(&bytes[56..60], b"ARM\x64", "{kernel} is an arm64 Image");
    assert_eq!(
        outcome.stderr,
        format!(
            "unik: the arm64 Image booted for --initrd is kept in {}\n",
            kept.parent().unwrap().display()
        )
    );
    std::fs::remove_dir_all(kept.parent().unwrap()).unwrap();
}

/// An archive that QEMU can load but whose files do not fit in the heap stops the boot
/// with the entry and the reason, instead of starting the program with a partial tree.
#[test]
fn an_initrd_larger_than_the_heap_stops_the_boot() {
    let dir = scratch();
    for target in targets() {
        // 64 MiB of RAM. x86_64: the archive sits at the top, the heap below it is
        // smaller than the file. aarch64: QEMU puts it 32 MiB in, so it must fit in the
        // upper half, and neither side of it holds the file.
        let size = if target == "x86_64" {
            40_000_000
        } else {
            30_000_000
        };
        let tree = dir.path().join(format!("big-{target}"));
        std::fs::create_dir_all(&tree).unwrap();
        std::fs::write(tree.join("zeros"), vec![0u8; size]).unwrap();
        let archive = dir.path().join(format!("big-{target}.cpio"));
        pack(&tree, &archive);
        let image = build_image(target, &["c/files_tree.c"], &[], dir.path());
        let outcome = boot(
            &image,
            &["-m", "64M", "--initrd", archive.to_str().unwrap()],
            &["/"],
        );
        let bytes = std::fs::read(&archive).unwrap();
        let at = entry_offset(&bytes, "zeros");
        assert_eq!(outcome.status, 1, "{target}: {outcome:?}");
        assert_eq!(
            outcome.stderr,
            format!(
                "unik: fatal: initrd: cannot unpack the cpio entry at byte {at}: out of memory \
                 for its file (give the machine more memory)\n"
            ),
            "{target}"
        );
        assert_eq!(outcome.stdout, "", "{target}");
    }
}

#[test]
fn a_missing_or_foreign_initrd_is_refused_before_booting() {
    let dir = scratch();
    let image = build_image("x86_64", &["c/hello.c"], &[], dir.path());
    let missing = dir.path().join("missing.cpio");
    let outcome = boot(&image, &["--initrd", missing.to_str().unwrap()], &[]);
    assert_eq!(outcome.status, 125, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        format!(
            "unik: error: --initrd: cannot read {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    // A gzip-compressed archive and an old-format one, made by the real tools.
    let (tree, _) = damaged_archive(dir.path());
    let odc = dir.path().join("odc.cpio");
    let outcome = run_command(
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "find . | cpio -o -H odc --quiet > {}",
                odc.display()
            ))
            .current_dir(&tree),
    );
    assert_eq!(outcome.status, 0, "{outcome:?}");
    let outcome = boot(&image, &["--initrd", odc.to_str().unwrap()], &[]);
    assert_eq!(outcome.status, 125, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        format!(
            "unik: error: --initrd {}: not a cpio newc archive, plain or gzip-compressed (an \
             old-format (odc) cpio archive: use -H newc); make one with `find . | cpio -o -H \
             newc > odc.cpio`\n",
            odc.display()
        )
    );
    let outcome = boot(&image, &["--initrd", image.to_str().unwrap()], &[]);
    assert_eq!(outcome.status, 125, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("gzip-compressed (it starts with 7f 45 4c 46 02 01)"),
        "{}",
        outcome.stderr
    );
}
