//! Networking end to end, on every target: a C HTTP server in the guest answered through
//! a forwarded port (`unik run --net user -p`), through virtio-net on PCI (x86_64
//! `--machine q35`) and on a TAP interface the test creates (root only), UDP echo, the guest as a TCP client of a
//! server this test runs on the host (through QEMU's gateway 10.0.2.2) compared with the
//! same client run natively, a connect to a closed port refused (blocking and
//! non-blocking), and the errors for bad `--net`/`-p` arguments. Only loopback and
//! forwarded addresses are used; host ports are picked free (bind to port 0, release).
// A panic in a test is a failure with a backtrace (as in the library's unit tests).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A booted guest whose stdout is read line by line.
struct Guest {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Guest {
    fn start(image: &Path, run_options: &[&str], arguments: &[&str]) -> Guest {
        let mut child = unik()
            .arg("run")
            .arg("--timeout")
            .arg(GUEST_TIMEOUT_SECONDS.to_string())
            .args(run_options)
            .arg(image)
            .arg("--")
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Guest {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a stdout line starting with `prefix` (the guest's "listening" line).
    fn wait_for(&mut self, prefix: &str) -> String {
        loop {
            match self
                .lines
                .recv_timeout(Duration::from_secs(GUEST_TIMEOUT_SECONDS.into()))
            {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let output = self.child.wait_with_output_lossy();
                    panic!(
                        "the guest never printed `{prefix}…`; stdout so far: {:?}; stderr: {output}",
                        self.seen
                    );
                }
            }
        }
    }

    /// Waits for the guest to end: its exit status and the rest of its stdout.
    fn finish(mut self) -> (i32, Vec<String>, String) {
        let status = self.child.wait().unwrap().code().unwrap_or(-1);
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status, self.seen, stderr)
    }
}

trait LossyOutput {
    fn wait_with_output_lossy(&mut self) -> String;
}

impl LossyOutput for Child {
    fn wait_with_output_lossy(&mut self) -> String {
        let _ = self.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        stderr
    }
}

/// Boots the C HTTP server fixture with `run_options` (it listens on port 8080), and
/// asks it at `address` what a browser would: two connections, keep-alive, a body
/// larger than the TCP buffers, the peer's address (`host_as_seen`), a missing page,
/// then /quit.
fn exercise_http_server(
    target: &str,
    image: &Path,
    run_options: &[&str],
    address: SocketAddr,
    host_as_seen: &str,
) {
    let mut guest = Guest::start(image, run_options, &["8080"]);
    assert_eq!(guest.wait_for("listening"), "listening on port 8080");
    let connect = || {
        let stream = TcpStream::connect_timeout(&address, Duration::from_secs(30)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(GUEST_TIMEOUT_SECONDS.into())))
            .unwrap();
        stream
    };
    let mut stream = connect();
    let (status, body) = http_get(&mut stream, "/hello");
    assert_eq!(status, "HTTP/1.1 200 OK", "{target}");
    assert_eq!(body, b"hello from the server\n", "{target}");
    // The same connection again (keep-alive), a body larger than the TCP buffers.
    let (status, body) = http_get(&mut stream, "/bytes/300000");
    assert_eq!(status, "HTTP/1.1 200 OK", "{target}");
    assert_eq!(body.len(), 300_000, "{target}");
    assert!(body.iter().all(|&byte| byte == b'x'), "{target}");
    let (_, body) = http_get(&mut stream, "/peer");
    assert_eq!(body, format!("{host_as_seen}\n").as_bytes(), "{target}");
    let (status, _) = http_get(&mut stream, "/missing");
    assert_eq!(status, "HTTP/1.1 404 Not Found", "{target}");
    // A second connection at the same time (a second server thread).
    let mut second = connect();
    let (_, body) = http_get(&mut second, "/hello");
    assert_eq!(body, b"hello from the server\n", "{target}");
    let (_, body) = http_get(&mut stream, "/quit");
    assert_eq!(body, b"bye\n", "{target}");
    let (status, stdout, stderr) = guest.finish();
    assert_eq!(status, 0, "{target}: stderr {stderr}");
    assert_eq!(
        stdout,
        ["listening on port 8080", "quit requested"],
        "{target}"
    );
}

/// The server behind `--net user -p` (and `machine_options`): through QEMU's user
/// network the host appears as the gateway 10.0.2.2.
fn exercise_forwarded_http_server(target: &str, image: &Path, machine_options: &[&str]) {
    let port = free_tcp_port();
    let forward = format!("{port}:8080");
    let mut options = machine_options.to_vec();
    options.extend(["--net", "user", "-p", &forward]);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    exercise_http_server(target, image, &options, address, "10.0.2.2");
}

#[test]
fn http_server_in_the_guest_answers_a_host_client() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/net_http_server.c"], &[], dir.path());
        exercise_forwarded_http_server(target, &image, &[]);
    }
}

