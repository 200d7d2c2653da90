//! The names a recipient sees: of the zip file itself and of each file inside it. The rules
//! follow Altinn's "download all attachments" so that clients see the same names from both.

use std::collections::{HashMap, HashSet};

/// Longest entry name, in UTF-8 bytes, that [`entry_names`] produces.
pub const MAX_ENTRY_NAME_BYTES: usize = 255;

/// The download name used when a title has no letters or digits left to build one from.
pub const ARCHIVE_FALLBACK_NAME: &str = "correspondence-attachments.zip";

/// Longest slug (before `.zip`) that [`archive_name`] produces.
const MAX_ARCHIVE_SLUG_CHARS: usize = 100;

/// A dot further from the end than this does not start an extension ("Møte 12.03 om …"), so
/// a long name is cut at its end rather than in its middle.
const MAX_EXTENSION_BYTES: usize = 32;

/// Name given to a file whose name is empty or only dots.
const UNNAMED: &str = "attachment";

/// Entry names for the given file names, in the same order.
///
/// - `/`, `\` and control characters become `_`, so no name can point outside the folder it
///   is unpacked into; a name that is empty or only dots becomes `attachment`.
/// - A name longer than 255 UTF-8 bytes is shortened before its extension (the part from the
///   last dot, if that is at most 32 bytes and not the first character), never splitting a
///   character.
/// - The first file keeps its name; a later file whose name equals an earlier one ignoring case
///   becomes `name(1).ext`, `name(2).ext`, …, taking the smallest number whose name is free —
///   not used by an earlier rename nor by any other file's own name.
pub fn entry_names<'a>(file_names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted: Vec<(String, String)> = file_names
        .into_iter()
        .map(|name| split_extension(sanitize(name)))
        .collect();
    // Every file's own name is reserved up front, so a rename never takes the name of a file
    // that comes later in the list.
    let mut taken: HashSet<String> = wanted
        .iter()
        .map(|(stem, ext)| fit(stem, "", ext).to_lowercase())
        .collect();
    let mut handed_out = HashSet::new();
    let mut next_number: HashMap<String, u64> = HashMap::new();
    let mut names = Vec::with_capacity(wanted.len());
    for (stem, ext) in &wanted {
        let name = fit(stem, "", ext);
        let key = name.to_lowercase();
        if handed_out.insert(key.clone()) {
            names.push(name);
            continue;
        }
        let number = next_number.entry(key).or_insert(1);
        loop {
            let candidate = fit(stem, &format!("({number})"), ext);
            *number += 1;
            if taken.insert(candidate.to_lowercase()) {
                names.push(candidate);
                break;
            }
        }
    }
    names
}

/// The download file name for a letter with this title: lower case, spaces as `-`, only
/// `a-z`, `0-9` and `-` kept (so `æ`, `ø`, `å` are dropped), no repeated, leading or trailing
/// dashes, at most 100 characters, then `.zip`. A title with nothing left gives
/// [`ARCHIVE_FALLBACK_NAME`].
pub fn archive_name(title: &str) -> String {
    let mut slug = String::new();
    for c in title.to_lowercase().chars() {
        let c = if c == ' ' { '-' } else { c };
        let keep = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let pointless_dash = c == '-' && (slug.is_empty() || slug.ends_with('-'));
        if keep && !pointless_dash {
            slug.push(c);
        }
    }
    // Only ASCII is left, so bytes are characters.
    slug.truncate(MAX_ARCHIVE_SLUG_CHARS);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        ARCHIVE_FALLBACK_NAME.to_owned()
    } else {
        format!("{slug}.zip")
    }
}

fn sanitize(name: &str) -> String {
    if name.chars().all(|c| c == '.') {
        return UNNAMED.to_owned();
    }
    name.chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Splits `name` into stem and extension (with its dot, or empty).
fn split_extension(mut name: String) -> (String, String) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= MAX_EXTENSION_BYTES => {
            let ext = name.split_off(dot);
            (name, ext)
        }
        _ => (name, String::new()),
    }
}

