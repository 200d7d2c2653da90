//! A print order and a small PDF for the print tests.

#![allow(dead_code)] // each test binary uses its own part of this helper

use melding_delivery::print::{PostageClass, PostalAddress, PrintOrder, PrintReference};

pub fn order(reference: &str) -> PrintOrder {
    PrintOrder {
        reference: PrintReference::parse(reference).unwrap(),
        recipient_name: "Kari Nordmann".into(),
        address: PostalAddress::new(
            vec!["Storgata 1".into(), "Leilighet H0201".into()],
            "3110",
            "TØNSBERG",
            "NO",
        )
        .unwrap(),
        page_count: 2,
        colour: false,
        duplex: true,
        postage: PostageClass::BEconomy,
        sender_name: "Tønsberg kommune".into(),
    }
}

/// Bytes that begin like a PDF, `size` long, with `tag` in them so that two letters differ.
pub fn pdf(tag: &str, size: usize) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.7\n% {tag}\n").into_bytes();
    let mut i = 0u32;
    while bytes.len() < size {
        bytes.push(b'a' + (i % 26) as u8);
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    bytes.truncate(size.max(16));
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}
