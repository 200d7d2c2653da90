//! A client for clamd, ClamAV's daemon. Bytes go over the socket with `zINSTREAM`, in chunks of
//! at most [`CHUNK`] bytes each preceded by its length as a 4-byte big-endian number, then a
//! zero-length chunk; clamd answers once it has scanned the whole stream. One connection per
//! scan: clamd handles connections on a thread pool, and a fresh one cannot be left half-used
//! by an earlier failure.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::reply::parse_scan_reply;
use crate::{ClamdAddress, ScanError, Scanner, Verdict};

/// The largest chunk sent; the read buffer is this size, whatever the size of the file.
const CHUNK: usize = 64 * 1024;
/// Replies are one short line; anything longer is not clamd.
const MAX_REPLY: usize = 4096;

/// Scans with a clamd reachable at a [`ClamdAddress`].
///
/// `timeout` bounds the connect, and separately the whole exchange after it: sending every
/// byte of the file and waiting for the verdict. It must therefore allow for the largest file
/// accepted at the scanner's pace (a few hundred MB/s on one core with the full signature set).
#[derive(Debug, Clone)]
pub struct ClamdScanner {
    address: ClamdAddress,
    timeout: Duration,
}

/// A connected socket, TCP or Unix.
trait Connection: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Connection for T {}

impl ClamdScanner {
    pub fn new(address: ClamdAddress, timeout: Duration) -> Self {
        Self { address, timeout }
    }

    pub fn address(&self) -> &ClamdAddress {
        &self.address
    }

    /// Checks that clamd answers (`zPING` → `PONG`), for startup and health checks.
    pub async fn ping(&self) -> Result<(), ScanError> {
        match self.command(b"zPING\0").await?.as_str() {
            "PONG" => Ok(()),
            other => Err(ScanError::Protocol(other.to_owned())),
        }
    }

    /// clamd's version and signature database version, e.g. `ClamAV 1.4.6/27490/Mon Nov 23 ...`
    /// (a database without a version, like a hand-made one, gives just `ClamAV 1.4.6`).
    pub async fn version(&self) -> Result<String, ScanError> {
        let version = self.command(b"zVERSION\0").await?;
        if version.starts_with("ClamAV ") {
            Ok(version)
        } else {
            Err(ScanError::Protocol(version))
        }
    }

    /// Sends a command without a payload and returns the reply without its terminator.
    async fn command(&self, command: &[u8]) -> Result<String, ScanError> {
        let mut connection = self.connect().await?;
        let reply = self
            .within_timeout(async {
                connection.write_all(command).await?;
                connection.flush().await?;
                read_reply(&mut *connection).await
            })
            .await?
            .map_err(|e| self.connection_failed(e))?;
        Ok(String::from_utf8_lossy(&reply)
            .trim_end_matches(['\0', '\n'])
            .to_owned())
    }

