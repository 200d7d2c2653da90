//! The MS-DOS date and time zip headers carry. Kept as a tiny value type so archives are
//! deterministic: the same entries and options always give the same bytes.

/// A local date and time in MS-DOS form (APPNOTE.TXT 4.4.6): years 1980–2107, seconds in steps
/// of two. The default is the earliest value, 1980-01-01 00:00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DosDateTime {
    date: u16,
    time: u16,
}

impl DosDateTime {
    /// 1980-01-01 00:00:00, the earliest time the format can hold.
    pub const EARLIEST: Self = Self {
        date: (1 << 5) | 1,
        time: 0,
    };

    /// The given calendar date and time, or `None` if it does not exist or is outside
    /// 1980–2107. An odd second is rounded down, as the format stores seconds halved.
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        if !(1980..=2107).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        Some(Self {
            date: ((year - 1980) << 9) | (u16::from(month) << 5) | u16::from(day),
            time: (u16::from(hour) << 11) | (u16::from(minute) << 5) | u16::from(second / 2),
        })
    }

    pub(crate) fn date_field(self) -> u16 {
        self.date
    }

    pub(crate) fn time_field(self) -> u16 {
        self.time
    }
}

impl Default for DosDateTime {
    fn default() -> Self {
        Self::EARLIEST
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_is_1980_01_01_midnight() {
        assert_eq!(
            DosDateTime::new(1980, 1, 1, 0, 0, 0),
            Some(DosDateTime::EARLIEST)
        );
        assert_eq!(DosDateTime::EARLIEST.date_field(), 0x0021);
        assert_eq!(DosDateTime::EARLIEST.time_field(), 0);
    }

    #[test]
    fn packs_fields_as_appnote_describes() {
        let t = DosDateTime::new(2024, 3, 15, 13, 45, 31).unwrap();
        assert_eq!(t.date_field(), (44 << 9) | (3 << 5) | 15);
        assert_eq!(t.time_field(), (13 << 11) | (45 << 5) | 15);
    }

    #[test]
    fn rejects_what_cannot_be_stored_or_does_not_exist() {
        assert_eq!(DosDateTime::new(1979, 12, 31, 0, 0, 0), None);
        assert_eq!(DosDateTime::new(2108, 1, 1, 0, 0, 0), None);
        assert_eq!(DosDateTime::new(2023, 2, 29, 0, 0, 0), None);
        assert_eq!(DosDateTime::new(2024, 4, 31, 0, 0, 0), None);
        assert_eq!(DosDateTime::new(2024, 1, 1, 24, 0, 0), None);
        assert!(DosDateTime::new(2024, 2, 29, 23, 59, 59).is_some());
        assert!(DosDateTime::new(2000, 2, 29, 0, 0, 0).is_some());
        assert_eq!(DosDateTime::new(2100, 2, 29, 0, 0, 0), None);
    }
}
