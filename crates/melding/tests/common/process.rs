//! What the tests that run the real `melding` binary share: the binary, a free port, and a child
//! process that is killed when its test ends, passed or failed.
#![allow(dead_code)]

use std::process::Child;

/// The `melding` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_melding");

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process (a `melding serve`) that is killed and reaped when dropped, so a failing
/// test leaves no server behind.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
