//! `unik run --net`: the guest's network device and how the host reaches it.
//!
//! - `--net user`: QEMU's user-mode network (slirp): the guest gets 10.0.2.15 by DHCP,
//!   the host is the gateway 10.0.2.2, DNS is 10.0.2.3; `-p HOST:GUEST[/udp]` forwards
//!   a port of 127.0.0.1 (never other interfaces) to the guest.
//! - `--net tap=NAME`: an existing TAP interface (the host configures it; DHCP or
//!   `--ip`).
//! - `--ip ADDRESS/PREFIX`, `--gateway ADDRESS`, `--dns ADDRESS`: a static guest
//!   configuration, passed as `unik.ip=` … on the kernel command line (default DHCP).
//!
//! The device is virtio-net on the machine's virtio-mmio transports (QEMU microvm,
//! aarch64 virt), or on the PCI bus of x86_64 q35 and pc (`virtio-net-pci`, modern
//! only). On microvm, ACPI is switched off so that QEMU names the transports on the
//! command line (`virtio_mmio.device=`), where the runtime finds them.

use std::net::Ipv4Addr;

use thiserror::Error;

/// Where the guest's network goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    User,
    Tap(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

/// One `-p HOST:GUEST[/udp]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    pub host: u16,
    pub guest: u16,
    pub protocol: Protocol,
}

/// The network options of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub backend: Backend,
    pub forwards: Vec<Forward>,
    /// Static address and prefix length (None: DHCP).
    pub address: Option<(Ipv4Addr, u8)>,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NetworkError {
    #[error("--net {0}: unknown network (expected `user` or `tap=NAME`)")]
    UnknownBackend(String),
    #[error("--net tap=: the TAP interface needs a name (e.g. --net tap=tap0)")]
    EmptyTap,
    #[error("-p {0}: expected HOST:GUEST or HOST:GUEST/udp with ports 1-65535 (e.g. -p 8080:80)")]
    BadForward(String),
    #[error("-p {0}: port forwarding needs --net user (a TAP interface is reached directly)")]
    ForwardWithoutUser(String),
    #[error("--{option} {value}: not an IPv4 address{expected}")]
    BadAddress {
        option: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("--{0} needs --net")]
    OptionWithoutNet(&'static str),
    #[error("--gateway needs --ip (the gateway is part of a static configuration)")]
    GatewayWithoutAddress,
    #[error(
        "--net: the {machine} machine has no virtio-net the runtime drives (networking works on microvm, the default, q35, pc and aarch64 virt)"
    )]
    UnsupportedMachine { machine: String },
    #[error("-p {0}: the host port is forwarded twice")]
    DuplicateForward(String),
}

/// Parses `--net VALUE`.
pub fn parse_backend(value: &str) -> Result<Backend, NetworkError> {
    match value {
        "user" => Ok(Backend::User),
        _ => match value.strip_prefix("tap=") {
            Some("") => Err(NetworkError::EmptyTap),
            Some(name) => Ok(Backend::Tap(name.to_string())),
            None => Err(NetworkError::UnknownBackend(value.to_string())),
        },
    }
}

/// Parses `-p HOST:GUEST[/udp|/tcp]`.
pub fn parse_forward(value: &str) -> Result<Forward, NetworkError> {
    let bad = || NetworkError::BadForward(value.to_string());
    let (ports, protocol) = match value.rsplit_once('/') {
        Some((ports, "udp")) => (ports, Protocol::Udp),
        Some((ports, "tcp")) => (ports, Protocol::Tcp),
        Some(_) => return Err(bad()),
        None => (value, Protocol::Tcp),
    };
    let (host, guest) = ports.split_once(':').ok_or_else(bad)?;
    let port = |text: &str| {
        text.parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(bad)
    };
    Ok(Forward {
        host: port(host)?,
        guest: port(guest)?,
        protocol,
    })
}

fn parse_ipv4(option: &'static str, value: &str) -> Result<Ipv4Addr, NetworkError> {
    value.parse().map_err(|_| NetworkError::BadAddress {
        option,
        value: value.to_string(),
        expected: "",
    })
}

