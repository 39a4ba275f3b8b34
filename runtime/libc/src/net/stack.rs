//! The TCP/IP stack (smoltcp) and the socket table: BSD socket semantics over smoltcp's
//! sockets, with Linux's errno values. Generic over the device, so that the host unit
//! tests run it over smoltcp's loopback device.
//!
//! - A TCP socket has no smoltcp socket until `connect` (one socket) or `listen` (a
//!   pool of listening sockets, the backlog: a SYN turns one into a connection, which
//!   `accept` takes out and replaces).
//! - `close` of a connected TCP socket sends FIN and leaves the smoltcp socket to finish
//!   (an orphan, freed once closed), as a kernel does.
//! - Operations never block here: they return EAGAIN and the caller waits
//!   (`super::blocking`).

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;

use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::socket::{dhcpv4, dns, tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, IpListenEndpoint, Ipv4Address,
    Ipv4Cidr,
};

use super::config::NetworkConfig;
use crate::errno::{
    EADDRINUSE, EAFNOSUPPORT, EAGAIN, EALREADY, EBADF, ECONNREFUSED, ECONNRESET, EDESTADDRREQ,
    EINPROGRESS, EINVAL, EISCONN, EMSGSIZE, ENOMEM, ENOTCONN, EOPNOTSUPP, EPIPE,
};

pub type Errno = i32;

/// socket(2) types (the same on x86_64 and aarch64).
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;

/// Linux poll(2) bits.
pub const POLLIN: u32 = 0x1;
pub const POLLOUT: u32 = 0x4;
pub const POLLERR: u32 = 0x8;
pub const POLLHUP: u32 = 0x10;
pub const POLLRDHUP: u32 = 0x2000;

/// Buffer sizes: Linux's defaults are larger (tcp_rmem 128 KiB), but every connection
/// holds its buffers for its life; 64 KiB each way fills the window at loopback speed.
const TCP_BUFFER: usize = 64 * 1024;
const UDP_PACKETS: usize = 64;
const UDP_BUFFER: usize = 64 * 1024;
/// Listening sockets kept ready per `listen` (its backlog, capped). Each holds its
/// two buffers from `listen` on (smoltcp takes a socket's buffers when it is made), so
/// the cap bounds a listener's memory: 64 × 128 KiB = 8 MiB. Enough for a burst of 50
/// concurrent connects (tests/network_rust.rs); Linux queues up to `somaxconn` (4096).
const BACKLOG_LIMIT: usize = 64;
/// The ephemeral port range (Linux's ip_local_port_range default: 32768-60999).
const EPHEMERAL_FIRST: u16 = 32768;
const EPHEMERAL_LAST: u16 = 60999;
/// The largest UDP payload of one IPv4 datagram without fragmentation on Ethernet.
const UDP_PAYLOAD_LIMIT: usize = 1472;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stream,
    Datagram,
}

#[derive(Debug)]
enum State {
    /// TCP before connect/listen (maybe bound).
    Idle,
    Listening {
        backlog: Vec<SocketHandle>,
    },
    /// TCP: connect called; `reported` once connect's result was given.
    Connection {
        handle: SocketHandle,
        connecting: bool,
    },
    /// UDP: its smoltcp socket exists from the start.
    Datagram {
        handle: SocketHandle,
    },
}

/// Socket options a program set (SO_* and TCP_*): kept to report them back.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub reuse_address: bool,
    pub reuse_port: bool,
    pub keep_alive: bool,
    pub no_delay: bool,
    pub broadcast: bool,
    pub receive_buffer: u32,
    pub send_buffer: u32,
    /// SO_RCVTIMEO / SO_SNDTIMEO in nanoseconds (0: none).
    pub receive_timeout: u64,
    pub send_timeout: u64,
}

#[derive(Debug)]
pub struct Socket {
    pub kind: Kind,
    state: State,
    /// The bound address and port (address 0 = any).
    local: Option<([u8; 4], u16)>,
    /// UDP: the connected peer.
    peer: Option<IpEndpoint>,
    /// The pending error SO_ERROR reports (and clears).
    error: i32,
    read_shut: bool,
    write_shut: bool,
    pub options: Options,
}

/// A socket address as the C layer passes it (AF_INET only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub ip: [u8; 4],
    pub port: u16,
}

/// Any address, an ephemeral port: what an unbound UDP socket binds to on first use.
const ANY_PORT: Address = Address {
    ip: [0; 4],
    port: 0,
};

fn endpoint(address: Address) -> IpEndpoint {
    IpEndpoint::new(
        IpAddress::Ipv4(Ipv4Address::from_octets(address.ip)),
        address.port,
    )
}

fn address_of(endpoint: IpEndpoint) -> Address {
    let IpAddress::Ipv4(ip) = endpoint.addr;
    Address {
        ip: ip.octets(),
        port: endpoint.port,
    }
}

/// The stack: interface, smoltcp sockets, the BSD socket table.
pub struct Stack<D: Device> {
    pub device: D,
    interface: Interface,
    sockets: SocketSet<'static>,
    table: Vec<Option<Socket>>,
    /// Closed TCP connections still finishing (FIN, TIME-WAIT).
    orphans: Vec<SocketHandle>,
    dhcp: Option<SocketHandle>,
    dns: Option<SocketHandle>,
    dns_servers: Vec<[u8; 4]>,
    next_ephemeral: u16,
    epoch: u64,
}

