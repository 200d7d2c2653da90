//! Where clamd listens, as written in configuration: `tcp://host:port`, `host:port`,
//! `unix:///run/clamav/clamd.ctl` or an absolute socket path.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A clamd socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `host:port`; the host may be a name, an IPv4 address or a bracketed IPv6 address.
    Tcp(String),
    /// A Unix domain socket, as clamd's `LocalSocket`.
    Unix(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid clamd address {input:?}: {reason}; expected tcp://host:port, host:port, \
     unix:///path/to/clamd.sock or /path/to/clamd.sock"
)]
pub struct ParseAddressError {
    input: String,
    reason: &'static str,
}

impl FromStr for ClamdAddress {
    type Err = ParseAddressError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ParseAddressError {
            input: input.to_owned(),
            reason,
        };
        let value = input.trim();
        if value.is_empty() {
            return Err(fail("empty"));
        }
        if let Some(path) = value.strip_prefix("unix://") {
            return unix(path).ok_or_else(|| fail("a Unix socket path must be absolute"));
        }
        if value.starts_with('/') {
            return unix(value).ok_or_else(|| fail("a Unix socket path must be absolute"));
        }
        let host_port = match value.split_once("://") {
            Some(("tcp", rest)) => rest,
            Some(_) => return Err(fail("unknown scheme")),
            None => value,
        };
        let Some((host, port)) = host_port.rsplit_once(':') else {
            return Err(fail("missing port"));
        };
        if host.is_empty() || host.contains('/') || host_port.contains(char::is_whitespace) {
            return Err(fail("invalid host"));
        }
        // An IPv6 address needs brackets, or its colons would be read as the port separator.
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if host.contains(':') && !bracketed {
            return Err(fail("an IPv6 address must be in brackets"));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => Ok(Self::Tcp(host_port.to_owned())),
            _ => Err(fail("invalid port")),
        }
    }
}

fn unix(path: &str) -> Option<ClamdAddress> {
    path.starts_with('/')
        .then(|| ClamdAddress::Unix(PathBuf::from(path)))
}

impl fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(host_port) => write!(f, "tcp://{host_port}"),
            Self::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ClamdAddress, ParseAddressError> {
        s.parse()
    }

    #[test]
    fn tcp_with_and_without_scheme() {
        let expected = ClamdAddress::Tcp("127.0.0.1:3310".into());
        assert_eq!(parse("tcp://127.0.0.1:3310"), Ok(expected.clone()));
        assert_eq!(parse("127.0.0.1:3310"), Ok(expected.clone()));
        assert_eq!(parse("  127.0.0.1:3310\n"), Ok(expected));
        assert_eq!(
            parse("clamav.internal:3310"),
            Ok(ClamdAddress::Tcp("clamav.internal:3310".into()))
        );
        assert_eq!(
            parse("tcp://[::1]:3310"),
            Ok(ClamdAddress::Tcp("[::1]:3310".into()))
        );
    }

    #[test]
    fn unix_with_and_without_scheme() {
        let expected = ClamdAddress::Unix("/run/clamav/clamd.ctl".into());
        assert_eq!(parse("unix:///run/clamav/clamd.ctl"), Ok(expected.clone()));
        assert_eq!(parse("/run/clamav/clamd.ctl"), Ok(expected));
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "127.0.0.1",
            "tcp://127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:33x",
            ":3310",
            "::1:3310",
            "http://127.0.0.1:3310",
            "unix://relative/clamd.sock",
            "unix://",
            "clamd.sock",
            "tcp://host:3310/path",
            "ho st:3310",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_error_names_the_input_and_the_accepted_forms() {
        let message = parse("http://x:1").unwrap_err().to_string();
        assert!(message.contains("\"http://x:1\""), "{message}");
        assert!(message.contains("unknown scheme"), "{message}");
        assert!(message.contains("tcp://host:port"), "{message}");
    }

    #[test]
    fn display_round_trips() {
        for s in ["tcp://127.0.0.1:3310", "unix:///run/clamav/clamd.ctl"] {
            let address = parse(s).unwrap();
            assert_eq!(address.to_string(), s);
            assert_eq!(parse(&address.to_string()), Ok(address));
        }
    }
}
