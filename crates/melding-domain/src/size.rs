//! Sizes in bytes, for the limits Altinn sets on files and letters (reference §5.5, the 1069,
//! 2004 and 2023 texts). A limit is a [`ByteSize`] constant, and the label an error text shows
//! for it comes from the constant, so a limit and the text that names it cannot drift apart.
//!
//! Altinn's limits are decimal: "2GB" is 2·10⁹ bytes, "10 MB" is 10⁷ bytes.

use std::fmt;

/// A number of bytes. Labels use decimal units (kB = 10³, MB = 10⁶, GB = 10⁹), as Altinn's
/// limits do.
///
/// [`Display`](fmt::Display) writes the spaced form of the largest unit that divides the size
/// exactly (`10 MB`, `2 GB`, `1500 bytes`); [`ByteSize::compact`] writes Altinn's
/// `{maxFileSize}` form without the space (`2GB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(u64);

impl ByteSize {
    const UNITS: [(u64, &'static str); 3] =
        [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "kB")];

    /// `n` bytes.
    pub const fn bytes(n: u64) -> Self {
        Self(n)
    }

    /// `n` decimal megabytes: `n`·10⁶ bytes.
    pub const fn megabytes(n: u64) -> Self {
        Self(n * 1_000_000)
    }

    /// `n` decimal gigabytes: `n`·10⁹ bytes.
    pub const fn gigabytes(n: u64) -> Self {
        Self(n * 1_000_000_000)
    }

    /// The size in bytes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Is `n` bytes more than this size? The check a limit makes.
    pub const fn is_exceeded_by(self, n: u64) -> bool {
        n > self.0
    }

    /// The number and unit of the label: the largest decimal unit that divides the size
    /// exactly, or bytes.
    fn parts(self) -> (u64, &'static str) {
        Self::UNITS
            .iter()
            .find(|(unit, _)| self.0 != 0 && self.0.is_multiple_of(*unit))
            .map_or((self.0, "bytes"), |(unit, name)| (self.0 / unit, name))
    }

    /// The label without a space, as Altinn fills `{maxFileSize}` in 2004: `2GB`, `50GB`.
    pub fn compact(self) -> String {
        let (n, unit) = self.parts();
        format!("{n}{unit}")
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = self.parts();
        write!(f, "{n} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_use_the_largest_exact_decimal_unit() {
        assert_eq!(ByteSize::gigabytes(2).to_string(), "2 GB");
        assert_eq!(ByteSize::gigabytes(2).compact(), "2GB");
        assert_eq!(ByteSize::gigabytes(50).compact(), "50GB");
        assert_eq!(ByteSize::megabytes(10).to_string(), "10 MB");
        assert_eq!(ByteSize::megabytes(1500).to_string(), "1500 MB");
        assert_eq!(ByteSize::bytes(25_000).to_string(), "25 kB");
        assert_eq!(ByteSize::bytes(1500).to_string(), "1500 bytes");
        assert_eq!(ByteSize::bytes(0).to_string(), "0 bytes");
    }

    #[test]
    fn units_are_decimal() {
        assert_eq!(ByteSize::megabytes(10).as_u64(), 10_000_000);
        assert_eq!(ByteSize::gigabytes(2).as_u64(), 2_000_000_000);
        assert_eq!(ByteSize::gigabytes(1), ByteSize::megabytes(1000));
    }

    #[test]
    fn a_limit_is_exceeded_only_above_it() {
        let limit = ByteSize::megabytes(10);
        assert!(!limit.is_exceeded_by(10_000_000));
        assert!(limit.is_exceeded_by(10_000_001));
        assert!(!limit.is_exceeded_by(0));
    }
}