fn tcp_socket(options: &Options) -> tcp::Socket<'static> {
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
    );
    socket.set_nagle_enabled(!options.no_delay);
    if options.keep_alive {
        // Linux's tcp_keepalive_time is 2 hours; the probes' interval here is what
        // smoltcp offers (one interval for idle time and probes).
        socket.set_keep_alive(Some(Duration::from_secs(75)));
    }
    socket
}

impl<D: Device> Stack<D> {
    /// The stack over `device` with `mac`; DHCP unless `config` has an address. `now`
    /// in nanoseconds; `seed` randomises initial sequence numbers and ports.
    pub fn new(mut device: D, mac: [u8; 6], config: &NetworkConfig, now: u64, seed: u64) -> Self {
        let mut interface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        interface_config.random_seed = seed;
        let interface = Interface::new(interface_config, &mut device, instant(now));
        let mut stack = Stack {
            device,
            interface,
            sockets: SocketSet::new(Vec::new()),
            table: Vec::new(),
            orphans: Vec::new(),
            dhcp: None,
            dns: None,
            dns_servers: config.dns.clone(),
            next_ephemeral: EPHEMERAL_FIRST
                + (seed % u64::from(EPHEMERAL_LAST - EPHEMERAL_FIRST)) as u16,
            epoch: 0,
        };
        match config.address {
            Some((address, prefix)) => {
                stack.set_address(address, prefix, config.gateway);
            }
            None => {
                let dhcp = stack.sockets.add(dhcpv4::Socket::new());
                stack.dhcp = Some(dhcp);
            }
        }
        stack.reset_dns();
        stack
    }

    fn set_address(&mut self, address: [u8; 4], prefix: u8, gateway: Option<[u8; 4]>) {
        self.interface.update_ip_addrs(|addresses| {
            addresses.clear();
            let _ = addresses.push(IpCidr::Ipv4(Ipv4Cidr::new(
                Ipv4Address::from_octets(address),
                prefix,
            )));
            // 127.0.0.1 beside it, for the program's connections to itself (the device
            // glue hands frames to the own address back as received).
            if address[0] != 127 {
                let _ = addresses.push(IpCidr::Ipv4(Ipv4Cidr::new(
                    Ipv4Address::new(127, 0, 0, 1),
                    8,
                )));
            }
        });
        self.interface.routes_mut().remove_default_ipv4_route();
        if let Some(gateway) = gateway {
            let _ = self
                .interface
                .routes_mut()
                .add_default_ipv4_route(Ipv4Address::from_octets(gateway));
        }
    }

    fn reset_dns(&mut self) {
        if let Some(handle) = self.dns.take() {
            self.sockets.remove(handle);
        }
        if !self.dns_servers.is_empty() {
            let servers: Vec<IpAddress> = self
                .dns_servers
                .iter()
                .map(|server| IpAddress::Ipv4(Ipv4Address::from_octets(*server)))
                .collect();
            self.dns = Some(self.sockets.add(dns::Socket::new(&servers, Vec::new())));
        }
    }

    /// The interface's IPv4 address, once configured.
    pub fn address(&self) -> Option<[u8; 4]> {
        self.interface.ipv4_addr().map(|address| address.octets())
    }

    /// Whether DHCP has not configured the interface yet (no address, no route: a
    /// connect or send now fails with ENETUNREACH).
    pub fn configuring(&self) -> bool {
        self.dhcp.is_some() && self.address().is_none()
    }

    /// Runs the stack: receives, processes timers, transmits. True when a socket's state
    /// may have changed (then readiness waiters must look again).
    pub fn poll(&mut self, now: u64) -> bool {
        let now = instant(now);
        let mut changed = false;
        // Bounded: a flood of frames must not keep the caller here forever.
        for _ in 0..64 {
            match self
                .interface
                .poll(now, &mut self.device, &mut self.sockets)
            {
                PollResult::SocketStateChanged => changed = true,
                PollResult::None => break,
            }
        }
        if let Some(handle) = self.dhcp
            && let Some(event) = self.sockets.get_mut::<dhcpv4::Socket>(handle).poll()
        {
            changed = true;
            match event {
                dhcpv4::Event::Configured(config) => {
                    let address = config.address;
                    let gateway = config.router.map(|router| router.octets());
                    let servers: Vec<[u8; 4]> = config
                        .dns_servers
                        .iter()
                        .map(|server| server.octets())
                        .collect();
                    self.set_address(address.address().octets(), address.prefix_len(), gateway);
                    if self.dns_servers.is_empty() || self.dns.is_none() {
                        self.dns_servers = servers;
                        self.reset_dns();
                    }
                }
                dhcpv4::Event::Deconfigured => {
                    self.interface
                        .update_ip_addrs(|addresses| addresses.clear());
                    self.interface.routes_mut().remove_default_ipv4_route();
                }
            }
        }
        let sockets = &mut self.sockets;
        self.orphans.retain(|handle| {
            let finished = sockets.get::<tcp::Socket>(*handle).state() == tcp::State::Closed;
            if finished {
                sockets.remove(*handle);
            }
            !finished
        });
        if changed {
            self.epoch = self.epoch.wrapping_add(1);
        }
        changed
    }