/// Parses `--ip ADDRESS/PREFIX` (the prefix defaults to 24).
pub fn parse_address(value: &str) -> Result<(Ipv4Addr, u8), NetworkError> {
    let bad = || NetworkError::BadAddress {
        option: "ip",
        value: value.to_string(),
        expected: " with a prefix length 0-32 (e.g. 10.0.2.15/24)",
    };
    let (address, prefix) = value.split_once('/').unwrap_or((value, "24"));
    let address = address.parse().map_err(|_| bad())?;
    let prefix = prefix
        .parse::<u8>()
        .ok()
        .filter(|prefix| *prefix <= 32)
        .ok_or_else(bad)?;
    Ok((address, prefix))
}

/// The command line's network words, checked together.
#[derive(Debug, Default)]
pub struct NetworkArguments<'a> {
    pub net: Option<&'a str>,
    pub forwards: &'a [String],
    pub ip: Option<&'a str>,
    pub gateway: Option<&'a str>,
    pub dns: &'a [String],
}

impl NetworkArguments<'_> {
    pub fn parse(&self) -> Result<Option<Network>, NetworkError> {
        let Some(net) = self.net else {
            if let Some(forward) = self.forwards.first() {
                return Err(NetworkError::ForwardWithoutUser(forward.clone()));
            }
            if self.ip.is_some() {
                return Err(NetworkError::OptionWithoutNet("ip"));
            }
            if self.gateway.is_some() {
                return Err(NetworkError::OptionWithoutNet("gateway"));
            }
            if !self.dns.is_empty() {
                return Err(NetworkError::OptionWithoutNet("dns"));
            }
            return Ok(None);
        };
        let backend = parse_backend(net)?;
        let mut forwards: Vec<Forward> = Vec::new();
        for text in self.forwards {
            if backend != Backend::User {
                return Err(NetworkError::ForwardWithoutUser(text.clone()));
            }
            let forward = parse_forward(text)?;
            if forwards
                .iter()
                .any(|known| known.host == forward.host && known.protocol == forward.protocol)
            {
                return Err(NetworkError::DuplicateForward(text.clone()));
            }
            forwards.push(forward);
        }
        let address = self.ip.map(parse_address).transpose()?;
        let gateway = self
            .gateway
            .map(|value| parse_ipv4("gateway", value))
            .transpose()?;
        if gateway.is_some() && address.is_none() {
            return Err(NetworkError::GatewayWithoutAddress);
        }
        let dns = self
            .dns
            .iter()
            .map(|value| parse_ipv4("dns", value))
            .collect::<Result<_, _>>()?;
        Ok(Some(Network {
            backend,
            forwards,
            address,
            gateway,
            dns,
        }))
    }
}

impl Network {
    /// The kernel command line parameters (before `--`).
    pub fn kernel_parameters(&self) -> Vec<String> {
        let mut words = Vec::new();
        if let Some((address, prefix)) = self.address {
            words.push(format!("unik.ip={address}/{prefix}"));
        }
        if let Some(gateway) = self.gateway {
            words.push(format!("unik.gateway={gateway}"));
        }
        for server in &self.dns {
            words.push(format!("unik.dns={server}"));
        }
        words
    }

    /// QEMU's `-netdev` and `-device` arguments for `machine` (what [`Network::machine`]
    /// returned): virtio-net on a virtio-mmio transport, or on the PCI bus of q35 and pc
    /// (modern virtio only: the runtime drives the virtio 1.x PCI capabilities, with an
    /// MSI-X interrupt).
    pub fn qemu_arguments(&self, machine: &str) -> Vec<String> {
        let netdev = match &self.backend {
            Backend::User => {
                let mut netdev = String::from("user,id=unik-net");
                for forward in &self.forwards {
                    let protocol = match forward.protocol {
                        Protocol::Tcp => "tcp",
                        Protocol::Udp => "udp",
                    };
                    netdev.push_str(&format!(
                        ",hostfwd={protocol}:127.0.0.1:{}-:{}",
                        forward.host, forward.guest
                    ));
                }
                netdev
            }
            // QEMU's option syntax doubles a comma inside a value.
            Backend::Tap(name) => format!(
                "tap,id=unik-net,ifname={},script=no,downscript=no",
                name.replace(',', ",,")
            ),
        };
        vec![
            "-netdev".to_string(),
            netdev,
            "-device".to_string(),
            if matches!(machine_name(machine), "q35" | "pc") {
                "virtio-net-pci,netdev=unik-net,disable-legacy=on".to_string()
            } else {
                "virtio-net-device,netdev=unik-net".to_string()
            },
        ]
    }

