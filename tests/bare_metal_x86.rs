//! x86_64 images booted through real firmware paths: SeaBIOS + GRUB (Multiboot2) on
//! QEMU `pc` and OVMF (UEFI) + GRUB EFI on QEMU `q35`, from the hybrid ISO `unik iso`
//! makes (`unik run --machine pc-grub|uefi`). The same image boots through PVH in the
//! other test files. Output and exit status are asserted against native runs; the
//! ACPI power-off is checked with `unik run --no-exit-device`; the framebuffer console
//! (EGA text, RGB) is read back through the QEMU monitor; `unik iso` and its errors.

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
        // GRUB loads the static PIE at its link address; the runtime moves it.
        assert!(
            outcome.stderr.contains("unik: aslr: on, image base 0x")
                && !outcome.stderr.contains("image base 0x100000 "),
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

#[test]
fn without_an_exit_device_acpi_switches_the_machine_off() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/exit_status.c"], &[], dir.path());
    // `unik iso` writes the ISO `unik run --machine` builds for itself.
    let iso = dir.path().join("exit.iso");
    let made = run_command(unik().args(["iso", "-o"]).arg(&iso).arg(&image));
    assert_eq!(made.status, 0, "unik iso: {made:?}");
    assert!(iso.metadata().is_ok_and(|data| data.len() > 1024 * 1024));
    for machine in MACHINES {
        // No isa-debug-exit: the runtime prints the status and switches the machine off
        // through ACPI (FADT PM1a control, `\_S5`), so QEMU ends by itself (at the
        // timeout otherwise, with 124).
        let outcome = boot_through(machine, &image, &["--no-exit-device"], &["exit", "3"]);
        assert_eq!(outcome.status, 3, "{machine}: {outcome:?}");
        assert!(
            outcome.stdout.contains("leaving with 3"),
            "{machine}: {}",
            outcome.stdout
        );
        assert!(
            outcome.stderr.ends_with("unik: exit status 3\n"),
            "{machine}: {}",
            outcome.stderr
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

/// What the screen shows, as lines of text, and how the run ended.
struct Screen {
    lines: Vec<String>,
    outcome: Outcome,
}

/// Boots the `screen.c` fixture (built with `--framebuffer-console`) through
/// `machine` with a QEMU monitor on a socket; once the program waits on stdin, has the
/// monitor run `command` (with `{file}` standing for a file in `dir`) until `decode`
/// finds `last_line` in that file (20 tries at most), then lets the program end.
fn screen_of(
    machine: &str,
    image: &Path,
    command: &str,
    decode: Decoder,
    last_line: &str,
    dir: &Path,
) -> Screen {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::net::UnixStream;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let _one_at_a_time = FIRMWARE_BOOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let socket = dir.join(format!("{machine}.monitor"));
    let file = dir.join(format!("{machine}.screen"));
    let mut child = unik()
        .args(["run", "--machine", machine, "--timeout"])
        .arg(FIRMWARE_TIMEOUT_SECONDS.to_string())
        .arg("--qemu-arg=-monitor")
        .arg(format!(
            "--qemu-arg=unix:{},server=on,wait=off",
            socket.display()
        ))
        .arg(image)
        .args(["--", "two words"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unik run starts");
    let (sender, receiver) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.starts_with("waiting") {
                let _ = sender.send(());
            }
        }
        text
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let error_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let waiting = receiver
        .recv_timeout(Duration::from_secs(u64::from(FIRMWARE_TIMEOUT_SECONDS)))
        .is_ok();
    let mut lines = Vec::new();
    if waiting {
        let mut monitor = UnixStream::connect(&socket).expect("the QEMU monitor");
        monitor
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("a read timeout");
        let read_prompt = |monitor: &mut UnixStream| {
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            while !seen.ends_with(b"(qemu) ") && monitor.read(&mut byte).unwrap_or(0) == 1 {
                seen.push(byte[0]);
            }
        };
        read_prompt(&mut monitor);
        let command = command.replace("{file}", &file.display().to_string());
        // The serial line comes before its copy on the screen is drawn: dump until the
        // last line is there (or a while has passed; the caller's assertion then fails).
        for _ in 0..20 {
            let _ = std::fs::remove_file(&file);
            monitor
                .write_all(format!("{command}\n").as_bytes())
                .expect("a monitor command");
            read_prompt(&mut monitor);
            let started = Instant::now();
            while !file.exists() && started.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(100));
            }
            lines = decode(&std::fs::read(&file).expect("the monitor's dump"));
            if lines.iter().any(|line| line == last_line) {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(b"go\n");
    drop(stdin);
    let status = child.wait().expect("unik run ends");
    let outcome = Outcome {
        status: status.code().unwrap_or(-1),
        stdout: reader.join().expect("the stdout reader"),
        stderr: error_reader.join().expect("the stderr reader"),
    };
    assert!(waiting, "{machine}: the program never waited: {outcome:?}");
    Screen { lines, outcome }
}

/// Turns the monitor's dump into the screen's rows of text.
type Decoder = fn(&[u8]) -> Vec<String>;

/// The rows of an EGA text buffer (80x25 cells of character, attribute).
fn ega_text_lines(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(160)
        .map(|row| {
            row.chunks_exact(2)
                .map(|cell| char::from(cell[0]))
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

/// The rows of text on a binary PPM screenshot, read back cell by cell (8x16 pixels,
/// each row of the font8x8 glyph drawn twice, as runtime/kernel/src/framebuffer.rs
/// draws them): a cell whose lit pixels are exactly a glyph's is that character,
/// anything else `?`.
fn rgb_text_lines(bytes: &[u8]) -> Vec<String> {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6", "a binary PPM");
    let width: usize = fields[1].parse().expect("the width");
    let height: usize = fields[2].parse().expect("the height");
    let pixels = &bytes[at + 1..];
    let lit = |x: usize, y: usize| pixels[(y * width + x) * 3..][..3].iter().any(|&c| c > 0x40);
    let glyphs = font8x8::legacy::BASIC_LEGACY;
    (0..height / 16)
        .map(|row| {
            (0..width / 8)
                .map(|column| {
                    let cell: Vec<u8> = (0..16)
                        .map(|y| {
                            (0..8).fold(0u8, |bits, x| {
                                bits | (u8::from(lit(column * 8 + x, row * 16 + y)) << x)
                            })
                        })
                        .collect();
                    let doubled = cell.chunks_exact(2).all(|pair| pair[0] == pair[1]);
                    let rows: Vec<u8> = cell.iter().step_by(2).copied().collect();
                    (0x20u8..0x7f)
                        .find(|&character| doubled && glyphs[usize::from(character)] == *rows)
                        .map_or('?', char::from)
                })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn the_console_is_mirrored_on_the_screen_ega_text_and_rgb() {
    if !x86_64_tested() || !firmware_tools_present() {
        return;
    }
    let dir = scratch();
    let image = build_image(
        "x86_64",
        &["c/screen.c"],
        &["--framebuffer-console"],
        dir.path(),
    );
    let expected = [
        "unik on the screen: stdout",
        "unik on the screen: stderr",
        "argument 1: two words",
        "waiting for a line on stdin",
    ];
    let cases: [(&str, &str, Decoder); 2] = [
        // SeaBIOS + GRUB leave VGA text mode: the cells at 0xb8000.
        (
            "pc-grub",
            "pmemsave 0xb8000 4000 \"{file}\"",
            ega_text_lines,
        ),
        // OVMF's GOP framebuffer, as the display shows it.
        ("uefi", "screendump \"{file}\"", rgb_text_lines),
    ];
    for (machine, command, decode) in cases {
        let last_line = expected[expected.len() - 1];
        let screen = screen_of(machine, &image, command, decode, last_line, dir.path());
        assert_eq!(screen.outcome.status, 3, "{machine}: {:?}", screen.outcome);
        assert!(
            screen.outcome.stdout.ends_with("got go\n"),
            "{machine}: {:?}",
            screen.outcome
        );
        // The program's lines, in order, from the top of the screen (stderr's in its
        // place between them).
        assert_eq!(
            screen.lines[..expected.len()],
            expected,
            "{machine}: the screen shows {:#?}",
            screen.lines
        );
    }
}