    /// Whether a TCP connection still has data or a FIN for its peer that the peer has
    /// not acknowledged (the program's exit waits a little for them).
    pub fn has_unsent(&self) -> bool {
        self.sockets.iter().any(|(_, socket)| match socket {
            smoltcp::socket::Socket::Tcp(tcp) => {
                tcp.send_queue() > 0
                    || matches!(
                        tcp.state(),
                        tcp::State::FinWait1 | tcp::State::Closing | tcp::State::LastAck
                    )
            }
            _ => false,
        })
    }

    /// Nanoseconds until the stack needs [`Stack::poll`] again (timers), if ever.
    pub fn poll_delay(&mut self, now: u64) -> Option<u64> {
        self.interface
            .poll_delay(instant(now), &self.sockets)
            .map(|delay| delay.total_micros().saturating_mul(1000))
    }

    fn socket(&mut self, index: usize) -> Result<&mut Socket, Errno> {
        self.table
            .get_mut(index)
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }

    /// socket(2): a new socket's index.
    pub fn open(&mut self, kind: Kind) -> Result<usize, Errno> {
        let state = match kind {
            Kind::Stream => State::Idle,
            Kind::Datagram => {
                let socket = udp::Socket::new(
                    udp::PacketBuffer::new(
                        vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
                        vec![0; UDP_BUFFER],
                    ),
                    udp::PacketBuffer::new(
                        vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
                        vec![0; UDP_BUFFER],
                    ),
                );
                State::Datagram {
                    handle: self.sockets.add(socket),
                }
            }
        };
        let socket = Socket {
            kind,
            state,
            local: None,
            peer: None,
            error: 0,
            read_shut: false,
            write_shut: false,
            options: Options {
                receive_buffer: TCP_BUFFER as u32,
                send_buffer: TCP_BUFFER as u32,
                ..Options::default()
            },
        };
        let index = match self.table.iter().position(Option::is_none) {
            Some(index) => index,
            None => {
                self.table.try_reserve(1).map_err(|_| ENOMEM)?;
                self.table.push(None);
                self.table.len() - 1
            }
        };
        self.table[index] = Some(socket);
        Ok(index)
    }

    /// Whether `port` of `kind` is taken by another socket (bound, listening or
    /// connected from it), unless both set SO_REUSEADDR/SO_REUSEPORT.
    fn port_in_use(&self, kind: Kind, port: u16, except: usize, reuse: bool) -> bool {
        self.table.iter().enumerate().any(|(index, socket)| {
            index != except
                && socket.as_ref().is_some_and(|socket| {
                    socket.kind == kind
                        && socket.local.is_some_and(|(_, bound)| bound == port)
                        && !(reuse
                            && (socket.options.reuse_address || socket.options.reuse_port)
                            && !matches!(socket.state, State::Listening { .. }))
                })
        })
    }

    fn ephemeral_port(&mut self, kind: Kind) -> Result<u16, Errno> {
        let span = u32::from(EPHEMERAL_LAST - EPHEMERAL_FIRST) + 1;
        for _ in 0..span {
            let port = self.next_ephemeral;
            self.next_ephemeral = if port >= EPHEMERAL_LAST {
                EPHEMERAL_FIRST
            } else {
                port + 1
            };
            if !self.port_in_use(kind, port, usize::MAX, false) {
                return Ok(port);
            }
        }
        Err(crate::errno::EADDRNOTAVAIL)
    }

    /// bind(2).
    pub fn bind(&mut self, index: usize, address: Address) -> Result<(), Errno> {
        let socket = self.socket(index)?;
        if socket.local.is_some() {
            return Err(EINVAL);
        }
        let kind = socket.kind;
        let reuse = socket.options.reuse_address || socket.options.reuse_port;
        if address.ip != [0; 4]
            && !address.ip.starts_with(&[127])
            && self.address().is_some_and(|own| own != address.ip)
        {
            return Err(crate::errno::EADDRNOTAVAIL);
        }
        let port = match address.port {
            0 => self.ephemeral_port(kind)?,
            port if self.port_in_use(kind, port, index, reuse) => return Err(EADDRINUSE),
            port => port,
        };
        let socket = self.socket(index)?;
        socket.local = Some((address.ip, port));
        if let State::Datagram { handle } = socket.state {
            let listen = listen_endpoint(address.ip, port);
            self.sockets
                .get_mut::<udp::Socket>(handle)
                .bind(listen)
                .map_err(|_| EINVAL)?;
        }
        Ok(())
    }

