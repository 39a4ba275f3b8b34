//! Networking: the `net` component (runtime/components.toml). BSD sockets as file
//! descriptors over smoltcp's TCP/IP stack on the virtio-net device.
//!
//! - [`config`]: `unik.ip=`, `unik.gateway=`, `unik.dns=` from the command line;
//! - [`stack`]: the stack and the socket table (host-tested over smoltcp's loopback);
//! - this file: the one stack of the program, the device glue, blocking, the network
//!   thread, the descriptor layer's hooks and the DNS hook for getaddrinfo;
//! - `exports`: the C symbols (socket, bind, …).
//!
//! Progress: the device's interrupt bumps [`DEVICE_EVENTS`] and wakes the network
//! thread, which polls the stack (receive, timers, transmit) and sleeps until the next
//! interrupt or the stack's next timer. Every stack change bumps
//! the descriptor layer's readiness counter (`fs::readiness`) and wakes its waiters: a blocked socket call (or
//! poll/select) sleeps on that word, never spins. Socket calls poll the stack too (before
//! and after their operation), so replies go out without waiting for the thread.
//!
//! Without a network device (`unik run` without `--net`) the stack runs over an
//! internal loopback: 127.0.0.1 works between the program's own sockets.

pub mod config;
pub mod stack;

#[cfg(not(test))]
mod device;
#[cfg(not(test))]
pub mod exports;

pub use stack::ResolveError;

#[cfg(not(test))]
pub use self::runtime::*;

#[cfg(not(test))]
mod runtime {
    extern crate alloc;

    use core::sync::atomic::{AtomicU32, Ordering};

    use super::device::Nic;
    use super::stack::{Errno, Stack};
    use super::{ResolveError, config};
    use crate::errno::{EAGAIN, EINPROGRESS, EIO, ENETUNREACH};
    use crate::fs::readiness;
    use crate::global::Global;
    use crate::thread::sync::{futex_wait, futex_wake};

    /// The program's stack (None until the first socket call).
    static STACK: Global<Option<Stack<Nic>>> = Global::new(None);

    /// Bumped by the device's interrupt; the network thread waits on it.
    static DEVICE_EVENTS: AtomicU32 = AtomicU32::new(0);

    fn now() -> u64 {
        unik_kernel::time::monotonic_nanoseconds()
    }

    /// The readiness generation of the stack's last change: every socket's (a change
    /// of one socket over-reports the others to edge-triggered epoll; none is missed).
    static LAST_CHANGE: AtomicU32 = AtomicU32::new(0);

    fn notify_readiness() {
        LAST_CHANGE.store(readiness::changed(), Ordering::Release);
        readiness::wake_waiters();
    }

    /// The generation for [`crate::fs::hooks::SocketHooks::readiness`].
    pub fn last_change() -> u32 {
        LAST_CHANGE.load(Ordering::Acquire)
    }

    /// Runs `body` on the stack (set up on first use), polling it before and after
    /// (receive what arrived, send what `body` queued), and wakes readiness waiters when
    /// anything changed.
    pub fn with_stack<R>(
        body: impl FnOnce(&mut Stack<Nic>) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        STACK.with(|stack| {
            let stack = made(stack)?;
            let mut changed = stack.poll(now());
            let result = body(stack);
            changed |= stack.poll(now());
            if changed {
                notify_readiness();
            }
            result
        })
    }

    /// Repeats `operation` until it does not say EAGAIN, sleeping on the readiness word
    /// in between (non-blocking: once). `timeout` in nanoseconds (0: none) ends the
    /// wait with EAGAIN, as SO_RCVTIMEO/SO_SNDTIMEO do.
    pub fn blocking<R>(
        nonblocking: bool,
        timeout: u64,
        mut operation: impl FnMut(&mut Stack<Nic>) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let deadline = (timeout != 0).then(|| now().saturating_add(timeout));
        loop {
            let seen = readiness::generation();
            match with_stack(&mut operation) {
                Err(EAGAIN) if !nonblocking => {
                    if deadline.is_some_and(|deadline| now() >= deadline) {
                        return Err(EAGAIN);
                    }
                    readiness::wait(seen, deadline);
                }
                result => return result,
            }
        }
    }

