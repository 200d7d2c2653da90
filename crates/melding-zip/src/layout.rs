//! Where every byte of the archive goes, and the header records themselves.
//!
//! [`Layout::new`] places the entries by encoding their headers with the same functions the
//! stream uses to send them, so the `Content-Length` promised up front and the bytes sent can
//! never disagree. Record formats follow PKWARE's APPNOTE.TXT 6.3: local file header (4.3.7),
//! central directory header (4.3.12), Zip64 end of central directory record and locator
//! (4.3.14, 4.3.15), end of central directory record (4.3.16), Zip64 extra field (4.5.3).

use crate::{ZipEntry, ZipOptions};

const LOCAL_HEADER_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIGNATURE: u32 = 0x0201_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;

const ZIP64_EXTRA_ID: u16 = 0x0001;
/// General purpose bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
const METHOD_STORED: u16 = 0;
const VERSION_DEFAULT: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// Upper byte 3: attributes are Unix ones; lower byte: spec version 4.5.
const VERSION_MADE_BY: u16 = (3 << 8) | VERSION_ZIP64;
/// A regular file, `rw-r--r--`, so unpacked files get ordinary permissions.
const EXTERNAL_ATTRIBUTES: u32 = 0o100_644 << 16;

/// A 32-bit field holding this value means "see the Zip64 record", so a real value equal to it
/// must go to Zip64 as well.
const U32_SENTINEL: u64 = 0xFFFF_FFFF;
const U16_SENTINEL: u64 = 0xFFFF;

const LOCAL_HEADER_FIXED: usize = 30;
const ZIP64_END_LEN: usize = 56;

/// Where one entry goes and which of its fields need Zip64.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    /// Offset of the entry's local header from the start of the archive.
    pub offset: u64,
    /// Sizes go in a Zip64 extra field: in the local header (both sizes, as 4.5.3 requires
    /// there) and in the central directory. Stored entries have equal sizes, so it is both or
    /// neither.
    sizes_zip64: bool,
    /// The local header offset goes in the central directory's Zip64 extra field.
    offset_zip64: bool,
}

impl Placement {
    fn uses_zip64(self) -> bool {
        self.sizes_zip64 || self.offset_zip64
    }

    fn version_needed(self) -> u16 {
        if self.uses_zip64() {
            VERSION_ZIP64
        } else {
            VERSION_DEFAULT
        }
    }
}

/// The archive's shape: entries, central directory, end records.
#[derive(Debug)]
pub(crate) struct Layout {
    placements: Vec<Placement>,
    central_directory_offset: u64,
    central_directory_size: u64,
    zip64_end: bool,
    force_zip64: bool,
    total: u64,
}