    async fn connect(&self) -> Result<Box<dyn Connection>, ScanError> {
        let unreachable = |source| ScanError::Unreachable {
            address: self.address.to_string(),
            source,
        };
        let connect = async {
            let connection: Box<dyn Connection> = match &self.address {
                ClamdAddress::Tcp(host_port) => {
                    let stream = TcpStream::connect(host_port.as_str()).await?;
                    // Chunks are written whole; don't let Nagle hold back the small ones.
                    stream.set_nodelay(true)?;
                    Box::new(stream)
                }
                #[cfg(unix)]
                ClamdAddress::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
                #[cfg(not(unix))]
                ClamdAddress::Unix(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "Unix sockets are not available on this platform",
                    ));
                }
            };
            Ok(connection)
        };
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(e)) => Err(unreachable(e)),
            Err(_) => Err(unreachable(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect timed out after {:?}", self.timeout),
            ))),
        }
    }

    async fn within_timeout<T>(&self, work: impl Future<Output = T>) -> Result<T, ScanError> {
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| ScanError::Timeout {
                address: self.address.to_string(),
                timeout: self.timeout,
            })
    }

    fn connection_failed(&self, source: io::Error) -> ScanError {
        ScanError::Connection {
            address: self.address.to_string(),
            source,
        }
    }

    /// Streams `bytes` to clamd and reads the verdict.
    async fn instream(
        &self,
        connection: &mut dyn Connection,
        bytes: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<Verdict, ScanError> {
        connection
            .write_all(b"zINSTREAM\0")
            .await
            .map_err(|e| self.connection_failed(e))?;
        // One buffer holds the length prefix and the chunk, so each chunk is a single write.
        let mut frame = vec![0u8; 4 + CHUNK];
        loop {
            let n = fill(bytes, &mut frame[4..])
                .await
                .map_err(ScanError::Input)?;
            let length = u32::try_from(n).expect("a chunk is at most 64 KiB");
            frame[..4].copy_from_slice(&length.to_be_bytes());
            if let Err(e) = connection.write_all(&frame[..4 + n]).await {
                // clamd answers and hangs up when it refuses the stream (StreamMaxLength), so
                // a failed write may have a reply waiting that says why.
                return match read_reply(connection).await {
                    Ok(reply) => parse_scan_reply(&reply),
                    Err(_) => Err(self.connection_failed(e)),
                };
            }
            if n == 0 {
                break;
            }
        }
        connection
            .flush()
            .await
            .map_err(|e| self.connection_failed(e))?;
        let reply = read_reply(connection)
            .await
            .map_err(|e| self.connection_failed(e))?;
        parse_scan_reply(&reply)
    }
}

#[async_trait::async_trait]
impl Scanner for ClamdScanner {
    async fn scan(&self, bytes: &mut (dyn AsyncRead + Send + Unpin)) -> Result<Verdict, ScanError> {
        let mut connection = self.connect().await?;
        self.within_timeout(self.instream(&mut *connection, bytes))
            .await?
    }

    fn name(&self) -> &'static str {
        "clamd"
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read. Full chunks
/// keep the number of frames (and clamd's work per frame) down when the source yields little
/// at a time.
async fn fill(bytes: &mut (dyn AsyncRead + Send + Unpin), buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match bytes.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Reads one NUL-terminated reply (or up to the end of the stream), NUL included. The end of
/// the stream before any byte is an error.
async fn read_reply(connection: &mut dyn Connection) -> io::Result<Vec<u8>> {
    let mut reply = Vec::with_capacity(64);
    let mut buf = [0u8; 256];
    loop {
        let n = connection.read(&mut buf).await?;
        if n == 0 {
            if reply.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "clamd closed the connection without a reply",
                ));
            }
            return Ok(reply);
        }
        reply.extend_from_slice(&buf[..n]);
        if let Some(end) = reply.iter().position(|&b| b == 0) {
            reply.truncate(end + 1);
            return Ok(reply);
        }
        if reply.len() > MAX_REPLY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "reply longer than 4 KiB without a terminator",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    //! The exchange against a fake clamd on a local port: framing, and the failures a real
    //! clamd is hard to provoke into. The real daemon is tested in `tests/clamd.rs`.

    use tokio::net::TcpListener;

    use super::*;

