//! `unik run -p HOST:GUEST` under load: QEMU's user network (libslirp) listens on each
//! forwarded TCP port with a backlog of 1 (`listen(s, 1)` in its `tcpx_listen`), so
//! the host kernel queues at most two connections that QEMU has not accepted yet.
//! QEMU accepts one per main-loop turn; under TCG a busy guest makes those turns
//! slow, and a burst of concurrent connects overflows the queue: the kernel drops
//! the SYNs (the clients retry after 1, 3, 7 … s) and the handshakes' last ACKs
//! (those clients believe they are connected, send their request, and get a reset
//! once the kernel gives up on the half-open connection). The guest never sees
//! these connections (a capture of the guest's frames shows no SYN and no RST).
//!
//! The listening socket is shared by QEMU and us once we hold a duplicate of its
//! descriptor (`pidfd_getfd(2)`, Linux 5.6, allowed for our own child), and
//! `listen(2)` on a listening socket only changes its backlog: after that the host
//! queues as many connections as a Linux server would.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// Linux's `SOMAXCONN` (since 5.4); the kernel caps it at `net.core.somaxconn`.
pub const BACKLOG: i32 = 4096;

/// How long to look for QEMU's listening sockets: QEMU makes them while it starts,
/// before the guest runs.
const SEARCH_TIME: Duration = Duration::from_secs(30);
const SEARCH_INTERVAL: Duration = Duration::from_millis(20);

/// The socket inodes listening on 127.0.0.1:`port` in a `/proc/net/tcp` listing.
pub fn listening_inodes(proc_net_tcp: &str, port: u16) -> Vec<u64> {
    // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    // "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 …"
    let local = format!("0100007F:{port:04X}");
    proc_net_tcp
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // State 0A: TCP_LISTEN.
            (fields.len() > 9 && fields[1] == local && fields[3] == "0A")
                .then(|| fields[9].parse().ok())
                .flatten()
        })
        .collect()
}

/// The socket inode a `/proc/PID/fd/N` link names (`socket:[12345]`).
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Raises the backlog of the sockets QEMU (process `pid`, our child) listens on for
/// `ports`, waiting for them to appear while QEMU starts. `Err` says why it could not
/// (the forwards then work, with QEMU's queue of two).
pub fn widen(pid: u32, ports: &[u16], running: &dyn Fn() -> bool) -> Result<(), String> {
    let process = rustix::process::Pid::from_raw(i32::try_from(pid).map_err(|_| "bad pid")?)
        .ok_or("bad pid")?;
    let pidfd = rustix::process::pidfd_open(process, rustix::process::PidfdFlags::empty())
        .map_err(|error| format!("pidfd_open: {error}"))?;
    let started = Instant::now();
    let mut remaining: Vec<u16> = ports.to_vec();
    while !remaining.is_empty() {
        let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp"))
            .map_err(|error| format!("/proc/{pid}/net/tcp: {error}"))?;
        let wanted: Vec<(u16, Vec<u64>)> = remaining
            .iter()
            .map(|&port| (port, listening_inodes(&table, port)))
            .filter(|(_, inodes)| !inodes.is_empty())
            .collect();
        if !wanted.is_empty() {
            for (descriptor, inode) in socket_descriptors(pid)? {
                for (port, inodes) in &wanted {
                    if inodes.contains(&inode) {
                        raise(&pidfd, descriptor)?;
                        remaining.retain(|other| other != port);
                    }
                }
            }
        }
        if remaining.is_empty() {
            break;
        }
        if !running() || started.elapsed() > SEARCH_TIME {
            return Err(format!(
                "QEMU's listening socket for port {} was not found",
                remaining[0]
            ));
        }
        std::thread::sleep(SEARCH_INTERVAL);
    }
    Ok(())
}

/// QEMU's socket descriptors and their inodes.
fn socket_descriptors(pid: u32) -> Result<Vec<(i32, u64)>, String> {
    let directory = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&directory).map_err(|error| format!("{directory}: {error}"))?;
    Ok(entries
        .flatten()
        .filter_map(|entry| {
            let descriptor = entry.file_name().to_str()?.parse().ok()?;
            let link = std::fs::read_link(entry.path()).ok()?;
            Some((descriptor, socket_inode(link.to_str()?)?))
        })
        .collect())
}

fn raise(pidfd: &OwnedFd, descriptor: i32) -> Result<(), String> {
    let socket = rustix::process::pidfd_getfd(
        pidfd.as_fd(),
        descriptor,
        rustix::process::PidfdGetfdFlags::empty(),
    )
    .map_err(|error| format!("pidfd_getfd: {error}"))?;
    rustix::net::listen(&socket, BACKLOG).map_err(|error| format!("listen: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn finds_the_listening_socket_of_a_loopback_port() {
        assert_eq!(listening_inodes(TABLE, 8080), vec![4242]);
        // Another address (0.0.0.0) or no listener: none.
        assert_eq!(listening_inodes(TABLE, 8081), Vec::<u64>::new());
        assert_eq!(listening_inodes(TABLE, 9), Vec::<u64>::new());
        assert_eq!(listening_inodes("", 8080), Vec::<u64>::new());
    }

    #[test]
    fn reads_socket_links() {
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn widens_a_child_s_listening_socket() {
        // A child that listens with a backlog of 1 on a loopback port, as QEMU does.
        let script = "import socket,sys,time\n\
                      s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n\
                      print(s.getsockname()[1], flush=True); time.sleep(30)";
        let Ok(mut child) = std::process::Command::new("python3")
            .args(["-c", script])
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("skipped: no python3 to play QEMU's part");
            return;
        };
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        let result = widen(child.id(), &[port], &|| true);
        // The child never accepts: with QEMU's backlog the kernel would queue two
        // connections and drop the third's SYN (connect would wait 1 s, then 3 s).
        let connected = (0..16)
            .map(|_| {
                std::net::TcpStream::connect_timeout(
                    &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                    Duration::from_millis(900),
                )
            })
            .collect::<Result<Vec<_>, _>>();
        let _ = child.kill();
        let _ = child.wait();
        result.unwrap();
        assert_eq!(connected.unwrap().len(), 16);
    }
}
