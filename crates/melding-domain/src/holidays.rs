//! Norway's public holidays: the twelve days on which the print fallback's business-day count
//! stands still (delivery-chain reference §5.1, §9 rules 38–39).
//!
//! Hand-written on purpose: no maintained crate implements the statutory Norwegian list. The
//! finance calendars that know Norway (cal-calc's `nok_holidays`, the QuantLib ports in finquant
//! and libitofin) are *bank* calendars that also close on 24 December, which is a working day
//! by law (delivery-chain §5.4; dependencies-and-limits §3, row "Norwegian holidays"). The list
//! is short: Easter by the anonymous Gregorian computus (§5.2), five days at fixed offsets from
//! it and five fixed dates. Cross-checked against python-dateutil's `easter` for 2024–2035 and
//! for the coincidence years 2000–2060 listed in §5.2.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, Days, NaiveDate};

/// Easter Sunday (1. påskedag) of a Gregorian year, by the anonymous Gregorian algorithm
/// (Meeus/Jones/Butcher) exactly as delivery-chain reference §5.2 spells it out.
///
/// `None` only for a year outside the range of [`NaiveDate`] (about ±262 000). The algorithm is
/// defined for the Gregorian calendar (from 1583); earlier years give the proleptic answer.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// One of Norway's twelve public holidays (helligdager and offentlige høytidsdager), as listed
/// in delivery-chain reference §5.1. Two of them (1. påskedag and 1. pinsedag) are always
/// Sundays. Norway has no substitute day when a holiday falls on a weekend, and 24 and 31
/// December are ordinary working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PublicHoliday {
    /// 1. nyttårsdag, 1 January.
    NewYearsDay,
    /// Skjærtorsdag, Easter Sunday − 3 days.
    MaundyThursday,
    /// Langfredag, Easter Sunday − 2 days.
    GoodFriday,
    /// 1. påskedag, Easter Sunday.
    EasterSunday,
    /// 2. påskedag, Easter Sunday + 1 day.
    EasterMonday,
    /// Offentlig høytidsdag, 1 May.
    LabourDay,
    /// Grunnlovsdag, 17 May.
    ConstitutionDay,
    /// Kristi himmelfartsdag, Easter Sunday + 39 days.
    AscensionDay,
    /// 1. pinsedag, Easter Sunday + 49 days.
    WhitSunday,
    /// 2. pinsedag, Easter Sunday + 50 days.
    WhitMonday,
    /// 1. juledag, 25 December.
    ChristmasDay,
    /// 2. juledag, 26 December.
    BoxingDay,
}

impl PublicHoliday {
    /// All twelve, in the order they fall in a year without coincidences.
    pub const ALL: [PublicHoliday; 12] = [
        PublicHoliday::NewYearsDay,
        PublicHoliday::MaundyThursday,
        PublicHoliday::GoodFriday,
        PublicHoliday::EasterSunday,
        PublicHoliday::EasterMonday,
        PublicHoliday::LabourDay,
        PublicHoliday::ConstitutionDay,
        PublicHoliday::AscensionDay,
        PublicHoliday::WhitSunday,
        PublicHoliday::WhitMonday,
        PublicHoliday::ChristmasDay,
        PublicHoliday::BoxingDay,
    ];

    /// The holiday's Norwegian (bokmål) name, e.g. `2. pinsedag`.
    pub fn norwegian_name(&self) -> &'static str {
        match self {
            PublicHoliday::NewYearsDay => "1. nyttårsdag",
            PublicHoliday::MaundyThursday => "Skjærtorsdag",
            PublicHoliday::GoodFriday => "Langfredag",
            PublicHoliday::EasterSunday => "1. påskedag",
            PublicHoliday::EasterMonday => "2. påskedag",
            PublicHoliday::LabourDay => "Offentlig høytidsdag",
            PublicHoliday::ConstitutionDay => "Grunnlovsdag",
            PublicHoliday::AscensionDay => "Kristi himmelfartsdag",
            PublicHoliday::WhitSunday => "1. pinsedag",
            PublicHoliday::WhitMonday => "2. pinsedag",
            PublicHoliday::ChristmasDay => "1. juledag",
            PublicHoliday::BoxingDay => "2. juledag",
        }
    }

    /// The date the holiday falls on in `year` (a calendar date, no time zone: holidays are
    /// whole days in Europe/Oslo). `None` only for a year outside the range of [`NaiveDate`].
    pub fn date(&self, year: i32) -> Option<NaiveDate> {
        let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day);
        let from_easter = |offset: i64| {
            let easter = easter_sunday(year)?;
            if offset < 0 {
                easter.checked_sub_days(Days::new(offset.unsigned_abs()))
            } else {
                easter.checked_add_days(Days::new(offset.unsigned_abs()))
            }
        };
        match self {
            PublicHoliday::NewYearsDay => fixed(1, 1),
            PublicHoliday::MaundyThursday => from_easter(-3),
            PublicHoliday::GoodFriday => from_easter(-2),
            PublicHoliday::EasterSunday => from_easter(0),
            PublicHoliday::EasterMonday => from_easter(1),
            PublicHoliday::LabourDay => fixed(5, 1),
            PublicHoliday::ConstitutionDay => fixed(5, 17),
            PublicHoliday::AscensionDay => from_easter(39),
            PublicHoliday::WhitSunday => from_easter(49),
            PublicHoliday::WhitMonday => from_easter(50),
            PublicHoliday::ChristmasDay => fixed(12, 25),
            PublicHoliday::BoxingDay => fixed(12, 26),
        }
    }

    /// The holidays that fall on `date`: none, one, or two in a coincidence year (17 May 2027
    /// is both Grunnlovsdag and 2. pinsedag; reference §5.2 lists the others).
    pub fn on(date: NaiveDate) -> Vec<PublicHoliday> {
        PublicHoliday::ALL
            .into_iter()
            .filter(|holiday| holiday.date(date.year()) == Some(date))
            .collect()
    }
}

impl fmt::Display for PublicHoliday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.norwegian_name())
    }
}

/// The dates of Norway's public holidays in `year`, as a set: in a coincidence year two
/// holidays share a date and the set has 11 members instead of 12, so nothing counts twice
/// (reference §5.2, §9 rule 39). Empty only for a year outside the range of [`NaiveDate`].
pub fn public_holidays(year: i32) -> BTreeSet<NaiveDate> {
    PublicHoliday::ALL
        .into_iter()
        .filter_map(|holiday| holiday.date(year))
        .collect()
}

/// Is `date` one of Norway's public holidays (reference §5.1)? A whole calendar day in
/// Europe/Oslo; weekends are not holidays in themselves. The same answer as
/// `!PublicHoliday::on(date).is_empty()`, computing Easter once: the business-day count asks
/// this for every day it steps over.
pub fn is_public_holiday(date: NaiveDate) -> bool {
    if matches!(
        (date.month(), date.day()),
        (1, 1) | (5, 1) | (5, 17) | (12, 25) | (12, 26)
    ) {
        return true;
    }
    // The Easter-relative days lie between 19 March (E − 3) and 14 June (E + 50).
    if !(3..=6).contains(&date.month()) {
        return false;
    }
    easter_sunday(date.year()).is_some_and(|easter| {
        matches!(
            date.signed_duration_since(easter).num_days(),
            -3 | -2 | 0 | 1 | 39 | 49 | 50
        )
    })
}

#[cfg(test)]
mod tests;
