//! Rust network servers, unmodified, built with `cargo unik` and booted with
//! `unik run --net user -p HOST:GUEST` on every target: a std::net TCP echo server
//! moving 10 MiB (every byte compared on the host, its checksum against the same
//! program run natively), and a tokio (multi-threaded) + hyper HTTP/1.1 server
//! answering 1 000 requests from 50 concurrent host connections, none lost.
//! The fixtures' crates come from crates.io at test time (Cargo.lock is committed).
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Builds the `network` fixture project for `target`; returns the image directory.
fn build_network(target: &str) -> PathBuf {
    let target_directory = repository().join("target").join("rust-fixtures");
    let manifest = repository().join("fixtures/rust/network/Cargo.toml");
    let outcome = run_command(
        Command::new(env!("CARGO_BIN_EXE_cargo-unik"))
            .args(["unik", "build", "--locked", "--release", "--target", target])
            .arg("--manifest-path")
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target_directory),
    );
    assert_eq!(
        outcome.status, 0,
        "cargo unik build of the network fixture failed on {target}:\n{}",
        outcome.stderr
    );
    target_directory
        .join(format!("{target}-unknown-linux-gnu"))
        .join("release")
}

/// The same binary built natively (plain cargo, the host's glibc).
fn native_binary(binary: &str) -> PathBuf {
    let target_directory = repository()
        .join("target")
        .join("rust-fixtures")
        .join("native");
    let outcome = run_command(
        Command::new(env!("CARGO"))
            .args(["build", "--locked", "--release", "--quiet"])
            .arg("--manifest-path")
            .arg(repository().join("fixtures/rust/network/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_directory),
    );
    assert_eq!(outcome.status, 0, "native build:\n{}", outcome.stderr);
    target_directory.join("release").join(binary)
}

/// FNV-1a, as the echo server computes it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

const ECHO_BYTES: usize = 10 << 20;

/// Sends `data` to the echo server at `port` while reading the echo back; returns
/// what came back.
fn echo_through(port: u16, data: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(GUEST_TIMEOUT_SECONDS.into())))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let data = data.to_vec();
    let sender = std::thread::spawn(move || {
        for chunk in data.chunks(32 * 1024) {
            writer.write_all(chunk).unwrap();
        }
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::with_capacity(ECHO_BYTES);
    stream.read_to_end(&mut echoed).unwrap();
    sender.join().unwrap();
    echoed
}

/// Reads a spawned server's stdout up to its "listening" line.
fn wait_listening(lines: &mut impl BufRead, what: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        let read = lines.read_line(&mut line).unwrap();
        assert!(read > 0, "{what} ended before listening");
        if line.starts_with("listening on ") {
            return;
        }
    }
}

/// Runs a server image under `unik run --net user -p HOST:GUEST`, waits until it
/// listens, runs `client` against the host port, then returns its exit status and
/// the rest of its stdout.
fn with_guest_server(
    image: &Path,
    guest_port: u16,
    client: impl FnOnce(u16),
) -> (i32, String, String) {
    let port = free_tcp_port();
    let mut child = unik()
        .arg("run")
        .arg("--timeout")
        .arg(GUEST_TIMEOUT_SECONDS.to_string())
        .args(["--net", "user", "-p", &format!("{port}:{guest_port}")])
        .arg(image)
        .arg("--")
        .arg(guest_port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    wait_listening(&mut stdout, &format!("{image:?}"));
    client(port);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap().code().unwrap_or(-1);
    (status, rest, stderr)
}

#[test]
fn std_net_echo_server_moves_10_mib_intact() {
    let data = random_bytes(ECHO_BYTES, 0x5eed);
    let checksum = fnv1a(&data);
    let expected = format!("received {ECHO_BYTES} bytes, checksum {checksum:016x}\n");

    // The reference: the same server run natively.
    let port = free_tcp_port();
    let mut native = Command::new(native_binary("echo_server"))
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut native_stdout = BufReader::new(native.stdout.take().unwrap());
    wait_listening(&mut native_stdout, "the native echo server");
    assert!(echo_through(port, &data) == data, "native echo differs");
    let mut native_rest = String::new();
    native_stdout.read_to_string(&mut native_rest).unwrap();
    assert!(native.wait().unwrap().success());
    assert_eq!(native_rest, expected);

    for target in threaded_targets() {
        let image = build_network(target).join("echo_server");
        let (status, rest, stderr) = with_guest_server(&image, 7000, |port| {
            let echoed = echo_through(port, &data);
            assert_eq!(echoed.len(), data.len(), "echo length on {target}");
            assert!(echoed == data, "echoed bytes differ on {target}");
        });
        assert_eq!(status, 0, "echo_server on {target}: {stderr}");
        assert_eq!(rest, native_rest, "echo_server on {target}: {stderr}");
    }
}

const CONNECTIONS: usize = 50;
const REQUESTS_PER_CONNECTION: usize = 20;

#[test]
fn tokio_hyper_server_answers_1000_requests_from_50_connections() {
    for target in threaded_targets() {
        let image = build_network(target).join("hello_server");
        let (status, rest, stderr) = with_guest_server(&image, 8080, |port| {
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|_| {
                    std::thread::spawn(move || {
                        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                        stream
                            .set_read_timeout(Some(Duration::from_secs(
                                GUEST_TIMEOUT_SECONDS.into(),
                            )))
                            .unwrap();
                        (0..REQUESTS_PER_CONNECTION)
                            .map(|request| {
                                let (status, body) = http_get(&mut stream, &format!("/{request}"));
                                let body = String::from_utf8(body).unwrap();
                                assert_eq!(status, "HTTP/1.1 200 OK");
                                let number = body
                                    .strip_prefix("hello from unik ")
                                    .and_then(|rest| rest.trim_end().parse::<usize>().ok());
                                number.unwrap_or_else(|| panic!("unexpected body {body:?}"))
                            })
                            .collect::<Vec<usize>>()
                    })
                })
                .collect();
            let numbers: BTreeSet<usize> = clients
                .into_iter()
                .flat_map(|client| client.join().unwrap())
                .collect();
            let total = CONNECTIONS * REQUESTS_PER_CONNECTION;
            // Every request answered once: the numbers are exactly 1..=1000.
            assert_eq!(numbers, (1..=total).collect(), "answers on {target}");
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let (status, body) = http_get(&mut stream, "/quit");
            assert_eq!(
                (status.as_str(), &body[..]),
                ("HTTP/1.1 200 OK", &b"bye\n"[..])
            );
        });
        assert_eq!(status, 0, "hello_server on {target}: {stderr}");
        assert_eq!(
            rest,
            format!(
                "answered {} requests\n",
                CONNECTIONS * REQUESTS_PER_CONNECTION
            ),
            "hello_server on {target}: {stderr}"
        );
    }
}