/// x86_64 PCs: the same server through virtio-net on the PCI bus (modern virtio PCI
/// capabilities, BARs mapped uncached, an MSI-X interrupt: without it the blocked
/// accept would never wake), on q35 and pc booted directly (qboot assigns the BARs),
/// and through the firmware boot paths (OVMF on q35, SeaBIOS on pc, then GRUB) when
/// their tools are installed.
#[test]
fn http_server_over_virtio_net_pci() {
    if !targets().contains(&"x86_64") {
        return;
    }
    let dir = scratch();
    let image = build_image("x86_64", &["c/net_http_server.c"], &[], dir.path());
    let mut machines = vec!["q35", "pc"];
    if Path::new("/usr/bin/grub-mkrescue").exists() && Path::new("/usr/share/OVMF").exists() {
        machines.extend(["uefi", "pc-grub"]);
    } else {
        eprintln!("skipped: --machine uefi and pc-grub (grub-mkrescue or OVMF missing)");
    }
    for machine in machines {
        exercise_forwarded_http_server(
            &format!("x86_64 {machine}"),
            &image,
            &["--machine", machine],
        );
    }
}

/// A TAP interface this test made (`ip tuntap add`), with the host's address on it;
/// deleted when dropped.
struct TapInterface {
    name: String,
}

impl TapInterface {
    /// Creates `name` with `host/24` and brings it up; Err says why it could not (not
    /// root, no /dev/net/tun, no `ip`).
    fn create(name: &str, host: &str) -> Result<TapInterface, String> {
        if !Path::new("/dev/net/tun").exists() {
            return Err("no /dev/net/tun".into());
        }
        let ip = |arguments: &[&str]| -> Result<(), String> {
            let output = Command::new("ip")
                .args(arguments)
                .output()
                .map_err(|error| format!("ip: {error}"))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "ip {}: {}",
                    arguments.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
        };
        ip(&["tuntap", "add", name, "mode", "tap"])?;
        let interface = TapInterface { name: name.into() };
        ip(&["addr", "add", &format!("{host}/24"), "dev", name])?;
        ip(&["link", "set", name, "up"])?;
        Ok(interface)
    }
}

impl Drop for TapInterface {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.name])
            .output();
    }
}

/// `--net tap=NAME --ip`: the server on a TAP interface the test creates (root only),
/// reached at the guest's own address; the host is the peer on that link. A subnet
/// per test process, so that parallel runs do not share one.
#[test]
fn http_server_on_a_tap_interface() {
    let id = std::process::id();
    let subnet = format!("10.123.{}", id % 250);
    let (host, guest) = (format!("{subnet}.1"), format!("{subnet}.2"));
    let name = format!("unik-t{}", id % 100_000);
    let _tap = match TapInterface::create(&name, &host) {
        Ok(tap) => tap,
        Err(reason) => {
            eprintln!("skipped: cannot create a TAP interface ({reason}); run as root");
            return;
        }
    };
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/net_http_server.c"], &[], dir.path());
        let tap = format!("tap={name}");
        let ip = format!("{guest}/24");
        let address = SocketAddr::new(guest.parse().unwrap(), 8080);
        exercise_http_server(
            target,
            &image,
            &["--net", &tap, "--ip", &ip],
            address,
            &host,
        );
    }
}

#[test]
fn udp_echo_through_a_forwarded_port() {
    let dir = scratch();
    for target in targets() {
        let image = build_image(target, &["c/net_udp_echo.c"], &[], dir.path());
        let port = free_udp_port();
        let forward = format!("{port}:7777/udp");
        let mut guest = Guest::start(&image, &["--net", "user", "-p", &forward], &["7777"]);
        assert_eq!(guest.wait_for("listening"), "listening on udp port 7777");
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buffer = [0u8; 2048];
        for message in ["hello", "datagram two", &"z".repeat(1400)] {
            // UDP may drop: retry a few times before calling it a failure.
            let mut answer = None;
            for _ in 0..10 {
                socket
                    .send_to(message.as_bytes(), ("127.0.0.1", port))
                    .unwrap();
                if let Ok((count, _)) = socket.recv_from(&mut buffer) {
                    answer = Some(buffer[..count].to_vec());
                    break;
                }
            }
            assert_eq!(
                answer.as_deref(),
                Some(message.to_uppercase().as_bytes()),
                "{target}"
            );
        }
        socket.send_to(b"quit", ("127.0.0.1", port)).unwrap();
        let (status, stdout, stderr) = guest.finish();
        assert_eq!(status, 0, "{target}: stderr {stderr}");
        assert_eq!(
            stdout.last().map(String::as_str),
            Some("echoed 3 datagrams")
        );
    }
}

