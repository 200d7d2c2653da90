//! Digipost's request signature, as Digipost documents it ("Security in the Digipost API",
//! digipost-docs `source/api/security.rst`, §2–3; the Java client's
//! `RequestMessageSignatureUtil` builds the same string).
//!
//! Every request carries `Date` (RFC 1123, within 5 minutes of Digipost's clock),
//! `X-Digipost-UserId` (our broker id), `X-Content-SHA256` (base64 SHA-256 of the body; only
//! when there is a body) and `X-Digipost-Signature`: base64 of an RSA PKCS#1 v1.5 SHA-256
//! signature ("SHA256WithRSAEncryption") over the canonical string
//!
//! ```text
//! POST\n
//! /messages\n                       (the path, lowercased)
//! date: Wed, 29 Jun 2011 14:58:11 GMT\n
//! x-content-sha256: q1MKE+…=\n     (left out without a body)
//! x-digipost-userid: 9999\n
//! \n                               (the query string, lowercased; empty line if none)
//! ```
//!
//! The key is the private key of the organisation certificate registered with Digipost.
//! Digipost hands out PKCS#12 files; the operator extracts the key as PEM once
//! (`openssl pkcs12 -in cert.p12 -nocerts -nodes`). Digipost also signs its answers the same
//! way with its own key; checking those is not done yet (TLS to api.digipost.no is what we rely
//! on for now).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};

/// Signs Digipost requests with the organisation certificate's private key.
pub(super) struct RequestSigner {
    key: SigningKey<Sha256>,
}

impl RequestSigner {
    /// Reads an RSA private key in PEM, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`).
    ///
    /// Errors: a description of why neither form could be read.
    pub(super) fn from_pem(pem: &str) -> Result<Self, String> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).or_else(|pkcs8| {
            RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|pkcs1| format!("not PKCS#8 ({pkcs8}) nor PKCS#1 ({pkcs1})"))
        })?;
        Ok(RequestSigner {
            key: SigningKey::<Sha256>::new(key),
        })
    }

    /// The base64 signature over `canonical`.
    pub(super) fn sign(&self, canonical: &str) -> String {
        BASE64.encode(self.key.sign(canonical.as_bytes()).to_bytes())
    }
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestSigner(***)")
    }
}

/// The `X-Content-SHA256` value: base64 of the body's SHA-256.
pub(super) fn content_sha256(body: &[u8]) -> String {
    BASE64.encode(Sha256::digest(body))
}

/// The string Digipost signs (see the module docs). `content_sha256` is `None` for a request
/// without a body.
pub(super) fn canonical_request(
    method: &str,
    path: &str,
    query: Option<&str>,
    date: &str,
    content_sha256: Option<&str>,
    user_id: u64,
) -> String {
    let mut s = format!(
        "{}\n{}\ndate: {date}\n",
        method.to_ascii_uppercase(),
        path.to_lowercase()
    );
    if let Some(hash) = content_sha256 {
        s.push_str(&format!("x-content-sha256: {hash}\n"));
    }
    s.push_str(&format!("x-digipost-userid: {user_id}\n"));
    s.push_str(&query.unwrap_or("").to_lowercase());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_string_matches_digiposts_example() {
        // The POST example of the security documentation, §3.2.1.
        assert_eq!(
            canonical_request(
                "post",
                "/messages",
                Some("parameter1=58&parameter2=test"),
                "Wed, 29 Jun 2011 14:58:11 GMT",
                Some("q1MKE+RZFJgrefm34/uplM/R8/si9xzqGvvwK0YMbR0="),
                9999,
            ),
            "POST\n/messages\ndate: Wed, 29 Jun 2011 14:58:11 GMT\n\
             x-content-sha256: q1MKE+RZFJgrefm34/uplM/R8/si9xzqGvvwK0YMbR0=\n\
             x-digipost-userid: 9999\nparameter1=58&parameter2=test\n"
        );
        // The GET example: no content hash, and an empty last line without a query.
        assert_eq!(
            canonical_request(
                "GET",
                "/Documents/1/X/status",
                None,
                "Wed, 29 Jun 2011 14:58:11 GMT",
                None,
                9999
            ),
            "GET\n/documents/1/x/status\ndate: Wed, 29 Jun 2011 14:58:11 GMT\n\
             x-digipost-userid: 9999\n\n"
        );
    }

    #[test]
    fn content_hash_is_base64_sha256() {
        // SHA-256("") is e3b0c442…b855.
        assert_eq!(
            content_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused() {
        let error = RequestSigner::from_pem("not a key").unwrap_err();
        assert!(error.contains("PKCS#8"), "{error}");
    }
}