    /// listen(2).
    pub fn listen(&mut self, index: usize, backlog: i32) -> Result<(), Errno> {
        let size = usize::try_from(backlog)
            .unwrap_or(0)
            .clamp(1, BACKLOG_LIMIT);
        let socket = self.socket(index)?;
        if socket.kind != Kind::Stream {
            return Err(EOPNOTSUPP);
        }
        match socket.state {
            State::Idle => {}
            State::Listening { .. } => return Ok(()),
            _ => return Err(EINVAL),
        }
        if socket.local.is_none() {
            let port = self.ephemeral_port(Kind::Stream)?;
            self.socket(index)?.local = Some(([0; 4], port));
        }
        let socket = self.socket(index)?;
        let (ip, port) = socket.local.unwrap_or(([0; 4], 0));
        let options = socket.options;
        let mut backlog = Vec::new();
        for _ in 0..size {
            backlog.push(self.listening_socket(ip, port, &options)?);
        }
        self.socket(index)?.state = State::Listening { backlog };
        Ok(())
    }

    fn listening_socket(
        &mut self,
        ip: [u8; 4],
        port: u16,
        options: &Options,
    ) -> Result<SocketHandle, Errno> {
        let mut socket = tcp_socket(options);
        socket
            .listen(listen_endpoint(ip, port))
            .map_err(|_| EINVAL)?;
        Ok(self.sockets.add(socket))
    }

    /// accept(2): the new socket and its peer, or EAGAIN.
    pub fn accept(&mut self, index: usize) -> Result<(usize, Address), Errno> {
        let socket = self
            .table
            .get(index)
            .and_then(Option::as_ref)
            .ok_or(EBADF)?;
        let State::Listening { backlog, .. } = &socket.state else {
            return Err(EINVAL);
        };
        let (ip, port) = socket.local.unwrap_or(([0; 4], 0));
        let options = socket.options;
        let sockets = &self.sockets;
        let Some(position) = backlog.iter().position(|handle| {
            let state = sockets.get::<tcp::Socket>(*handle).state();
            !matches!(state, tcp::State::Listen | tcp::State::SynReceived)
        }) else {
            return Err(EAGAIN);
        };
        let replacement = self.listening_socket(ip, port, &options)?;
        let socket = self.socket(index)?;
        let State::Listening { backlog, .. } = &mut socket.state else {
            return Err(EINVAL);
        };
        let handle = core::mem::replace(&mut backlog[position], replacement);
        let connection = self.sockets.get::<tcp::Socket>(handle);
        let peer = connection
            .remote_endpoint()
            .map(address_of)
            .unwrap_or(Address {
                ip: [0; 4],
                port: 0,
            });
        let local = connection
            .local_endpoint()
            .map(|endpoint| (address_of(endpoint).ip, endpoint.port));
        let new = self.open(Kind::Stream)?;
        let accepted = self.socket(new)?;
        accepted.state = State::Connection {
            handle,
            connecting: false,
        };
        accepted.local = local;
        accepted.options = options;
        Ok((new, peer))
    }

    /// connect(2): starts a TCP connection (EINPROGRESS: [`Stack::connect_result`]
    /// tells when it is done) or sets a UDP socket's peer.
    pub fn connect(&mut self, index: usize, address: Address) -> Result<(), Errno> {
        let socket = self.socket(index)?;
        match socket.state {
            State::Datagram { .. } => {
                socket.peer = Some(endpoint(address));
                if socket.local.is_none() {
                    self.bind(index, ANY_PORT)?;
                }
                return Ok(());
            }
            // Linux: EALREADY while the attempt runs, EISCONN once it succeeded, and
            // the attempt's error once it failed.
            State::Connection {
                connecting: true, ..
            } => {
                return match self.connect_result(index) {
                    Ok(()) => Err(EISCONN),
                    Err(EINPROGRESS) => Err(EALREADY),
                    Err(error) => Err(error),
                };
            }
            State::Connection { .. } => return Err(EISCONN),
            State::Listening { .. } => return Err(EINVAL),
            State::Idle => {}
        }
        if address.ip == [0; 4] || address.port == 0 {
            return Err(ECONNREFUSED);
        }
        let local_port = match socket.local {
            Some((_, port)) => port,
            None => {
                let port = self.ephemeral_port(Kind::Stream)?;
                self.socket(index)?.local = Some(([0; 4], port));
                port
            }
        };
        let options = self.socket(index)?.options;
        let mut connection = tcp_socket(&options);
        connection
            .connect(self.interface.context(), endpoint(address), local_port)
            .map_err(|error| match error {
                tcp::ConnectError::Unaddressable => crate::errno::ENETUNREACH,
                tcp::ConnectError::InvalidState => EISCONN,
            })?;
        let handle = self.sockets.add(connection);
        self.socket(index)?.state = State::Connection {
            handle,
            connecting: true,
        };
        Err(EINPROGRESS)
    }

    /// Where a connect stands: Ok once connected, EINPROGRESS while trying, else the
    /// error it ended with (ECONNREFUSED for a reset, ETIMEDOUT).
    pub fn connect_result(&mut self, index: usize) -> Result<(), Errno> {
        let socket = self.socket(index)?;
        let State::Connection { handle, connecting } = socket.state else {
            return Err(ENOTCONN);
        };
        if !connecting {
            return Ok(());
        }
        let state = self.sockets.get::<tcp::Socket>(handle).state();
        let socket = self.socket(index)?;
        match state {
            tcp::State::SynSent | tcp::State::SynReceived => Err(EINPROGRESS),
            tcp::State::Closed => {
                // A reset (or the timeout) ended the attempt; the socket is unconnected
                // again and may connect anew (Linux allows that after a failure).
                socket.state = State::Idle;
                Err(ECONNREFUSED)
            }
            _ => {
                socket.state = State::Connection {
                    handle,
                    connecting: false,
                };
                Ok(())
            }
        }
    }