    /// The machine option QEMU needs for the device: microvm without ACPI (so the
    /// transports are on the command line); virt, q35 and pc (PCI) as they are; others
    /// refused.
    pub fn machine(&self, machine: &str) -> Result<String, NetworkError> {
        match machine_name(machine) {
            "q35" | "pc" => Ok(machine.to_string()),
            base => crate::run::with_virtio_mmio(machine).ok_or_else(|| {
                NetworkError::UnsupportedMachine {
                    machine: base.to_string(),
                }
            }),
        }
    }
}

/// The machine's name without its options (`microvm,acpi=off` → `microvm`).
fn machine_name(machine: &str) -> &str {
    machine.split(',').next().unwrap_or(machine)
}

/// `unik doctor`: whether this QEMU has user-mode networking (slirp is an optional
/// build dependency of QEMU; `-netdev help` lists the backends it was built with).
pub fn user_network_support(qemu: &std::path::Path) -> Result<String, String> {
    let output = std::process::Command::new(qemu)
        .args(["-netdev", "help"])
        .output()
        .map_err(|error| format!("cannot run {}: {error}", qemu.display()))?;
    let listing = String::from_utf8_lossy(&output.stdout);
    if listing.lines().any(|line| line.trim() == "user") {
        Ok(format!(
            "{} has `-netdev user` (`unik run --net user -p HOST:GUEST`)",
            qemu.display()
        ))
    } else {
        Err(format!(
            "{} was built without slirp: `--net user` cannot work (Debian's qemu-system packages have it; or use --net tap=NAME)",
            qemu.display()
        ))
    }
}