impl Layout {
    pub fn new(entries: &[ZipEntry], options: &ZipOptions) -> Self {
        let force = options.force_zip64;
        let mut scratch = Vec::new();
        let mut position = 0u64;
        let mut placements = Vec::with_capacity(entries.len());
        for entry in entries {
            let placement = Placement {
                offset: position,
                sizes_zip64: force || entry.size >= U32_SENTINEL,
                offset_zip64: force || position >= U32_SENTINEL,
            };
            scratch.clear();
            local_header(&mut scratch, entry, placement, options);
            position += scratch.len() as u64 + entry.size;
            placements.push(placement);
        }
        let central_directory_offset = position;
        for (entry, placement) in entries.iter().zip(&placements) {
            scratch.clear();
            central_header(&mut scratch, entry, *placement, options);
            position += scratch.len() as u64;
        }
        let central_directory_size = position - central_directory_offset;
        let zip64_end = force
            || placements.iter().any(|p| p.uses_zip64())
            || entries.len() as u64 >= U16_SENTINEL
            || central_directory_size >= U32_SENTINEL
            || central_directory_offset >= U32_SENTINEL;
        let mut layout = Self {
            placements,
            central_directory_offset,
            central_directory_size,
            zip64_end,
            force_zip64: force,
            total: 0,
        };
        scratch.clear();
        layout.end_records(&mut scratch);
        layout.total = position + scratch.len() as u64;
        layout
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn placement(&self, index: usize) -> Placement {
        self.placements[index]
    }

    pub fn central_directory_offset(&self) -> u64 {
        self.central_directory_offset
    }

    /// Appends the Zip64 end record and locator when needed, then the classic end record.
    pub fn end_records(&self, out: &mut Vec<u8>) {
        let count = self.placements.len() as u64;
        let end_of_directory = self.central_directory_offset + self.central_directory_size;
        if self.zip64_end {
            put_u32(out, ZIP64_END_SIGNATURE);
            // Size of the rest of the record: everything after this field.
            put_u64(out, (ZIP64_END_LEN - 12) as u64);
            put_u16(out, VERSION_MADE_BY);
            put_u16(out, VERSION_ZIP64);
            put_u32(out, 0); // this disk
            put_u32(out, 0); // disk where the central directory starts
            put_u64(out, count); // entries on this disk
            put_u64(out, count); // entries in total
            put_u64(out, self.central_directory_size);
            put_u64(out, self.central_directory_offset);

            put_u32(out, ZIP64_LOCATOR_SIGNATURE);
            put_u32(out, 0); // disk holding the Zip64 end record
            put_u64(out, end_of_directory);
            put_u32(out, 1); // number of disks
        }
        // Forcing Zip64 puts sentinels everywhere, so readers must take the Zip64 values.
        let force = self.force_zip64;
        let count16 = end_field16(count, force);
        put_u32(out, END_SIGNATURE);
        put_u16(out, 0); // this disk
        put_u16(out, 0); // disk where the central directory starts
        put_u16(out, count16); // entries on this disk
        put_u16(out, count16); // entries in total
        put_u32(out, end_field32(self.central_directory_size, force));
        put_u32(out, end_field32(self.central_directory_offset, force));
        put_u16(out, 0); // comment length
    }
}

/// Appends the local file header for `entry`.
pub(crate) fn local_header(
    out: &mut Vec<u8>,
    entry: &ZipEntry,
    placement: Placement,
    options: &ZipOptions,
) {
    let start = out.len();
    let name = name_bytes(&entry.name);
    let zip64 = placement.sizes_zip64;
    put_u32(out, LOCAL_HEADER_SIGNATURE);
    put_u16(out, placement.version_needed());
    put_u16(out, FLAG_UTF8);
    put_u16(out, METHOD_STORED);
    put_u16(out, options.modified.time_field());
    put_u16(out, options.modified.date_field());
    put_u32(out, entry.crc32);
    let size32 = narrow32(entry.size, zip64);
    put_u32(out, size32); // compressed
    put_u32(out, size32); // uncompressed
    put_u16(out, name.len() as u16);
    put_u16(out, if zip64 { 20 } else { 0 });
    out.extend_from_slice(name);
    if zip64 {
        put_u16(out, ZIP64_EXTRA_ID);
        put_u16(out, 16);
        put_u64(out, entry.size); // uncompressed
        put_u64(out, entry.size); // compressed
    }
    debug_assert_eq!(
        out.len() - start,
        LOCAL_HEADER_FIXED + name.len() + if zip64 { 20 } else { 0 }
    );
}

/// Appends the central directory header for `entry`.
pub(crate) fn central_header(
    out: &mut Vec<u8>,
    entry: &ZipEntry,
    placement: Placement,
    options: &ZipOptions,
) {
    let name = name_bytes(&entry.name);
    let size32 = narrow32(entry.size, placement.sizes_zip64);
    // The Zip64 extra field holds exactly the fields set to the sentinel, in this order.
    let mut extra = Vec::new();
    if placement.sizes_zip64 {
        put_u64(&mut extra, entry.size); // uncompressed
        put_u64(&mut extra, entry.size); // compressed
    }
    if placement.offset_zip64 {
        put_u64(&mut extra, placement.offset);
    }
    let extra_len = if extra.is_empty() { 0 } else { 4 + extra.len() };

    put_u32(out, CENTRAL_HEADER_SIGNATURE);
    put_u16(out, VERSION_MADE_BY);
    put_u16(out, placement.version_needed());
    put_u16(out, FLAG_UTF8);
    put_u16(out, METHOD_STORED);
    put_u16(out, options.modified.time_field());
    put_u16(out, options.modified.date_field());
    put_u32(out, entry.crc32);
    put_u32(out, size32); // compressed
    put_u32(out, size32); // uncompressed
    put_u16(out, name.len() as u16);
    put_u16(out, extra_len as u16);
    put_u16(out, 0); // comment length
    put_u16(out, 0); // disk where the entry starts
    put_u16(out, 0); // internal attributes
    put_u32(out, EXTERNAL_ATTRIBUTES);
    put_u32(out, narrow32(placement.offset, placement.offset_zip64));
    out.extend_from_slice(name);
    if !extra.is_empty() {
        put_u16(out, ZIP64_EXTRA_ID);
        put_u16(out, extra.len() as u16);
        out.extend_from_slice(&extra);
    }
}

/// The name as stored: cut to the 65,535 bytes a header can describe.
fn name_bytes(name: &str) -> &[u8] {
    &name.as_bytes()[..name.floor_char_boundary(usize::from(u16::MAX))]
}

/// The value as a 32-bit field, or the sentinel when it goes to a Zip64 record instead.
fn narrow32(value: u64, zip64: bool) -> u32 {
    if zip64 {
        u32::MAX
    } else {
        u32::try_from(value).expect("the layout sends values that do not fit to Zip64")
    }
}

/// An end record field: the value, or the sentinel if it does not fit or Zip64 is forced.
fn end_field32(value: u64, force: bool) -> u32 {
    if force || value >= U32_SENTINEL {
        u32::MAX
    } else {
        value as u32
    }
}

fn end_field16(value: u64, force: bool) -> u16 {
    if force || value >= U16_SENTINEL {
        u16::MAX
    } else {
        value as u16
    }
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, size: u64) -> ZipEntry {
        ZipEntry {
            name: name.to_owned(),
            size,
            crc32: 0x1234_5678,
        }
    }

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u64_at(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn an_empty_archive_is_just_the_end_record() {
        let layout = Layout::new(&[], &ZipOptions::default());
        assert_eq!(layout.total(), 22);
        let mut out = Vec::new();
        layout.end_records(&mut out);
        assert_eq!(out.len(), 22);
        assert_eq!(u32_at(&out, 0), END_SIGNATURE);
    }

    #[test]
    fn small_entries_use_no_zip64() {
        let entries = [entry("a.txt", 3), entry("bb.txt", 0)];
        let layout = Layout::new(&entries, &ZipOptions::default());
        let locals = (30 + 5 + 3) + (30 + 6);
        let centrals = (46 + 5) + (46 + 6);
        assert_eq!(layout.central_directory_offset(), locals);
        assert_eq!(layout.total(), locals + centrals + 22);
        assert_eq!(layout.placement(1).offset, 38);

        let mut header = Vec::new();
        local_header(
            &mut header,
            &entries[0],
            layout.placement(0),
            &ZipOptions::default(),
        );
        assert_eq!(u16_at(&header, 4), VERSION_DEFAULT);
        assert_eq!(u16_at(&header, 6), FLAG_UTF8);
        assert_eq!(u32_at(&header, 14), 0x1234_5678);
        assert_eq!(u32_at(&header, 18), 3);
        assert_eq!(u16_at(&header, 28), 0);
    }

    #[test]
    fn sizes_at_the_sentinel_or_above_go_to_zip64_in_both_headers() {
        let big = entry("big.bin", U32_SENTINEL);
        let layout = Layout::new(std::slice::from_ref(&big), &ZipOptions::default());
        let placement = layout.placement(0);

        let mut local = Vec::new();
        local_header(&mut local, &big, placement, &ZipOptions::default());
        assert_eq!(u16_at(&local, 4), VERSION_ZIP64);
        assert_eq!(u32_at(&local, 18), u32::MAX);
        assert_eq!(u32_at(&local, 22), u32::MAX);
        assert_eq!(u16_at(&local, 28), 20);
        let extra = 30 + 7;
        assert_eq!(u16_at(&local, extra), ZIP64_EXTRA_ID);
        assert_eq!(u16_at(&local, extra + 2), 16);
        assert_eq!(u64_at(&local, extra + 4), U32_SENTINEL);
        assert_eq!(u64_at(&local, extra + 12), U32_SENTINEL);

        let mut central = Vec::new();
        central_header(&mut central, &big, placement, &ZipOptions::default());
        assert_eq!(u32_at(&central, 20), u32::MAX);
        assert_eq!(u32_at(&central, 24), u32::MAX);
        assert_eq!(u16_at(&central, 30), 20);
        // The offset (0) fits, so it stays in the header and out of the extra field.
        assert_eq!(u32_at(&central, 42), 0);
        assert_eq!(u16_at(&central, 46 + 7 + 2), 16);

        let mut end = Vec::new();
        layout.end_records(&mut end);
        assert_eq!(end.len(), 56 + 20 + 22);
        assert_eq!(u32_at(&end, 0), ZIP64_END_SIGNATURE);
        assert_eq!(u32_at(&end, 56), ZIP64_LOCATOR_SIGNATURE);
        assert_eq!(u64_at(&end, 56 + 8), layout.total() - 98);
        // Nothing in the classic record overflows, so it keeps real values.
        assert_eq!(u16_at(&end, 76 + 10), 1);
    }

    #[test]
    fn an_offset_past_4_gib_alone_puts_only_the_offset_in_the_extra_field() {
        let entries = [entry("big.bin", 5 << 30), entry("after.txt", 1)];
        let layout = Layout::new(&entries, &ZipOptions::default());
        let placement = layout.placement(1);
        let mut central = Vec::new();
        central_header(&mut central, &entries[1], placement, &ZipOptions::default());
        assert_eq!(u16_at(&central, 6), VERSION_ZIP64);
        assert_eq!(u32_at(&central, 20), 1);
        assert_eq!(u32_at(&central, 42), u32::MAX);
        let extra = 46 + 9;
        assert_eq!(u16_at(&central, extra + 2), 8);
        assert_eq!(u64_at(&central, extra + 4), placement.offset);
        assert!(placement.offset > U32_SENTINEL);

        let mut local = Vec::new();
        local_header(&mut local, &entries[1], placement, &ZipOptions::default());
        assert_eq!(
            u16_at(&local, 28),
            0,
            "small sizes need no local extra field"
        );
    }

    #[test]
    fn forcing_zip64_fills_every_field_with_sentinels() {
        let options = ZipOptions {
            force_zip64: true,
            ..ZipOptions::default()
        };
        let entries = [entry("a", 1)];
        let layout = Layout::new(&entries, &options);
        let mut central = Vec::new();
        central_header(&mut central, &entries[0], layout.placement(0), &options);
        assert_eq!(u16_at(&central, 30), 4 + 24);
        let mut end = Vec::new();
        layout.end_records(&mut end);
        assert_eq!(u16_at(&end, 76 + 10), u16::MAX);
        assert_eq!(u32_at(&end, 76 + 12), u32::MAX);
        assert_eq!(u32_at(&end, 76 + 16), u32::MAX);
        assert_eq!(u64_at(&end, 32), 1, "the Zip64 record has the real count");
    }

    #[test]
    fn many_entries_need_the_zip64_end_record() {
        let entries: Vec<_> = (0..65_535).map(|i| entry(&i.to_string(), 0)).collect();
        let layout = Layout::new(&entries, &ZipOptions::default());
        let mut end = Vec::new();
        layout.end_records(&mut end);
        assert_eq!(u32_at(&end, 0), ZIP64_END_SIGNATURE);
        assert_eq!(u16_at(&end, 76 + 10), u16::MAX);

        let fewer = &entries[..65_534];
        let layout = Layout::new(fewer, &ZipOptions::default());
        let mut end = Vec::new();
        layout.end_records(&mut end);
        assert_eq!(end.len(), 22);
    }
}