    /// Records a connect's failure for SO_ERROR (non-blocking connect).
    pub fn take_error(&mut self, index: usize) -> Result<i32, Errno> {
        match self.connect_result(index) {
            Err(ECONNREFUSED) => return Ok(ECONNREFUSED),
            Err(EBADF) => return Err(EBADF),
            _ => {}
        }
        let socket = self.socket(index)?;
        Ok(core::mem::take(&mut socket.error))
    }

    /// send(2)/sendto(2): bytes queued, or EAGAIN when no room.
    pub fn send(&mut self, index: usize, data: &[u8], to: Option<Address>) -> Result<usize, Errno> {
        let socket = self.socket(index)?;
        if socket.write_shut {
            return Err(EPIPE);
        }
        match socket.state {
            State::Datagram { handle } => {
                let destination = match to {
                    Some(address) => endpoint(address),
                    None => socket.peer.ok_or(EDESTADDRREQ)?,
                };
                if data.len() > UDP_PAYLOAD_LIMIT {
                    return Err(EMSGSIZE);
                }
                if socket.local.is_none() {
                    self.bind(index, ANY_PORT)?;
                }
                let udp = self.sockets.get_mut::<udp::Socket>(handle);
                match udp.send_slice(data, destination) {
                    Ok(()) => Ok(data.len()),
                    Err(udp::SendError::BufferFull) => Err(EAGAIN),
                    Err(udp::SendError::Unaddressable) => Err(crate::errno::ENETUNREACH),
                }
            }
            State::Connection { handle, connecting } => {
                if connecting {
                    self.connect_result(index)?;
                }
                let tcp = self.sockets.get_mut::<tcp::Socket>(handle);
                if !tcp.may_send() {
                    return Err(match tcp.state() {
                        tcp::State::Closed if !tcp.is_open() => ECONNRESET,
                        _ => EPIPE,
                    });
                }
                match tcp.send_slice(data) {
                    Ok(0) if !data.is_empty() => Err(EAGAIN),
                    Ok(count) => Ok(count),
                    Err(_) => Err(EPIPE),
                }
            }
            State::Idle | State::Listening { .. } => Err(ENOTCONN),
        }
    }