    /// The device's interrupt (interrupts off): wake the network thread.
    fn on_interrupt() {
        DEVICE_EVENTS.fetch_add(1, Ordering::Release);
        futex_wake(&DEVICE_EVENTS, usize::MAX);
    }

    /// The network thread: polls the stack on every interrupt and at its timers.
    fn network_thread(_argument: usize) {
        loop {
            let seen = DEVICE_EVENTS.load(Ordering::Acquire);
            let delay = STACK.with(|stack| {
                let stack = stack.as_mut()?;
                if stack.poll(now()) {
                    notify_readiness();
                }
                stack.poll_delay(now())
            });
            let deadline = delay.map(|delay| now().saturating_add(delay));
            let _ = futex_wait(&DEVICE_EVENTS, seen, deadline);
        }
    }

    /// The words before `--`: the runtime options.
    fn parameters(line: &[u8]) -> impl Iterator<Item = &[u8]> {
        let has_separator = line
            .split(|byte| byte.is_ascii_whitespace())
            .any(|word| word == b"--");
        line.split(|byte| byte.is_ascii_whitespace())
            .filter(|word| !word.is_empty())
            .take_while(|word| *word != b"--")
            .filter(move |_| has_separator)
    }

    /// The stack in `slot`, made first if there is none (EIO when it cannot be: no
    /// random source).
    fn made(slot: &mut Option<Stack<Nic>>) -> Result<&mut Stack<Nic>, Errno> {
        if slot.is_none() {
            *slot = Some(create()?);
        }
        slot.as_mut().ok_or(EIO)
    }

    /// Whether the missing random source was reported already (once per run).
    static NO_RANDOM_SOURCE_REPORTED: core::sync::atomic::AtomicBool =
        core::sync::atomic::AtomicBool::new(false);

    /// The stack, made on the first socket call (not at program start: Rust std refers
    /// to the socket functions from every program, which then links this component
    /// without ever using it): the device (or the loopback), the configuration, the
    /// descriptor hooks and the network thread.
    ///
    /// smoltcp's seed (TCP initial sequence numbers, ephemeral ports, DHCP transaction
    /// ids) comes from the random generator. Without a random source (no RDRAND/RDSEED
    /// or RNDR, no virtio-rng device) there is no stack: guessable sequence numbers
    /// would let anyone on the path inject into connections, so the socket calls fail
    /// with EIO (and one line on stderr names the cause) instead of falling back to
    /// the clock.
    fn create() -> Result<Stack<Nic>, Errno> {
        let line = crate::start::kernel_command_line();
        let config = match config::parse(parameters(line)) {
            Ok(config) => config,
            Err(config::BadOption(word)) => {
                crate::kernel::console::write_err(b"unik: bad network option `");
                crate::kernel::console::write_err(word);
                crate::kernel::console::write_err(b"`\n");
                crate::kernel::exit(2);
            }
        };
        let mut seed_bytes = [0u8; 8];
        if crate::kernel::random::fill(&mut seed_bytes).is_err() {
            if !NO_RANDOM_SOURCE_REPORTED.swap(true, Ordering::Relaxed) {
                crate::kernel::console::write_err(
                    b"unik: sockets need random numbers (TCP sequence numbers, ports) and there is no random source: the CPU has no random number instruction (RDRAND/RDSEED, RNDR) and there is no virtio-rng device (`unik run --rng` adds one); socket calls fail with EIO\n",
                );
            }
            return Err(EIO);
        }
        let seed = u64::from_le_bytes(seed_bytes);
        let (nic, config, device) = match unik_kernel::network::NetworkDevice::open(
            line,
            on_interrupt,
        ) {
            Ok(device) => (Nic::virtio(device), config, true),
            Err(error) => {
                if error != unik_kernel::network::NetworkError::NoDevice {
                    crate::kernel::console::write_err(
                        b"unik: the network device could not be set up; sockets use the loopback only\n",
                    );
                }
                let loopback = config::NetworkConfig {
                    address: Some(([127, 0, 0, 1], 8)),
                    gateway: None,
                    dns: alloc::vec::Vec::new(),
                };
                (Nic::loopback(), loopback, false)
            }
        };
        let mac = nic.mac_address();
        let stack = Stack::new(nic, mac, &config, now(), seed);
        crate::fs::hooks::install_sockets(&super::exports::SOCKET_HOOKS);
        // Without a device nothing happens between socket calls: no thread needed.
        if device {
            let spawned = unik_kernel::sched::spawn(unik_kernel::sched::SpawnOptions {
                entry: network_thread,
                argument: 0,
                stack_size: 64 * 1024,
                guard_size: 4096,
                name: b"unik-net",
                exit_clear_address: 0,
            });
            if spawned.is_err() {
                crate::kernel::console::write_err(b"unik: cannot start the network thread\n");
                crate::kernel::exit(134);
            }
        }
        Ok(stack)
    }

