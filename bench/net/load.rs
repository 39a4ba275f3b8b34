//! A small HTTP/1.1 load generator for bench/net/run (std only: built with plain rustc).
//!
//!   load requests HOST:PORT PATH CONNECTIONS SECONDS
//!       keep-alive GETs on CONNECTIONS connections for SECONDS; prints
//!       `requests N`, `requests_per_second R`, `p50_us X`, `p99_us Y`
//!   load bulk HOST:PORT BYTES SECONDS
//!       repeated GET /bytes/BYTES on one connection; prints `mib_per_second R`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One GET on a kept-alive connection; returns the body length.
fn get(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, path: &str) -> usize {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").expect("send");
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    assert!(line.starts_with("HTTP/1.1 200"), "unexpected status {line:?}");
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.trim().parse().expect("length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    length
}

fn connect(address: &str) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(address).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let reader = BufReader::new(stream.try_clone().expect("clone"));
    (stream, reader)
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    match arguments.get(1).map(String::as_str) {
        Some("requests") => {
            let address = arguments[2].clone();
            let path = arguments[3].clone();
            let connections: usize = arguments[4].parse().expect("connections");
            let seconds: f64 = arguments[5].parse().expect("seconds");
            let deadline = Instant::now() + Duration::from_secs_f64(seconds);
            let workers: Vec<_> = (0..connections)
                .map(|_| {
                    let address = address.clone();
                    let path = path.clone();
                    std::thread::spawn(move || {
                        let (mut stream, mut reader) = connect(&address);
                        let mut latencies = Vec::new();
                        while Instant::now() < deadline {
                            let start = Instant::now();
                            get(&mut stream, &mut reader, &path);
                            latencies.push(start.elapsed().as_micros() as u64);
                        }
                        latencies
                    })
                })
                .collect();
            let start = Instant::now();
            let mut latencies: Vec<u64> = workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("worker"))
                .collect();
            let elapsed = start.elapsed().as_secs_f64().max(seconds);
            latencies.sort_unstable();
            let at = |fraction: f64| {
                latencies
                    .get(((latencies.len() as f64 - 1.0) * fraction).round() as usize)
                    .copied()
                    .unwrap_or(0)
            };
            println!("requests {}", latencies.len());
            println!("requests_per_second {:.1}", latencies.len() as f64 / elapsed);
            println!("p50_us {}", at(0.50));
            println!("p99_us {}", at(0.99));
        }
        Some("bulk") => {
            let address = &arguments[2];
            let bytes: usize = arguments[3].parse().expect("bytes");
            let seconds: f64 = arguments[4].parse().expect("seconds");
            let (mut stream, mut reader) = connect(address);
            let path = format!("/bytes/{bytes}");
            let start = Instant::now();
            let mut total = 0usize;
            while start.elapsed().as_secs_f64() < seconds {
                total += get(&mut stream, &mut reader, &path);
            }
            let elapsed = start.elapsed().as_secs_f64();
            println!(
                "mib_per_second {:.2}",
                total as f64 / elapsed / (1024.0 * 1024.0)
            );
        }
        _ => {
            eprintln!("usage: load requests HOST:PORT PATH CONNECTIONS SECONDS | load bulk HOST:PORT BYTES SECONDS");
            std::process::exit(2);
        }
    }
}