    /// recv(2)/recvfrom(2): bytes read (0: end of stream) and the sender, or EAGAIN.
    /// A datagram longer than `buffer` is cut (its rest is lost, as on Linux).
    pub fn receive(
        &mut self,
        index: usize,
        buffer: &mut [u8],
        peek: bool,
    ) -> Result<(usize, Option<Address>), Errno> {
        let socket = self.socket(index)?;
        let read_shut = socket.read_shut;
        match socket.state {
            State::Datagram { handle } => {
                let peer = socket.peer;
                let udp = self.sockets.get_mut::<udp::Socket>(handle);
                loop {
                    // The datagram is copied as far as it fits; the rest is lost (the
                    // whole datagram is consumed unless peeking), as on Linux.
                    let result = if peek {
                        udp.peek().map(|(data, meta)| {
                            let count = data.len().min(buffer.len());
                            buffer[..count].copy_from_slice(&data[..count]);
                            (count, meta.endpoint)
                        })
                    } else {
                        udp.recv().map(|(data, meta)| {
                            let count = data.len().min(buffer.len());
                            buffer[..count].copy_from_slice(&data[..count]);
                            (count, meta.endpoint)
                        })
                    };
                    match result {
                        // A connected UDP socket only takes its peer's datagrams.
                        Ok((_, from)) if peer.is_some_and(|peer| peer != from) && !peek => {
                            continue;
                        }
                        Ok((count, from)) => return Ok((count, Some(address_of(from)))),
                        Err(_) if read_shut => return Ok((0, None)),
                        Err(_) => return Err(EAGAIN),
                    }
                }
            }
            State::Connection { handle, connecting } => {
                if connecting {
                    self.connect_result(index)?;
                }
                let tcp = self.sockets.get_mut::<tcp::Socket>(handle);
                let peer = tcp.remote_endpoint().map(address_of);
                if read_shut {
                    return Ok((0, peer));
                }
                let result = if peek {
                    tcp.peek_slice(buffer)
                } else {
                    tcp.recv_slice(buffer)
                };
                match result {
                    Ok(0) if !buffer.is_empty() && tcp.may_recv() => Err(EAGAIN),
                    Ok(0)
                        if !tcp.may_recv()
                            && tcp.state() == tcp::State::Closed
                            && tcp.is_open() =>
                    {
                        Err(ECONNRESET)
                    }
                    Ok(count) => Ok((count, peer)),
                    Err(tcp::RecvError::Finished) => Ok((0, peer)),
                    Err(tcp::RecvError::InvalidState) => {
                        if tcp.state() == tcp::State::Closed {
                            Err(ECONNRESET)
                        } else {
                            Err(ENOTCONN)
                        }
                    }
                }
            }
            State::Idle | State::Listening { .. } => Err(ENOTCONN),
        }
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn pending(&mut self, index: usize) -> Result<usize, Errno> {
        let socket = self.socket(index)?;
        match socket.state {
            State::Datagram { handle } => {
                let udp = self.sockets.get_mut::<udp::Socket>(handle);
                Ok(udp.peek().map(|(data, _)| data.len()).unwrap_or(0))
            }
            State::Connection { handle, .. } => {
                Ok(self.sockets.get::<tcp::Socket>(handle).recv_queue())
            }
            _ => Ok(0),
        }
    }

    /// shutdown(2): 0 read, 1 write, 2 both.
    pub fn shutdown(&mut self, index: usize, how: i32) -> Result<(), Errno> {
        if !(0..=2).contains(&how) {
            return Err(EINVAL);
        }
        let socket = self.socket(index)?;
        let handle = match socket.state {
            State::Connection { handle, .. } => Some(handle),
            State::Datagram { .. } if socket.peer.is_some() => None,
            _ => return Err(ENOTCONN),
        };
        if how != 1 {
            socket.read_shut = true;
        }
        if how != 0 {
            socket.write_shut = true;
            if let Some(handle) = handle {
                self.sockets.get_mut::<tcp::Socket>(handle).close();
            }
        }
        Ok(())
    }

    /// The last descriptor was closed: frees the socket (a connection finishes on its
    /// own: FIN now, the smoltcp socket freed once closed).
    pub fn close(&mut self, index: usize) {
        let Some(socket) = self.table.get_mut(index).and_then(Option::take) else {
            return;
        };
        match socket.state {
            State::Idle => {}
            State::Listening { backlog, .. } => {
                for handle in backlog {
                    let tcp = self.sockets.get_mut::<tcp::Socket>(handle);
                    if matches!(tcp.state(), tcp::State::Listen) {
                        self.sockets.remove(handle);
                    } else {
                        // A connection nobody accepted: reset it, as Linux does.
                        tcp.abort();
                        self.orphans.push(handle);
                    }
                }
            }
            State::Connection { handle, .. } => {
                let tcp = self.sockets.get_mut::<tcp::Socket>(handle);
                if tcp.recv_queue() > 0 {
                    // Unread data: Linux resets the connection (RFC 2525 2.17).
                    tcp.abort();
                } else {
                    tcp.close();
                }
                self.orphans.push(handle);
            }
            State::Datagram { handle } => {
                self.sockets.remove(handle);
            }
        }
    }

    /// The poll(2) bits the socket has now.
    pub fn readiness(&mut self, index: usize) -> u32 {
        let Some(socket) = self.table.get(index).and_then(Option::as_ref) else {
            return POLLERR;
        };
        let (read_shut, write_shut) = (socket.read_shut, socket.write_shut);
        match &socket.state {
            State::Idle => POLLOUT | POLLHUP,
            State::Listening { backlog, .. } => {
                let ready = backlog.iter().any(|handle| {
                    !matches!(
                        self.sockets.get::<tcp::Socket>(*handle).state(),
                        tcp::State::Listen | tcp::State::SynReceived
                    )
                });
                if ready { POLLIN } else { 0 }
            }
            State::Datagram { handle } => {
                let udp = self.sockets.get::<udp::Socket>(*handle);
                let mut bits = 0;
                if udp.can_recv() || read_shut {
                    bits |= POLLIN;
                }
                if udp.can_send() {
                    bits |= POLLOUT;
                }
                bits
            }
            State::Connection { handle, connecting } => {
                let tcp = self.sockets.get::<tcp::Socket>(*handle);
                let state = tcp.state();
                if *connecting {
                    return match state {
                        tcp::State::SynSent | tcp::State::SynReceived => 0,
                        tcp::State::Closed => POLLOUT | POLLERR | POLLHUP,
                        _ => POLLOUT,
                    };
                }
                let mut bits = 0;
                if tcp.can_recv() || !tcp.may_recv() || read_shut {
                    bits |= POLLIN;
                }
                if !tcp.may_recv() {
                    bits |= POLLRDHUP;
                }
                if tcp.can_send() || write_shut {
                    bits |= POLLOUT;
                }
                if state == tcp::State::Closed || (!tcp.may_recv() && !tcp.may_send()) {
                    bits |= POLLHUP;
                }
                bits
            }
        }
    }

    /// getsockname(2).
    pub fn local_address(&mut self, index: usize) -> Result<Address, Errno> {
        let own = self.address();
        let socket = self.socket(index)?;
        if let State::Connection { handle, .. } = socket.state
            && let Some(endpoint) = self.sockets.get::<tcp::Socket>(handle).local_endpoint()
        {
            return Ok(address_of(endpoint));
        }
        let socket = self.socket(index)?;
        Ok(match socket.local {
            Some((ip, port)) => Address {
                ip: if ip == [0; 4] && socket.peer.is_some() {
                    own.unwrap_or(ip)
                } else {
                    ip
                },
                port,
            },
            None => Address {
                ip: [0; 4],
                port: 0,
            },
        })
    }

    /// getpeername(2).
    pub fn peer_address(&mut self, index: usize) -> Result<Address, Errno> {
        let socket = self.socket(index)?;
        match socket.state {
            State::Datagram { .. } => socket.peer.map(address_of).ok_or(ENOTCONN),
            State::Connection { handle, connecting } => {
                if connecting {
                    self.connect_result(index)?;
                }
                self.sockets
                    .get::<tcp::Socket>(handle)
                    .remote_endpoint()
                    .map(address_of)
                    .ok_or(ENOTCONN)
            }
            _ => Err(ENOTCONN),
        }
    }

    /// The socket's options, to read or change (a change to TCP_NODELAY or
    /// SO_KEEPALIVE reaches a live connection through [`Stack::apply_options`]).
    pub fn options(&mut self, index: usize) -> Result<&mut Options, Errno> {
        Ok(&mut self.socket(index)?.options)
    }

    pub fn kind(&mut self, index: usize) -> Result<Kind, Errno> {
        Ok(self.socket(index)?.kind)
    }

    pub fn is_listening(&mut self, index: usize) -> Result<bool, Errno> {
        Ok(matches!(self.socket(index)?.state, State::Listening { .. }))
    }

    pub fn apply_options(&mut self, index: usize) -> Result<(), Errno> {
        let socket = self.socket(index)?;
        let options = socket.options;
        if let State::Connection { handle, .. } = socket.state {
            let tcp = self.sockets.get_mut::<tcp::Socket>(handle);
            tcp.set_nagle_enabled(!options.no_delay);
            tcp.set_keep_alive(options.keep_alive.then(|| Duration::from_secs(75)));
        }
        Ok(())
    }

    /// Starts resolving `name` (A records); the query's handle.
    pub fn start_query(&mut self, name: &[u8]) -> Result<dns::QueryHandle, ResolveError> {
        let handle = self.dns.ok_or(ResolveError::NoServer)?;
        let name = core::str::from_utf8(name).map_err(|_| ResolveError::BadName)?;
        let dns = self.sockets.get_mut::<dns::Socket>(handle);
        dns.start_query(
            self.interface.context(),
            name,
            smoltcp::wire::DnsQueryType::A,
        )
        .map_err(|error| match error {
            dns::StartQueryError::NoFreeSlot => ResolveError::Busy,
            _ => ResolveError::BadName,
        })
    }

    /// The query's result: Ok(addresses), or EAGAIN while waiting.
    pub fn query_result(
        &mut self,
        query: dns::QueryHandle,
        out: &mut [[u8; 4]],
    ) -> Result<usize, ResolveError> {
        let handle = self.dns.ok_or(ResolveError::NoServer)?;
        let dns = self.sockets.get_mut::<dns::Socket>(handle);
        match dns.get_query_result(query) {
            Ok(addresses) => {
                let mut count = 0;
                for address in addresses.iter() {
                    let IpAddress::Ipv4(address) = address;
                    if count < out.len() {
                        out[count] = address.octets();
                        count += 1;
                    }
                }
                Ok(count)
            }
            Err(dns::GetQueryResultError::Pending) => Err(ResolveError::Pending),
            Err(dns::GetQueryResultError::Failed) => Err(ResolveError::NotFound),
        }
    }
}

/// Why a name did not resolve (getaddrinfo maps these to EAI_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// No DNS server is known (static configuration without `unik.dns=`, or DHCP not
    /// done): EAI_AGAIN.
    NoServer,
    /// Not a valid host name: EAI_NONAME.
    BadName,
    /// The server answered that the name does not exist, or did not answer: EAI_NONAME.
    NotFound,
    /// Too many queries at once: EAI_AGAIN.
    Busy,
    /// Still waiting (internal).
    Pending,
    /// The program has no network device: EAI_FAIL.
    NoNetwork,
}