    /// At the program's exit: what was sent before it still reaches the peers (as a
    /// Linux process's sockets outlive it), waiting up to 2 s for the acknowledgements.
    pub fn drain() {
        let deadline = now().saturating_add(2_000_000_000);
        loop {
            let seen = readiness::generation();
            let unsent = STACK.with(|stack| {
                let Some(stack) = stack.as_mut() else {
                    return false;
                };
                stack.poll(now());
                stack.has_unsent()
            });
            if !unsent || now() >= deadline {
                return;
            }
            readiness::wait(seen, Some(now().saturating_add(10_000_000).min(deadline)));
        }
    }

    /// How long a blocking call that needs an address waits for DHCP's first lease.
    const CONFIGURATION_WAIT: u64 = 10_000_000_000;

    /// Runs `operation` on the stack; when it is blocking and fails with ENETUNREACH
    /// because DHCP has not configured the interface yet, waits for the configuration
    /// (up to 10 s) and tries again. The stack starts at the program's first socket
    /// call, so a client's first connect races DHCP (under TCG a lease takes a while);
    /// a Linux process started once the network is up never sees that window.
    pub fn once_configured<R>(
        nonblocking: bool,
        mut operation: impl FnMut(&mut Stack<Nic>) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let deadline = now().saturating_add(CONFIGURATION_WAIT);
        loop {
            let seen = readiness::generation();
            let (result, configuring) =
                with_stack(|stack| Ok((operation(stack), stack.configuring())))?;
            match result {
                Err(ENETUNREACH) if !nonblocking && configuring && now() < deadline => {
                    readiness::wait(seen, Some(deadline));
                }
                other => return other,
            }
        }
    }

    /// connect(2) with blocking: starts the connection, then (blocking) waits for it.
    pub fn connect(
        index: usize,
        nonblocking: bool,
        address: super::stack::Address,
    ) -> Result<(), Errno> {
        match once_configured(nonblocking, |stack| stack.connect(index, address)) {
            Err(EINPROGRESS) if !nonblocking => {
                blocking(false, 0, |stack| match stack.connect_result(index) {
                    Err(EINPROGRESS) => Err(EAGAIN),
                    other => other,
                })
            }
            other => other,
        }
    }

    /// Resolves a host name to IPv4 addresses through the DNS server (DHCP's or
    /// `unik.dns=`); dotted-quad text is returned as it is. The hook behind
    /// getaddrinfo/gethostbyname. Blocks up to 10 s.
    pub fn resolve(name: &[u8], out: &mut [[u8; 4]]) -> Result<usize, ResolveError> {
        if out.is_empty() {
            return Ok(0);
        }
        if let Some(address) = config::parse_ipv4(name) {
            out[0] = address;
            return Ok(1);
        }
        let query = STACK.with(|stack| {
            let stack = made(stack).map_err(|_| ResolveError::NoNetwork)?;
            let query = stack.start_query(name);
            if stack.poll(now()) {
                notify_readiness();
            }
            query
        })?;
        let deadline = now().saturating_add(10_000_000_000);
        loop {
            let seen = readiness::generation();
            let result = STACK.with(|stack| match stack.as_mut() {
                Some(stack) => {
                    if stack.poll(now()) {
                        notify_readiness();
                    }
                    stack.query_result(query, out)
                }
                None => Err(ResolveError::NoNetwork),
            });
            match result {
                Err(ResolveError::Pending) if now() < deadline => {
                    readiness::wait(seen, Some(deadline));
                }
                Err(ResolveError::Pending) => return Err(ResolveError::NotFound),
                other => return other,
            }
        }
    }
}
