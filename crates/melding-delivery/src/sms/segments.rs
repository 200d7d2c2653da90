//! How many SMS a text costs: GSM 03.38 7-bit or UCS-2, single or concatenated.
//!
//! `reference/delivery-chain.md` §1.12: a text made only of the GSM-7 alphabet (which holds
//! ÆØÅæøå) fits 160 characters in one SMS and 153 per part when concatenated; one character
//! outside it switches the whole text to UCS-2 at 70, or 67 per part. Characters of the GSM-7
//! extension table (`€ [ ] { } \ ^ ~ |` and form feed) take two septets, and a part never ends
//! in the middle of one (nor of a UTF-16 surrogate pair in UCS-2), so parts are packed the way
//! a handset or gateway splits them. Hand-written: the rule is a table and twenty lines, and no
//! crate we found counts with the split rule.

/// The most parts the gateway sends of one text; the rest is cut (`reference/delivery-chain.md`
/// §1.12, 16 × 134 = 2 144 characters, the cap Correspondence puts on SMS bodies).
pub const MAX_SEGMENTS: usize = 16;

/// The character set an SMS is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// GSM 03.38 default alphabet, 7 bits per character.
    Gsm7,
    /// UCS-2 (UTF-16 code units), 16 bits per character.
    Ucs2,
}

impl SmsEncoding {
    /// Units (septets or UTF-16 code units) that fit in a single, unconcatenated SMS.
    pub fn single_capacity(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 160,
            SmsEncoding::Ucs2 => 70,
        }
    }

    /// Units per part of a concatenated SMS (the user-data header takes the rest).
    pub fn part_capacity(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 153,
            SmsEncoding::Ucs2 => 67,
        }
    }
}

/// What a text costs as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCount {
    /// The encoding the text needs.
    pub encoding: SmsEncoding,
    /// Its length in the encoding's units: septets (extension characters count 2) or UTF-16
    /// code units.
    pub units: usize,
    /// How many SMS it is sent as; an empty text is still one SMS.
    pub segments: usize,
}

impl SegmentCount {
    /// Whether the gateway sends all of it (at most [`MAX_SEGMENTS`] parts).
    pub fn within_gateway_limit(&self) -> bool {
        self.segments <= MAX_SEGMENTS
    }
}

/// Counts the SMS that `text` is sent as, per the module docs.
pub fn count_segments(text: &str) -> SegmentCount {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    let (encoding, widths) = match gsm {
        Some(widths) => (SmsEncoding::Gsm7, widths),
        None => (
            SmsEncoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
        ),
    };
    let units: usize = widths.iter().sum();
    let segments = if units <= encoding.single_capacity() {
        1
    } else {
        pack(&widths, encoding.part_capacity())
    };
    SegmentCount {
        encoding,
        units,
        segments,
    }
}

/// Whether every character of `text` is in the GSM-7 alphabet or its extension table.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_septets(c).is_some())
}

/// Parts needed when characters of the given widths are packed in order, none split.
fn pack(widths: &[usize], capacity: usize) -> usize {
    let mut parts = 1;
    let mut used = 0;
    for &width in widths {
        if used + width > capacity {
            parts += 1;
            used = 0;
        }
        used += width;
    }
    parts
}

/// GSM 03.38 default alphabet (the 128 positions, the escape at 0x1B left out).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table: each is sent as escape + character, two septets.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` when it is not in the alphabet.
fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_its_128_positions() {
        // 127 printable positions plus the escape, which is not a character of its own.
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        assert_eq!(GSM7_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn segment_table() {
        use SmsEncoding::{Gsm7, Ucs2};
        let a = |n: usize| "a".repeat(n);
        let æ = |n: usize| "æ".repeat(n);
        let ą = |n: usize| "ą".repeat(n); // Polish, outside GSM-7
        let table: Vec<(String, SmsEncoding, usize, usize)> = vec![
            (String::new(), Gsm7, 0, 1),
            (a(1), Gsm7, 1, 1),
            (a(160), Gsm7, 160, 1),
            (a(161), Gsm7, 161, 2),
            (a(306), Gsm7, 306, 2),
            (a(307), Gsm7, 307, 3),
            (a(153 * 16), Gsm7, 2448, 16),
            (a(153 * 16 + 1), Gsm7, 2449, 17),
            // Norwegian letters are in GSM-7: no switch to UCS-2.
            (æ(160), Gsm7, 160, 1),
            (
                "Hei Kari! Du har fått et brev fra Ås kommune i Altinn.".into(),
                Gsm7,
                54,
                1,
            ),
            // Extension characters take two septets…
            ("€".repeat(80), Gsm7, 160, 1),
            ("€".repeat(81), Gsm7, 162, 2),
            // …and are never split: 152 + € does not fit in 153, so it opens part 2.
            (format!("{}€{}", a(152), a(10)), Gsm7, 164, 2),
            (format!("{}€{}", a(152), a(152)), Gsm7, 306, 3),
            // One character outside GSM-7 makes it all UCS-2.
            (ą(70), Ucs2, 70, 1),
            (format!("{}ą", a(69)), Ucs2, 70, 1),
            (format!("{}ą", a(70)), Ucs2, 71, 2),
            (ą(134), Ucs2, 134, 2),
            (ą(135), Ucs2, 135, 3),
            ("`".into(), Ucs2, 1, 1),
            // An emoji is two UTF-16 units and is not split across parts.
            ("😀".repeat(35), Ucs2, 70, 1),
            (format!("{}😀", a(66)), Ucs2, 68, 1),
            (format!("{}😀{}", a(66), a(10)), Ucs2, 78, 2),
            (format!("{}😀{}", a(66), a(60)), Ucs2, 128, 2),
            (format!("{}😀{}", a(66), a(66)), Ucs2, 134, 3),
        ];
        for (text, encoding, units, segments) in table {
            let got = count_segments(&text);
            assert_eq!(
                got,
                SegmentCount {
                    encoding,
                    units,
                    segments
                },
                "{text:?}"
            );
        }
    }

    #[test]
    fn gateway_limit_is_sixteen_parts() {
        assert!(count_segments(&"a".repeat(153 * 16)).within_gateway_limit());
        assert!(!count_segments(&"a".repeat(153 * 16 + 1)).within_gateway_limit());
        assert!(is_gsm7("Æ Ø Å € {}"));
        assert!(!is_gsm7("emoji 😀"));
    }
}