fn listen_endpoint(ip: [u8; 4], port: u16) -> IpListenEndpoint {
    IpListenEndpoint {
        addr: (ip != [0; 4]).then(|| IpAddress::Ipv4(Ipv4Address::from_octets(ip))),
        port,
    }
}

fn instant(nanoseconds: u64) -> Instant {
    Instant::from_micros((nanoseconds / 1000) as i64)
}

/// AF_INET and nothing else.
pub fn check_family(family: i32) -> Result<(), Errno> {
    if family == 2 {
        Ok(())
    } else {
        Err(EAFNOSUPPORT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::phy::{Loopback, Medium};

    const HERE: Address = Address {
        ip: [127, 0, 0, 1],
        port: 0,
    };

    fn stack() -> Stack<Loopback> {
        let config = NetworkConfig {
            address: Some(([127, 0, 0, 1], 8)),
            gateway: None,
            dns: Vec::new(),
        };
        Stack::new(
            Loopback::new(Medium::Ethernet),
            [2, 0, 0, 0, 0, 1],
            &config,
            0,
            7,
        )
    }

    /// Polls with advancing time until `done` or a simulated 10 s pass.
    fn run<T>(
        stack: &mut Stack<Loopback>,
        clock: &mut u64,
        mut done: impl FnMut(&mut Stack<Loopback>) -> Option<T>,
    ) -> T {
        for _ in 0..100_000 {
            stack.poll(*clock);
            if let Some(value) = done(stack) {
                return value;
            }
            *clock += 1_000_000;
        }
        panic!("no progress in 100 simulated seconds");
    }

    #[test]
    fn tcp_connect_accept_echo_close() {
        let mut stack = stack();
        let mut clock = 0;
        let server = stack.open(Kind::Stream).unwrap();
        stack.bind(server, Address { port: 8080, ..HERE }).unwrap();
        stack.listen(server, 4).unwrap();
        assert_eq!(stack.accept(server), Err(EAGAIN));
        // A second bind to the port is refused.
        let other = stack.open(Kind::Stream).unwrap();
        assert_eq!(
            stack.bind(other, Address { port: 8080, ..HERE }),
            Err(EADDRINUSE)
        );
        let client = stack.open(Kind::Stream).unwrap();
        assert_eq!(
            stack.connect(client, Address { port: 8080, ..HERE }),
            Err(EINPROGRESS)
        );
        assert_eq!(
            stack.connect(client, Address { port: 8080, ..HERE }),
            Err(EALREADY)
        );
        run(&mut stack, &mut clock, |stack| {
            stack.connect_result(client).ok()
        });
        let (accepted, peer) = run(&mut stack, &mut clock, |stack| stack.accept(server).ok());
        assert_eq!(peer.ip, [127, 0, 0, 1]);
        assert_eq!(stack.peer_address(client).unwrap().port, 8080);
        assert_eq!(stack.local_address(accepted).unwrap().port, 8080);
        assert_eq!(stack.send(client, b"ping", None), Ok(4));
        let mut buffer = [0u8; 16];
        let (count, _) = run(&mut stack, &mut clock, |stack| {
            stack.receive(accepted, &mut buffer, false).ok()
        });
        assert_eq!(&buffer[..count], b"ping");
        assert_eq!(stack.receive(accepted, &mut buffer, false), Err(EAGAIN));
        assert_eq!(stack.readiness(accepted) & POLLIN, 0);
        assert_ne!(stack.readiness(accepted) & POLLOUT, 0);
        stack.close(client);
        let (count, _) = run(&mut stack, &mut clock, |stack| {
            stack.receive(accepted, &mut buffer, false).ok()
        });
        assert_eq!(count, 0, "end of stream after the peer's close");
        assert_ne!(stack.readiness(accepted) & POLLIN, 0);
        stack.close(accepted);
        stack.close(server);
        run(&mut stack, &mut clock, |stack| {
            stack.orphans.is_empty().then_some(())
        });
    }

    #[test]
    fn connect_to_a_closed_port_is_refused() {
        let mut stack = stack();
        let mut clock = 0;
        let client = stack.open(Kind::Stream).unwrap();
        assert_eq!(
            stack.connect(client, Address { port: 9, ..HERE }),
            Err(EINPROGRESS)
        );
        let error = run(&mut stack, &mut clock, |stack| {
            match stack.connect_result(client) {
                Err(EINPROGRESS) => None,
                other => Some(other),
            }
        });
        assert_eq!(error, Err(ECONNREFUSED));
        assert_eq!(stack.send(client, b"x", None), Err(ENOTCONN));
    }

    #[test]
    fn before_dhcp_the_network_is_unreachable_and_configuring() {
        let config = NetworkConfig {
            address: None,
            gateway: None,
            dns: Vec::new(),
        };
        let mut stack = Stack::new(
            Loopback::new(Medium::Ethernet),
            [2, 0, 0, 0, 0, 1],
            &config,
            0,
            7,
        );
        assert!(stack.configuring());
        let client = stack.open(Kind::Stream).unwrap();
        let server = Address {
            ip: [10, 0, 2, 2],
            port: 80,
        };
        assert_eq!(
            stack.connect(client, server),
            Err(crate::errno::ENETUNREACH)
        );
        // A static configuration is never waited for.
        assert!(!self::stack().configuring());
    }

    #[test]
    fn udp_send_receive() {
        let mut stack = stack();
        let mut clock = 0;
        let a = stack.open(Kind::Datagram).unwrap();
        let b = stack.open(Kind::Datagram).unwrap();
        stack.bind(a, Address { port: 7000, ..HERE }).unwrap();
        assert_eq!(stack.send(b, b"x", None), Err(EDESTADDRREQ));
        assert_eq!(
            stack.send(b, b"hello", Some(Address { port: 7000, ..HERE })),
            Ok(5)
        );
        let mut buffer = [0u8; 3];
        let (count, from) = run(&mut stack, &mut clock, |stack| {
            stack.receive(a, &mut buffer, false).ok()
        });
        assert_eq!(&buffer[..count], b"hel", "cut to the buffer");
        assert_eq!(from.unwrap().port, stack.local_address(b).unwrap().port);
        assert_eq!(stack.send(b, &[0; 2000], Some(HERE)), Err(EMSGSIZE));
    }
}