/// A host TCP server for the client fixture: every connection is read to its end and
/// answered with "pong: " and what was read.
fn start_host_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(mut connection) = connection else {
                break;
            };
            std::thread::spawn(move || {
                let mut received = Vec::new();
                if connection.read_to_end(&mut received).is_ok() {
                    let _ = connection.write_all(b"pong: ");
                    let _ = connection.write_all(&received);
                }
            });
        }
    });
    port
}

#[test]
fn guest_client_reaches_a_host_server_and_closed_ports_are_refused() {
    let dir = scratch();
    let port = start_host_server();
    let closed = free_tcp_port();
    let native = native(
        &["c/net_tcp_client.c"],
        &["127.0.0.1", &port.to_string(), &closed.to_string()],
        dir.path(),
    );
    assert_eq!(native.status, 0, "native: {}", native.stderr);
    assert!(
        native
            .stdout
            .contains("reply: pong: ping from the client\n"),
        "{}",
        native.stdout
    );
    assert!(
        native
            .stdout
            .contains("non-blocking connect: Connection refused\n"),
        "{}",
        native.stdout
    );
    for target in targets() {
        let image = build_image(target, &["c/net_tcp_client.c"], &[], dir.path());
        // 10.0.2.2 is the host's loopback seen from QEMU's user network.
        let outcome = boot(
            &image,
            &["--net", "user"],
            &["10.0.2.2", &port.to_string(), &closed.to_string()],
        );
        assert_same_as_native(&outcome, &native, &format!("net_tcp_client on {target}"));
    }
}

#[test]
fn static_configuration_from_the_command_line() {
    let dir = scratch();
    let port = start_host_server();
    let closed = free_tcp_port();
    for target in targets() {
        let image = build_image(target, &["c/net_tcp_client.c"], &[], dir.path());
        let outcome = boot(
            &image,
            &[
                "--net",
                "user",
                "--ip",
                "10.0.2.20/24",
                "--gateway",
                "10.0.2.2",
            ],
            &["10.0.2.2", &port.to_string(), &closed.to_string()],
        );
        assert_eq!(outcome.status, 0, "{target}: {}", outcome.stderr);
        assert!(
            outcome
                .stdout
                .contains("reply: pong: ping from the client\n"),
            "{target}: {}",
            outcome.stdout
        );
    }
}

#[test]
fn bad_network_arguments_are_refused_before_booting() {
    let dir = scratch();
    let image = dir.path().join("absent.img");
    let cases: [(&[&str], &str); 6] = [
        (
            &["--net", "bridge"],
            "unik: error: --net bridge: unknown network (expected `user` or `tap=NAME`)\n",
        ),
        (
            &["--net", "user", "-p", "80"],
            "unik: error: -p 80: expected HOST:GUEST or HOST:GUEST/udp with ports 1-65535 (e.g. -p 8080:80)\n",
        ),
        (
            &["-p", "8080:80"],
            "unik: error: -p 8080:80: port forwarding needs --net user (a TAP interface is reached directly)\n",
        ),
        (
            &["--net", "tap=tap0", "-p", "8080:80"],
            "unik: error: -p 8080:80: port forwarding needs --net user (a TAP interface is reached directly)\n",
        ),
        (
            &["--net", "user", "--ip", "10.0.2.300/24"],
            "unik: error: --ip 10.0.2.300/24: not an IPv4 address with a prefix length 0-32 (e.g. 10.0.2.15/24)\n",
        ),
        (
            &["--net", "user", "--gateway", "10.0.2.2"],
            "unik: error: --gateway needs --ip (the gateway is part of a static configuration)\n",
        ),
    ];
    for (options, message) in cases {
        let outcome = run_command(
            Command::new(env!("CARGO_BIN_EXE_unik"))
                .arg("run")
                .args(options)
                .arg(&image),
        );
        assert_eq!(outcome.stderr, message, "{options:?}");
        assert_eq!(outcome.status, 125, "{options:?}");
    }
}

#[test]
fn the_program_reaches_itself_on_127_0_0_1_with_and_without_a_device() {
    let dir = scratch();
    let native = native(&["c/net_loopback.c"], &[], dir.path());
    assert_eq!(native.status, 0, "native: {}", native.stderr);
    for target in targets() {
        let image = build_image(target, &["c/net_loopback.c"], &[], dir.path());
        for options in [&[][..], &["--net", "user"][..]] {
            let outcome = boot(&image, options, &[]);
            assert_same_as_native(
                &outcome,
                &native,
                &format!("net_loopback on {target} with {options:?}"),
            );
        }
    }
}
