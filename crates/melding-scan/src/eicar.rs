//! A scanner without a daemon, for development and for tests of what happens after a verdict:
//! it knows one "virus", the EICAR anti-virus test string, which every real scanner also flags.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::{ScanError, Scanner, Verdict};

/// The 68-byte EICAR test file: harmless, and detected by every anti-virus product on purpose.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Reports [`Verdict::Infected`]`("Eicar-Test-Signature")` when the EICAR string occurs
/// anywhere in the stream, and clean otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct EicarScanner;

impl EicarScanner {
    /// The name ClamAV's official database gives EICAR.
    pub const SIGNATURE: &'static str = "Eicar-Test-Signature";
}

const CHUNK: usize = 64 * 1024;

#[async_trait::async_trait]
impl Scanner for EicarScanner {
    async fn scan(&self, bytes: &mut (dyn AsyncRead + Send + Unpin)) -> Result<Verdict, ScanError> {
        // The buffer keeps the last EICAR.len() - 1 bytes of each read in front of the next, so
        // a match split across two reads is still seen.
        let mut buf = vec![0u8; CHUNK + EICAR.len()];
        let mut kept = 0;
        loop {
            let n = bytes
                .read(&mut buf[kept..])
                .await
                .map_err(ScanError::Input)?;
            if n == 0 {
                return Ok(Verdict::Clean);
            }
            let filled = kept + n;
            if buf[..filled].windows(EICAR.len()).any(|w| w == EICAR) {
                return Ok(Verdict::Infected(Self::SIGNATURE.to_owned()));
            }
            kept = filled.min(EICAR.len() - 1);
            buf.copy_within(filled - kept..filled, 0);
        }
    }

    fn name(&self) -> &'static str {
        "eicar"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields `chunk` bytes per read.
    async fn scan_in_reads_of(content: &[u8], chunk: usize) -> Verdict {
        let (mut client, mut server) = tokio::io::duplex(chunk);
        let content = content.to_vec();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for piece in content.chunks(chunk) {
                server.write_all(piece).await.unwrap();
            }
        });
        let verdict = EicarScanner.scan(&mut client).await.unwrap();
        writer.abort();
        verdict
    }

    #[test]
    fn the_eicar_string_is_68_bytes() {
        assert_eq!(EICAR.len(), 68);
    }

    #[tokio::test]
    async fn finds_eicar_anywhere_even_split_across_reads() {
        let mut content = vec![b'a'; 100_000];
        content.extend_from_slice(EICAR);
        content.extend_from_slice(&[b'b'; 1000]);
        for chunk in [1, 7, 67, 68, 4096, CHUNK] {
            assert_eq!(
                scan_in_reads_of(&content, chunk).await,
                Verdict::Infected(EicarScanner::SIGNATURE.into()),
                "reads of {chunk}"
            );
        }
    }

    #[tokio::test]
    async fn clean_when_absent() {
        let mut content = vec![b'a'; 100_000];
        content.extend_from_slice(&EICAR[..67]);
        assert_eq!(scan_in_reads_of(&content, 4096).await, Verdict::Clean);
        assert_eq!(
            EicarScanner.scan(&mut &b""[..]).await.unwrap(),
            Verdict::Clean
        );
    }
}
