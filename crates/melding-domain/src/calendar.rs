//! Norwegian business days ("virkedager") and Oslo wall-clock time: the calendar the print
//! fallback counts its "2 virkedager" on (delivery-chain reference §3.3 item 4, §5.3, §9 rule
//! 27).
//!
//! A business day is a date in Europe/Oslo that is not a weekend day (Saturday and Sunday unless
//! configured otherwise: in some statutes Saturday is a virkedag, §5.3), not one of Norway's
//! public holidays ([`crate::holidays`]) and not one of the extra closed dates an operator
//! configured (dependencies-and-limits §3, row "Norwegian holidays"). Instants come in and go out
//! as UTC; only the calendar reasoning happens on Oslo dates (§9 rule 47). The Oslo time zone
//! comes from `chrono-tz` (the IANA database), so a change to Norway's DST rules is a dependency
//! update, not a code change.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;

use crate::holidays::is_public_holiday;

/// Europe/Oslo, the zone in which every calendar rule of the delivery chain is evaluated
/// (delivery-chain reference §5.3, §9 rule 47). chrono-tz tabulates its DST changes up to 2099;
/// later instants keep a fixed offset, so rules are exact for any date a letter can have.
pub const OSLO: Tz = chrono_tz::Europe::Oslo;

/// Why a calendar could not be built or could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The configured weekend covers all seven weekdays, so no date is ever a business day
    /// and no deadline could be reached.
    #[error("the weekend covers the whole week: no day would be a business day")]
    NoBusinessDays,
    /// The answer lies beyond the dates chrono can represent (about ±262 000 years).
    #[error("the date is outside the range the calendar can represent")]
    OutOfRange,
}

/// The Oslo calendar date of a UTC instant.
pub fn oslo_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&OSLO).date_naive()
}

/// The UTC instant of an Oslo wall-clock time.
///
/// Around the DST changes (last Sunday of March and of October) a wall-clock time may not exist
/// or exist twice. A time that the spring change skips (02:00–02:59) resolves to the moment the
/// clocks jump (03:00 CEST, 01:00 UTC), so a later wall-clock time never gives an earlier
/// instant; a time the autumn change repeats (02:00–02:59) resolves to its first occurrence
/// (CEST).
///
/// Errors: [`CalendarError::OutOfRange`] when the instant cannot be represented.
pub fn oslo_to_utc(local: NaiveDateTime) -> Result<DateTime<Utc>, CalendarError> {
    if let Some(instant) = OSLO.from_local_datetime(&local).earliest() {
        return Ok(instant.with_timezone(&Utc));
    }
    // Inside a gap: find the first wall-clock minute after it. Gaps end on a whole minute and
    // Oslo's last one hour; two days bound the search for any zone.
    let mut probe = local
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .ok_or(CalendarError::OutOfRange)?;
    for _ in 0..(2 * 24 * 60) {
        probe = probe
            .checked_add_signed(TimeDelta::minutes(1))
            .ok_or(CalendarError::OutOfRange)?;
        if let Some(instant) = OSLO.from_local_datetime(&probe).earliest() {
            return Ok(instant.with_timezone(&Utc));
        }
    }
    Err(CalendarError::OutOfRange)
}

/// The UTC instant at which an Oslo calendar date begins (its 00:00 wall-clock time).
///
/// Errors: [`CalendarError::OutOfRange`] when the instant cannot be represented.
pub fn oslo_start_of_day(date: NaiveDate) -> Result<DateTime<Utc>, CalendarError> {
    oslo_to_utc(date.and_time(NaiveTime::MIN))
}

/// Which dates count as business days: Monday–Friday (or the configured working week) minus
/// Norway's public holidays and minus extra closed dates. Dates are Oslo calendar dates.
///
/// Built with [`BusinessCalendar::norwegian`] (also the [`Default`]) and adjusted with
/// [`BusinessCalendar::with_weekend`] and [`BusinessCalendar::with_closed_dates`]; the rules
/// are delivery-chain reference §5.1 and §5.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    /// Bit `n` set: the weekday `n` days after Monday is a weekend day. Never all seven.
    weekend: u8,
    closed: BTreeSet<NaiveDate>,
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self::norwegian()
    }
}