    /// A one-connection server running `serve`; returns its address.
    async fn fake_clamd<F, Fut>(serve: F) -> ClamdAddress
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            serve(stream).await;
        });
        ClamdAddress::Tcp(address.to_string())
    }

    /// Reads `zINSTREAM\0` and the chunks; returns the chunk lengths and the bytes.
    async fn read_instream(stream: &mut TcpStream) -> (Vec<usize>, Vec<u8>) {
        let mut command = [0u8; 10];
        stream.read_exact(&mut command).await.unwrap();
        assert_eq!(&command, b"zINSTREAM\0");
        let (mut lengths, mut data) = (Vec::new(), Vec::new());
        loop {
            let length = stream.read_u32().await.unwrap() as usize;
            lengths.push(length);
            if length == 0 {
                return (lengths, data);
            }
            let start = data.len();
            data.resize(start + length, 0);
            stream.read_exact(&mut data[start..]).await.unwrap();
        }
    }

    /// A reader that yields at most 1000 bytes per read, like a slow network source.
    struct Trickle(std::io::Cursor<Vec<u8>>);

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            let position = self.0.position() as usize;
            let data = self.0.get_ref();
            let n = (data.len() - position).min(1000).min(buf.remaining());
            buf.put_slice(&data[position..position + n]);
            self.0.set_position((position + n) as u64);
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn sends_full_chunks_of_at_most_64_kib_then_a_terminator() {
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (sent, received) = tokio::sync::oneshot::channel();
        let address = fake_clamd(|mut stream| async move {
            let frames = read_instream(&mut stream).await;
            stream.write_all(b"stream: OK\0").await.unwrap();
            sent.send(frames).unwrap();
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_secs(5));
        let verdict = scanner
            .scan(&mut Trickle(std::io::Cursor::new(content.clone())))
            .await
            .unwrap();
        assert_eq!(verdict, Verdict::Clean);
        let (lengths, data) = received.await.unwrap();
        assert_eq!(lengths, [CHUNK, CHUNK, CHUNK, 200_000 - 3 * CHUNK, 0]);
        assert_eq!(data, content);
    }

    #[tokio::test]
    async fn an_empty_input_is_just_the_terminator() {
        let address = fake_clamd(|mut stream| async move {
            let (lengths, _) = read_instream(&mut stream).await;
            assert_eq!(lengths, [0]);
            stream.write_all(b"stream: OK\0").await.unwrap();
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_secs(5));
        assert_eq!(scanner.scan(&mut &b""[..]).await.unwrap(), Verdict::Clean);
    }

    #[tokio::test]
    async fn a_refusal_mid_stream_is_reported_as_clamd_gave_it() {
        // clamd answers and closes as soon as the stream passes StreamMaxLength.
        let address = fake_clamd(|mut stream| async move {
            let mut head = vec![0u8; 100_000];
            stream.read_exact(&mut head).await.unwrap();
            stream
                .write_all(b"INSTREAM size limit exceeded. ERROR\0")
                .await
                .unwrap();
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_secs(5));
        let big = vec![0u8; 32 * 1024 * 1024];
        let result = scanner.scan(&mut &big[..]).await;
        assert!(
            matches!(result, Err(ScanError::SizeLimitExceeded)),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let address = fake_clamd(|stream| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(stream);
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_millis(300));
        let started = std::time::Instant::now();
        let result = scanner.scan(&mut &b"hello"[..]).await;
        assert!(
            matches!(result, Err(ScanError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_hang_up_without_a_reply_is_a_connection_error() {
        let address = fake_clamd(|mut stream| async move {
            read_instream(&mut stream).await;
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_secs(5));
        let result = scanner.scan(&mut &b"hello"[..]).await;
        assert!(
            matches!(result, Err(ScanError::Connection { .. })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_failing_source_is_an_input_error() {
        struct Broken;
        impl AsyncRead for Broken {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                std::task::Poll::Ready(Err(io::Error::other("disk on fire")))
            }
        }
        let address = fake_clamd(|stream| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            drop(stream);
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_secs(5));
        let result = scanner.scan(&mut Broken).await;
        assert!(matches!(result, Err(ScanError::Input(_))), "{result:?}");
    }

    #[tokio::test]
    async fn ping_wants_pong() {
        let address = fake_clamd(|mut stream| async move {
            let mut command = [0u8; 6];
            stream.read_exact(&mut command).await.unwrap();
            assert_eq!(&command, b"zPING\0");
            stream.write_all(b"PANG\0").await.unwrap();
        })
        .await;
        let scanner = ClamdScanner::new(address, Duration::from_secs(5));
        let result = scanner.ping().await;
        assert!(
            matches!(result, Err(ScanError::Protocol(ref r)) if r == "PANG"),
            "{result:?}"
        );
    }
}
