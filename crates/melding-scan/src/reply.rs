//! clamd's answer to `zINSTREAM`: `stream: OK`, `stream: <signature> FOUND` or
//! `<message> ERROR`, terminated by a NUL byte (the `z` prefix asks for NUL-terminated replies).

use crate::{ScanError, Verdict};

/// Reads a reply as clamd sends it, with or without the trailing NUL or newline.
pub(crate) fn parse_scan_reply(raw: &[u8]) -> Result<Verdict, ScanError> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches(['\0', '\n', '\r', ' ']);
    if let Some(message) = text.strip_suffix(" ERROR") {
        // clamd says "INSTREAM size limit exceeded. ERROR" when StreamMaxLength is passed.
        if message.contains("size limit exceeded") {
            return Err(ScanError::SizeLimitExceeded);
        }
        let message = message.strip_prefix("stream: ").unwrap_or(message);
        return Err(ScanError::Scanner(message.to_owned()));
    }
    let Some(result) = text.strip_prefix("stream: ") else {
        return Err(ScanError::Protocol(text.to_owned()));
    };
    if result == "OK" {
        return Ok(Verdict::Clean);
    }
    match result.strip_suffix(" FOUND") {
        Some(signature) if !signature.trim().is_empty() => {
            Ok(Verdict::Infected(signature.trim().to_owned()))
        }
        _ => Err(ScanError::Protocol(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean() {
        assert_eq!(parse_scan_reply(b"stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(parse_scan_reply(b"stream: OK\n").unwrap(), Verdict::Clean);
        assert_eq!(parse_scan_reply(b"stream: OK").unwrap(), Verdict::Clean);
    }

    #[test]
    fn found_gives_the_signature_name() {
        assert_eq!(
            parse_scan_reply(b"stream: Local.EICAR.Test.UNOFFICIAL FOUND\0").unwrap(),
            Verdict::Infected("Local.EICAR.Test.UNOFFICIAL".into())
        );
        assert_eq!(
            parse_scan_reply(b"stream: Win.Test.EICAR_HDB-1 FOUND\0").unwrap(),
            Verdict::Infected("Win.Test.EICAR_HDB-1".into())
        );
        // With ExtendedDetectionInfo clamd appends the hash and size; keep them in the name.
        assert_eq!(
            parse_scan_reply(
                b"stream: Eicar-Signature(44d88612fea8a8f36de82e1278abb02f:68) FOUND\0"
            )
            .unwrap(),
            Verdict::Infected("Eicar-Signature(44d88612fea8a8f36de82e1278abb02f:68)".into())
        );
    }

    #[test]
    fn size_limit() {
        assert!(matches!(
            parse_scan_reply(b"INSTREAM size limit exceeded. ERROR\0"),
            Err(ScanError::SizeLimitExceeded)
        ));
    }

    #[test]
    fn other_errors_keep_clamd_s_message() {
        match parse_scan_reply(b"stream: Can't allocate memory ERROR\0") {
            Err(ScanError::Scanner(message)) => assert_eq!(message, "Can't allocate memory"),
            other => panic!("{other:?}"),
        }
        match parse_scan_reply(b"Error processing command. ERROR\0") {
            Err(ScanError::Scanner(message)) => assert_eq!(message, "Error processing command."),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anything_else_is_a_protocol_error() {
        for raw in [
            &b""[..],
            b"\0",
            b"PONG\0",
            b"stream: \0",
            b"stream:  FOUND\0",
            b"stream: maybe\0",
            b"OK\0",
            b"UNKNOWN COMMAND\0",
        ] {
            assert!(
                matches!(parse_scan_reply(raw), Err(ScanError::Protocol(_))),
                "{:?} was understood",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