impl BusinessCalendar {
    /// The calendar SvarUt and Altinn count "virkedager" on: Monday–Friday minus Norway's
    /// public holidays, no extra closed dates (reference §5.3: "2 virkedager (altså ikke lørdag
    /// og søndag)").
    pub fn norwegian() -> Self {
        Self {
            weekend: weekday_bit(Weekday::Sat) | weekday_bit(Weekday::Sun),
            closed: BTreeSet::new(),
        }
    }

    /// The same calendar with `days` as its weekend instead of Saturday and Sunday, e.g. only
    /// Sunday for the statutes in which Saturday is a virkedag (reference §5.3). An empty list
    /// makes every day that is not a holiday or closed a business day.
    ///
    /// Errors: [`CalendarError::NoBusinessDays`] when `days` covers all seven weekdays.
    pub fn with_weekend(
        mut self,
        days: impl IntoIterator<Item = Weekday>,
    ) -> Result<Self, CalendarError> {
        let weekend = days
            .into_iter()
            .fold(0, |mask, day| mask | weekday_bit(day));
        if weekend == 0b111_1111 {
            return Err(CalendarError::NoBusinessDays);
        }
        self.weekend = weekend;
        Ok(self)
    }

    /// The same calendar with `dates` closed as well, e.g. a municipality's "inneklemte dager"
    /// or an outage of the print provider (dependencies-and-limits §3: "Make extra closed dates
    /// configurable"). Oslo calendar dates; adding a date that is already closed changes nothing.
    pub fn with_closed_dates(mut self, dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.closed.extend(dates);
        self
    }

    /// The weekend days, Monday first.
    pub fn weekend(&self) -> Vec<Weekday> {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .filter(|day| self.weekend & weekday_bit(*day) != 0)
        .collect()
    }

    /// The extra closed dates configured on top of weekends and public holidays.
    pub fn closed_dates(&self) -> &BTreeSet<NaiveDate> {
        &self.closed
    }

    /// Is the Oslo calendar date `date` a business day: not a weekend day, not a public holiday
    /// (reference §5.1), not an extra closed date?
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.weekend & weekday_bit(date.weekday()) == 0
            && !is_public_holiday(date)
            && !self.closed.contains(&date)
    }

    /// The first business day strictly after `date`.
    ///
    /// Errors: [`CalendarError::OutOfRange`] past the last date chrono represents.
    pub fn next_business_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        // Terminates: at least one weekday is open, holidays are at most 12 a year and the
        // closed dates are finite.
        let mut day = date;
        loop {
            day = day.succ_opt().ok_or(CalendarError::OutOfRange)?;
            if self.is_business_day(day) {
                return Ok(day);
            }
        }
    }

    /// The `n`-th business day strictly after `date` (`date` itself when `n` is 0, business day
    /// or not). "2 virkedager after Wednesday 16 April 2025" is Wednesday 23 April: the Easter
    /// days Thursday, Friday and Monday do not count (reference §5.3).
    ///
    /// Errors: [`CalendarError::OutOfRange`] past the last date chrono represents.
    pub fn add_business_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        (0..n).try_fold(date, |day, _| self.next_business_day(day))
    }

    /// How many business days lie in `(from, to]`: after `from`, up to and including `to`.
    /// Zero when `to` is not after `from`. The inverse of [`Self::add_business_days`]:
    /// `business_days_between(d, add_business_days(d, n)) == n`.
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|day| *day <= to)
            .filter(|day| self.is_business_day(*day))
            .fold(0, |count, _| count.saturating_add(1))
    }

    /// How much real time of `[from, to)` falls on business days, each business day running
    /// from its Oslo 00:00 to the next date's 00:00 (so a business day on which DST changes
    /// counts 23 or 25 hours). Zero when `to` is not after `from`.
    ///
    /// Errors: [`CalendarError::OutOfRange`] when a day boundary cannot be represented.
    pub fn business_time_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TimeDelta, CalendarError> {
        let mut total = TimeDelta::zero();
        let mut cursor = from;
        while cursor < to {
            let date = oslo_date(cursor);
            let next_date = date.succ_opt().ok_or(CalendarError::OutOfRange)?;
            let day_end = oslo_start_of_day(next_date)?.min(to);
            if self.is_business_day(date) {
                total += day_end - cursor;
            }
            cursor = day_end;
        }
        Ok(total)
    }
}

fn weekday_bit(day: Weekday) -> u8 {
    1 << day.num_days_from_monday()
}

#[cfg(test)]
mod tests;