/// `stem + suffix + ext`, with the stem shortened so the whole fits in
/// [`MAX_ENTRY_NAME_BYTES`].
fn fit(stem: &str, suffix: &str, ext: &str) -> String {
    let room = MAX_ENTRY_NAME_BYTES.saturating_sub(suffix.len() + ext.len());
    let stem = &stem[..stem.floor_char_boundary(room)];
    format!("{stem}{suffix}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(input: &[&str]) -> Vec<String> {
        entry_names(input.iter().copied())
    }

    #[test]
    fn short_distinct_names_are_kept() {
        assert_eq!(
            names(&["Vedtak.pdf", "vedlegg 1.docx", "bilde.jpeg"]),
            ["Vedtak.pdf", "vedlegg 1.docx", "bilde.jpeg"]
        );
    }

    #[test]
    fn later_duplicates_ignoring_case_are_numbered() {
        assert_eq!(
            names(&["a.pdf", "A.pdf", "a.pdf"]),
            ["a.pdf", "A(1).pdf", "a(2).pdf"]
        );
        assert_eq!(names(&["x", "x", "X"]), ["x", "x(1)", "X(2)"]);
        assert_eq!(names(&["Æøå.txt", "æØÅ.TXT"]), ["Æøå.txt", "æØÅ(1).TXT"]);
    }

    #[test]
    fn a_rename_never_takes_another_files_own_name() {
        assert_eq!(
            names(&["a.pdf", "a.pdf", "a(1).pdf"]),
            ["a.pdf", "a(2).pdf", "a(1).pdf"]
        );
        assert_eq!(
            names(&["a(1).pdf", "a.pdf", "a.pdf"]),
            ["a(1).pdf", "a.pdf", "a(2).pdf"]
        );
    }

    #[test]
    fn long_names_are_cut_before_the_extension() {
        let long = format!("{}.pdf", "x".repeat(300));
        let [name] = names(&[&long]).try_into().unwrap();
        assert_eq!(name.len(), MAX_ENTRY_NAME_BYTES);
        assert_eq!(name, format!("{}.pdf", "x".repeat(251)));
    }

    #[test]
    fn cutting_never_splits_a_multi_byte_character() {
        // "ø" is two bytes: 251 bytes are left for the stem, and the 126th "ø" would need 252.
        let long = format!("{}.pdf", "ø".repeat(200));
        let [name] = names(&[&long]).try_into().unwrap();
        assert_eq!(name, format!("{}.pdf", "ø".repeat(125)));
        assert_eq!(name.len(), 254);

        let emoji = format!("{}.txt", "😀".repeat(100));
        let [name] = names(&[&emoji]).try_into().unwrap();
        assert_eq!(name, format!("{}.txt", "😀".repeat(62)));
    }

    #[test]
    fn names_exactly_at_the_limit_are_kept() {
        let exact = format!("{}.pdf", "x".repeat(251));
        assert_eq!(names(&[&exact]), [exact]);
    }

    #[test]
    fn a_far_away_dot_is_not_an_extension() {
        let long = format!("Møte 12.{}", "y".repeat(300));
        let [name] = names(&[&long]).try_into().unwrap();
        assert_eq!(name.len(), 255);
        assert!(name.starts_with("Møte 12.yyy"));
        let no_ext = "z".repeat(400);
        assert_eq!(names(&[&no_ext]), ["z".repeat(255)]);
        assert_eq!(names(&[".profile"]), [".profile"]);
    }

    #[test]
    fn duplicates_of_cut_names_still_fit() {
        let long = format!("{}.pdf", "x".repeat(300));
        let got = names(&[&long, &long]);
        assert_eq!(got[0], format!("{}.pdf", "x".repeat(251)));
        assert_eq!(got[1], format!("{}(1).pdf", "x".repeat(248)));
        assert!(got.iter().all(|n| n.len() <= MAX_ENTRY_NAME_BYTES));
    }

    #[test]
    fn names_that_only_differ_after_the_cut_are_told_apart() {
        let a = format!("{}a.pdf", "x".repeat(260));
        let b = format!("{}b.pdf", "x".repeat(260));
        let got = names(&[&a, &b]);
        assert_eq!(got[0], format!("{}.pdf", "x".repeat(251)));
        assert_eq!(got[1], format!("{}(1).pdf", "x".repeat(248)));
    }

    #[test]
    fn names_cannot_escape_the_folder() {
        assert_eq!(
            names(&["../../etc/passwd", "a\\b.txt", "tab\there", "..", ""]),
            [
                ".._.._etc_passwd",
                "a_b.txt",
                "tab_here",
                "attachment",
                "attachment(1)"
            ]
        );
    }

    #[test]
    fn archive_name_examples() {
        assert_eq!(archive_name("Vedtak om byggesak"), "vedtak-om-byggesak.zip");
        assert_eq!(archive_name("Søknad om støtte"), "sknad-om-sttte.zip");
        assert_eq!(
            archive_name("  Årsoppgjør 2024 – del 2! "),
            "rsoppgjr-2024-del-2.zip"
        );
        assert_eq!(archive_name("a -- b"), "a-b.zip");
        assert_eq!(archive_name("-Kopi-"), "kopi.zip");
        assert_eq!(archive_name("ABC_def/123"), "abcdef123.zip");
    }

    #[test]
    fn archive_name_falls_back_when_nothing_is_left() {
        assert_eq!(archive_name(""), ARCHIVE_FALLBACK_NAME);
        assert_eq!(archive_name("æøå ÆØÅ"), ARCHIVE_FALLBACK_NAME);
        assert_eq!(archive_name(" - "), ARCHIVE_FALLBACK_NAME);
        assert_eq!(ARCHIVE_FALLBACK_NAME, "correspondence-attachments.zip");
    }

    #[test]
    fn archive_name_is_at_most_100_characters_before_zip() {
        let name = archive_name(&"a".repeat(150));
        assert_eq!(name, format!("{}.zip", "a".repeat(100)));
        // A cut that lands just after a dash does not leave it dangling.
        let title = format!("{} {}", "b".repeat(99), "c".repeat(10));
        assert_eq!(archive_name(&title), format!("{}.zip", "b".repeat(99)));
    }
}