/// `unik doctor`: whether TAP interfaces can be used (`--net tap=NAME`).
pub fn tap_support() -> Result<String, String> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
    {
        Ok(_) => Ok("/dev/net/tun opens read-write (`unik run --net tap=NAME` with a TAP interface you created, e.g. `ip tuntap add tap0 mode tap user $USER`)".to_string()),
        Err(error) => Err(format!(
            "/dev/net/tun cannot be opened ({error}); `--net tap=` needs the tun module and access to it (`--net user` works without)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments<'a>(net: Option<&'a str>, forwards: &'a [String]) -> NetworkArguments<'a> {
        NetworkArguments {
            net,
            forwards,
            ..NetworkArguments::default()
        }
    }

    #[test]
    fn backends() {
        assert_eq!(parse_backend("user"), Ok(Backend::User));
        assert_eq!(parse_backend("tap=tap0"), Ok(Backend::Tap("tap0".into())));
        assert_eq!(
            parse_backend("tap=").unwrap_err().to_string(),
            "--net tap=: the TAP interface needs a name (e.g. --net tap=tap0)"
        );
        assert_eq!(
            parse_backend("bridge").unwrap_err().to_string(),
            "--net bridge: unknown network (expected `user` or `tap=NAME`)"
        );
    }

    #[test]
    fn forwards() {
        assert_eq!(
            parse_forward("8080:80"),
            Ok(Forward {
                host: 8080,
                guest: 80,
                protocol: Protocol::Tcp
            })
        );
        assert_eq!(
            parse_forward("5353:53/udp").unwrap().protocol,
            Protocol::Udp
        );
        for bad in ["8080", "0:80", "8080:70000", "a:b", "1:2/sctp", ":80"] {
            assert_eq!(
                parse_forward(bad).unwrap_err().to_string(),
                format!(
                    "-p {bad}: expected HOST:GUEST or HOST:GUEST/udp with ports 1-65535 (e.g. -p 8080:80)"
                )
            );
        }
    }

    #[test]
    fn combinations() {
        let forwards = vec!["8080:80".to_string()];
        assert_eq!(
            arguments(None, &forwards).parse().unwrap_err().to_string(),
            "-p 8080:80: port forwarding needs --net user (a TAP interface is reached directly)"
        );
        assert_eq!(
            arguments(Some("tap=tap0"), &forwards)
                .parse()
                .unwrap_err()
                .to_string(),
            "-p 8080:80: port forwarding needs --net user (a TAP interface is reached directly)"
        );
        let twice = vec!["8080:80".to_string(), "8080:81".to_string()];
        assert_eq!(
            arguments(Some("user"), &twice)
                .parse()
                .unwrap_err()
                .to_string(),
            "-p 8080:81: the host port is forwarded twice"
        );
        let gateway_alone = NetworkArguments {
            net: Some("user"),
            gateway: Some("10.0.2.2"),
            ..NetworkArguments::default()
        };
        assert_eq!(
            gateway_alone.parse().unwrap_err().to_string(),
            "--gateway needs --ip (the gateway is part of a static configuration)"
        );
        let bad_ip = NetworkArguments {
            net: Some("user"),
            ip: Some("10.0.2/24"),
            ..NetworkArguments::default()
        };
        assert_eq!(
            bad_ip.parse().unwrap_err().to_string(),
            "--ip 10.0.2/24: not an IPv4 address with a prefix length 0-32 (e.g. 10.0.2.15/24)"
        );
        let ip_alone = NetworkArguments {
            ip: Some("10.0.2.15/24"),
            ..NetworkArguments::default()
        };
        assert_eq!(
            ip_alone.parse().unwrap_err().to_string(),
            "--ip needs --net"
        );
        assert_eq!(arguments(None, &[]).parse(), Ok(None));
    }

    #[test]
    fn qemu_and_kernel_words() {
        let dns = vec!["10.0.2.3".to_string()];
        let forwards = vec!["8080:80".to_string(), "5353:53/udp".to_string()];
        let network = NetworkArguments {
            net: Some("user"),
            forwards: &forwards,
            ip: Some("10.0.2.15/24"),
            gateway: Some("10.0.2.2"),
            dns: &dns,
        }
        .parse()
        .unwrap()
        .unwrap();
        assert_eq!(
            network.qemu_arguments("microvm,acpi=off"),
            [
                "-netdev",
                "user,id=unik-net,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53",
                "-device",
                "virtio-net-device,netdev=unik-net"
            ]
        );
        assert_eq!(
            network.kernel_parameters(),
            [
                "unik.ip=10.0.2.15/24",
                "unik.gateway=10.0.2.2",
                "unik.dns=10.0.2.3"
            ]
        );
        assert_eq!(network.machine("microvm").unwrap(), "microvm,acpi=off");
        assert_eq!(network.machine("virt").unwrap(), "virt");
        assert_eq!(network.machine("q35").unwrap(), "q35");
        assert_eq!(network.machine("pc").unwrap(), "pc");
        for machine in ["q35", "pc,accel=tcg"] {
            assert_eq!(
                network.qemu_arguments(machine)[3],
                "virtio-net-pci,netdev=unik-net,disable-legacy=on"
            );
        }
        assert_eq!(
            network.machine("isapc").unwrap_err().to_string(),
            "--net: the isapc machine has no virtio-net the runtime drives (networking works on microvm, the default, q35, pc and aarch64 virt)"
        );
        let tap = parse_backend("tap=a,b").unwrap();
        let network = Network {
            backend: tap,
            forwards: Vec::new(),
            address: None,
            gateway: None,
            dns: Vec::new(),
        };
        assert_eq!(
            network.qemu_arguments("virt")[1],
            "tap,id=unik-net,ifname=a,,b,script=no,downscript=no"
        );
        assert!(network.kernel_parameters().is_empty());
    }
}
