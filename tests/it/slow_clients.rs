//! Slow clients (slowloris): sockets that trickle their headers or body are closed after a time
//! limit, one address cannot hold more than its share of connections, and others keep being served.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::harness::{MCP, Options, TestServer};

fn server_addr(s: &TestServer) -> SocketAddr {
    s.base.trim_start_matches("http://").parse().unwrap()
}

async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection (or resets it); returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

const SLOW_HEADERS: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: navis\r\nX-Slow: ";
const SLOW_BODY: &[u8] =
    b"POST /oauth/token HTTP/1.1\r\nHost: navis\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=";

/// Sends `start` (part of a request), then one more byte every 250 ms, until the server closes the
/// connection; returns how long after connecting that happened.
async fn trickle(from: Ipv4Addr, to: SocketAddr, start: &'static [u8]) -> Duration {
    let started = Instant::now();
    let mut stream = connect_from(from, to).await;
    stream.write_all(start).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let drip = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if write.write_all(b"a").await.is_err() {
                return;
            }
        }
    };
    let closed = async move {
        let mut buf = [0u8; 256];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::select! {
        _ = closed => {}
        _ = drip => {}
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_sockets_are_closed_and_others_are_served_meanwhile() {
    // 1,000 sockets from five addresses (200 each, under the per-address cap), so that only the
    // deadlines can rid the server of them: half trickle their headers, half their body.
    // The file-descriptor limit here is 20,000.
    let s =
        TestServer::start_with(Options { header_read_timeout_secs: Some(2), body_read_timeout_secs: Some(2), ..Default::default() }).await;
    let to = server_addr(&s);
    let mut slow = Vec::new();
    for i in 0..1000u32 {
        let from = Ipv4Addr::new(127, 0, 1, 1 + (i / 200) as u8);
        slow.push(tokio::spawn(trickle(from, to, if i % 2 == 0 { SLOW_HEADERS } else { SLOW_BODY })));
    }

    // Meanwhile a normal client keeps getting quick answers (on a new connection each time, as the
    // slow sockets compete with it for accepts too).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut latencies = Vec::new();
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let started = Instant::now();
        let client = reqwest::Client::new();
        let resp = client.get(s.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    let worst = latencies[latencies.len() - 1];
    assert!(latencies.len() > 10, "only {} requests were served in 4 s", latencies.len());
    assert!(median < Duration::from_millis(100) && worst < Duration::from_secs(2), "median {median:?}, worst {worst:?}");

    // Every slow socket was closed about 2 s after it connected, not held open.
    let all = tokio::time::timeout(Duration::from_secs(10), futures_join_all(slow))
        .await
        .expect("the server closes slow sockets after the header and body timeouts");
    let longest = all.into_iter().map(|d| d.unwrap()).max().unwrap();
    assert!(longest >= Duration::from_millis(1500) && longest < Duration::from_secs(8), "closed after {longest:?}");
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}

async fn futures_join_all<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}

#[tokio::test]
async fn a_slow_body_gets_408_and_the_connection_is_closed() {
    let s = TestServer::start_with(Options { body_read_timeout_secs: Some(2), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;
    let started = Instant::now();
    let mut stream = connect_from(Ipv4Addr::LOCALHOST, server_addr(&s)).await;
    let head = format!(
        "POST {MCP} HTTP/1.1\r\nHost: navis\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 200\r\n\r\n{{\"jsonrpc\":",
        a.read
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if write.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut buf = Vec::new();
    let answer = tokio::time::timeout(Duration::from_secs(6), async {
        let mut chunk = [0u8; 1024];
        loop {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    trickle.abort();
    assert!(answer.is_ok(), "a body sent one byte at a time is still being read after {:?}", started.elapsed());
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() >= Duration::from_millis(1500), "answered after {:?}", started.elapsed());
    // The server still serves.
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_256_connections() {
    let s = TestServer::start().await;
    let to = server_addr(&s);
    let mut held = Vec::new();
    for _ in 0..256 {
        held.push(connect_from(Ipv4Addr::LOCALHOST, to).await);
    }
    // Each of the 256 is still being served: one of them completes a request.
    held[0].write_all(b"GET /healthz HTTP/1.1\r\nHost: navis\r\n\r\n").await.unwrap();
    let mut chunk = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), held[0].read(&mut chunk)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&chunk[..n]).starts_with("HTTP/1.1 200"));

    // The 257th from the same address is closed without an answer.
    let mut extra = connect_from(Ipv4Addr::LOCALHOST, to).await;
    extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: navis\r\n\r\n").await.ok();
    let got = tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut extra)).await.expect("the 257th connection is closed");
    assert!(got.is_empty(), "the 257th connection was answered: {}", String::from_utf8_lossy(&got));

    // Another address is still served.
    let other = reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))).build().unwrap();
    assert_eq!(other.get(s.url("/healthz")).send().await.unwrap().status(), 200);

    // When one of the 256 goes away, the address may open another.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = connect_from(Ipv4Addr::LOCALHOST, to).await;
    again.write_all(b"GET /healthz HTTP/1.1\r\nHost: navis\r\nConnection: close\r\n\r\n").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut again)).await.unwrap();
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
}

#[tokio::test]
async fn an_mcp_sse_stream_outlives_the_header_and_body_deadlines() {
    let s =
        TestServer::start_with(Options { header_read_timeout_secs: Some(1), body_read_timeout_secs: Some(1), ..Default::default() }).await;
    let a = s.account("ada@example.com").await;
    let session = crate::protocol::open_session(&s, Some(&a.read)).await;
    let mut stream = crate::protocol::open_stream(&s, &a.read, &session).await;
    assert_eq!(stream.status(), 200);
    // Three times either deadline later, the stream is still open (it may have sent keep-alives).
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(until, stream.chunk()).await {
            Err(_elapsed) => break,
            Ok(Ok(Some(_))) => continue,
            Ok(other) => panic!("the SSE stream ended: {other:?}"),
        }
    }
}
