use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc, Weekday};

use super::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn weekdays_are_business_days_weekends_and_holidays_are_not() {
    let calendar = BusinessCalendar::norwegian();
    assert!(calendar.is_business_day(date("2026-11-30"))); // Monday
    assert!(calendar.is_business_day(date("2026-12-04"))); // Friday
    assert!(!calendar.is_business_day(date("2026-12-05"))); // Saturday
    assert!(!calendar.is_business_day(date("2026-12-06"))); // Sunday
    assert!(!calendar.is_business_day(date("2025-04-17"))); // Skjærtorsdag
    assert!(!calendar.is_business_day(date("2025-05-01"))); // Thursday, 1 May
    assert!(!calendar.is_business_day(date("2025-05-29"))); // Kristi himmelfart
    assert!(!calendar.is_business_day(date("2027-05-17"))); // Monday: 17 May and 2. pinsedag
    assert!(calendar.is_business_day(date("2025-12-24"))); // Wednesday, julaften: working day
    assert!(calendar.is_business_day(date("2025-12-31"))); // Wednesday, nyttårsaften
    assert!(!calendar.is_business_day(date("2025-12-25")));
    assert!(!calendar.is_business_day(date("2026-01-01")));
    assert_eq!(BusinessCalendar::default(), calendar);
    assert_eq!(calendar.weekend(), [Weekday::Sat, Weekday::Sun]);
    assert!(calendar.closed_dates().is_empty());
}

#[test]
fn business_days_per_year_2024_to_2035() {
    // Weekdays minus the holidays that fall on weekdays, counted independently of the
    // calendar: a cross-check of the whole table at once.
    let calendar = BusinessCalendar::norwegian();
    for year in 2024..=2035 {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let weekdays = days
            .iter()
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .count();
        let weekday_holidays = crate::holidays::public_holidays(year)
            .into_iter()
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .count();
        let business = days
            .iter()
            .filter(|d| calendar.is_business_day(**d))
            .count();
        assert_eq!(business, weekdays - weekday_holidays, "{year}");
    }
    // The totals, computed with python-dateutil's Easter and the §5.1 list.
    let totals = [
        (2024, 252),
        (2025, 252),
        (2026, 253),
        (2027, 255),
        (2028, 251),
        (2029, 251),
        (2030, 251),
        (2031, 252),
        (2032, 256),
        (2033, 253),
        (2034, 251),
        (2035, 251),
    ];
    for (year, total) in totals {
        let count = calendar.business_days_between(
            NaiveDate::from_ymd_opt(year - 1, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        );
        assert_eq!(count, total, "{year}");
    }
}

#[test]
fn two_business_days_after_the_reference_examples() {
    // Delivery-chain reference §5.3, date level, N = 2.
    let calendar = BusinessCalendar::norwegian();
    let cases = [
        ("2025-04-16", "2025-04-23"), // Easter Thursday, Friday and Monday skipped
        ("2025-05-15", "2025-05-19"), // 17 May 2025 is a Saturday
        ("2025-12-23", "2025-12-29"), // 24 Dec counts, 25–26 Dec do not
        ("2025-12-24", "2025-12-30"),
        ("2026-05-13", "2026-05-18"), // Kristi himmelfart Thursday 14 May
        ("2026-03-31", "2026-04-07"), // Easter 2026
    ];
    for (from, due) in cases {
        assert_eq!(
            calendar.add_business_days(date(from), 2),
            Ok(date(due)),
            "{from}"
        );
        assert_eq!(calendar.business_days_between(date(from), date(due)), 2);
    }
}

#[test]
fn coincidence_years_do_not_count_a_shared_holiday_twice() {
    let calendar = BusinessCalendar::norwegian();
    // 2027: Friday 14 May → weekend, Monday 17 May (grunnlovsdag and 2. pinsedag) → Tue, Wed.
    assert_eq!(
        calendar.add_business_days(date("2027-05-14"), 2),
        Ok(date("2027-05-19"))
    );
    // 2032: the same coincidence.
    assert_eq!(
        calendar.add_business_days(date("2032-05-14"), 2),
        Ok(date("2032-05-19"))
    );
    // 2027 Ascension Thursday 6 May: Wednesday 5 May → Fri 7, Mon 10.
    assert_eq!(
        calendar.add_business_days(date("2027-05-05"), 2),
        Ok(date("2027-05-10"))
    );
    // 2008: Kristi himmelfart on 1 May, one closed Thursday.
    assert_eq!(
        calendar.add_business_days(date("2008-04-30"), 2),
        Ok(date("2008-05-05"))
    );
    // 2012: Kristi himmelfart on 17 May.
    assert_eq!(
        calendar.add_business_days(date("2012-05-16"), 1),
        Ok(date("2012-05-18"))
    );
}

#[test]
fn christmas_and_new_year() {
    let calendar = BusinessCalendar::norwegian();
    // 2027: 24 Dec a Friday (open), 25–26 Dec the weekend; no substitute days.
    assert_eq!(
        calendar.add_business_days(date("2027-12-23"), 2),
        Ok(date("2027-12-27"))
    );
    // 2025: New Year's Eve open, 1 January closed.
    assert_eq!(
        calendar.add_business_days(date("2025-12-31"), 2),
        Ok(date("2026-01-05"))
    );
    // 2028: 1 January a Saturday: Friday 31 Dec 2027 → Mon 3, Tue 4 Jan.
    assert_eq!(
        calendar.add_business_days(date("2027-12-31"), 2),
        Ok(date("2028-01-04"))
    );
}

#[test]
fn zero_business_days_is_the_date_itself() {
    let calendar = BusinessCalendar::norwegian();
    assert_eq!(
        calendar.add_business_days(date("2026-12-05"), 0),
        Ok(date("2026-12-05"))
    );
    assert_eq!(
        calendar.business_days_between(date("2026-12-05"), date("2026-12-05")),
        0
    );
    assert_eq!(
        calendar.business_days_between(date("2026-12-09"), date("2026-12-05")),
        0
    );
}

#[test]
fn next_business_day_skips_weekends_and_runs_of_holidays() {
    let calendar = BusinessCalendar::norwegian();
    assert_eq!(
        calendar.next_business_day(date("2026-12-04")),
        Ok(date("2026-12-07"))
    );
    assert_eq!(
        calendar.next_business_day(date("2025-04-16")),
        Ok(date("2025-04-22"))
    );
    assert_eq!(
        calendar.next_business_day(date("2025-04-19")),
        Ok(date("2025-04-22"))
    );
    assert_eq!(
        calendar.next_business_day(NaiveDate::MAX),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        calendar.add_business_days(NaiveDate::MAX - TimeDelta::days(10), 100),
        Err(CalendarError::OutOfRange)
    );
}

#[test]
fn extra_closed_dates_are_skipped() {
    // A municipality closed on the "inneklemt" Friday after Kristi himmelfart 2026.
    let calendar = BusinessCalendar::norwegian().with_closed_dates([date("2026-05-15")]);
    assert!(!calendar.is_business_day(date("2026-05-15")));
    assert_eq!(
        calendar.add_business_days(date("2026-05-13"), 2),
        Ok(date("2026-05-19"))
    );
    // Closing a date twice, or closing a holiday, changes nothing.
    let again = calendar
        .clone()
        .with_closed_dates([date("2026-05-15"), date("2026-05-14")]);
    assert_eq!(again.closed_dates().len(), 2);
    assert_eq!(
        again.add_business_days(date("2026-05-13"), 2),
        Ok(date("2026-05-19"))
    );
    // Unaffected elsewhere.
    assert_eq!(
        calendar.add_business_days(date("2025-05-15"), 2),
        Ok(date("2025-05-19"))
    );
}

#[test]
fn the_weekend_is_configurable() {
    // Saturday a virkedag (ferieloven's reading): Thursday 22 May 2025 → Fri 23, Sat 24.
    let saturday_open = BusinessCalendar::norwegian()
        .with_weekend([Weekday::Sun])
        .unwrap();
    assert_eq!(saturday_open.weekend(), [Weekday::Sun]);
    assert_eq!(
        saturday_open.add_business_days(date("2025-05-22"), 2),
        Ok(date("2025-05-24"))
    );
    // A Saturday holiday stays closed: Thursday 15 May 2025 → Fri 16, (Sat 17 May), Mon 19.
    assert_eq!(
        saturday_open.add_business_days(date("2025-05-15"), 2),
        Ok(date("2025-05-19"))
    );
    // No weekend at all: Saturday 6 Dec 2025 → Sun 7, Mon 8.
    let every_day = BusinessCalendar::norwegian().with_weekend([]).unwrap();
    assert!(every_day.weekend().is_empty());
    assert_eq!(
        every_day.add_business_days(date("2025-12-06"), 2),
        Ok(date("2025-12-08"))
    );
    // Easter Sunday is a holiday even without a weekend.
    assert!(!every_day.is_business_day(date("2025-04-20")));
}

#[test]
fn a_weekend_covering_the_whole_week_is_refused() {
    use Weekday::*;
    assert_eq!(
        BusinessCalendar::norwegian().with_weekend([Mon, Tue, Wed, Thu, Fri, Sat, Sun, Mon]),
        Err(CalendarError::NoBusinessDays)
    );
    assert!(
        BusinessCalendar::norwegian()
            .with_weekend([Mon, Tue, Wed, Thu, Fri, Sat])
            .is_ok()
    );
}

#[test]
fn oslo_dates_of_utc_instants() {
    // 23:30 UTC is already the next day in Oslo, winter (+1) and summer (+2).
    assert_eq!(oslo_date(utc("2026-01-30T23:30:00Z")), date("2026-01-31"));
    assert_eq!(oslo_date(utc("2026-06-30T22:00:00Z")), date("2026-07-01"));
    assert_eq!(oslo_date(utc("2026-06-30T21:59:59Z")), date("2026-06-30"));
}

#[test]
fn oslo_wall_clock_times_to_utc() {
    assert_eq!(
        oslo_to_utc(local("2026-01-15 12:00:00")),
        Ok(utc("2026-01-15T11:00:00Z"))
    );
    assert_eq!(
        oslo_to_utc(local("2026-07-15 12:00:00")),
        Ok(utc("2026-07-15T10:00:00Z"))
    );
    assert_eq!(
        oslo_start_of_day(date("2026-03-29")),
        Ok(utc("2026-03-28T23:00:00Z"))
    );
    assert_eq!(
        oslo_start_of_day(date("2026-03-30")),
        Ok(utc("2026-03-29T22:00:00Z"))
    );
}

#[test]
fn a_wall_clock_time_skipped_in_spring_resolves_to_the_jump() {
    // Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    assert_eq!(
        oslo_to_utc(local("2026-03-29 01:59:59")),
        Ok(utc("2026-03-29T00:59:59Z"))
    );
    assert_eq!(
        oslo_to_utc(local("2026-03-29 02:00:00")),
        Ok(utc("2026-03-29T01:00:00Z"))
    );
    assert_eq!(
        oslo_to_utc(local("2026-03-29 02:30:45")),
        Ok(utc("2026-03-29T01:00:00Z"))
    );
    assert_eq!(
        oslo_to_utc(local("2026-03-29 03:00:00")),
        Ok(utc("2026-03-29T01:00:00Z"))
    );
    assert_eq!(
        oslo_to_utc(local("2026-03-29 03:30:00")),
        Ok(utc("2026-03-29T01:30:00Z"))
    );
}

#[test]
fn a_wall_clock_time_repeated_in_autumn_resolves_to_its_first_occurrence() {
    // Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
    assert_eq!(
        oslo_to_utc(local("2026-10-25 02:30:00")),
        Ok(utc("2026-10-25T00:30:00Z"))
    );
    assert_eq!(
        oslo_to_utc(local("2026-10-25 03:00:00")),
        Ok(utc("2026-10-25T02:00:00Z"))
    );
}

#[test]
fn business_time_counts_only_business_days() {
    let calendar = BusinessCalendar::norwegian();
    // Friday 12:00 to Monday 12:00 (winter): 12 h Friday + 12 h Monday.
    assert_eq!(
        calendar.business_time_between(utc("2026-12-04T11:00:00Z"), utc("2026-12-07T11:00:00Z")),
        Ok(TimeDelta::hours(24))
    );
    // Backwards or empty intervals hold no time.
    assert_eq!(
        calendar.business_time_between(utc("2026-12-07T11:00:00Z"), utc("2026-12-04T11:00:00Z")),
        Ok(TimeDelta::zero())
    );
    // A DST Sunday that is a business day lasts 23 hours (spring) or 25 hours (autumn).
    let every_day = BusinessCalendar::norwegian().with_weekend([]).unwrap();
    let spring = date("2026-03-29");
    let autumn = date("2026-10-25");
    for (day, hours) in [(spring, 23), (autumn, 25)] {
        let from = oslo_start_of_day(day).unwrap();
        let to = oslo_start_of_day(day.succ_opt().unwrap()).unwrap();
        assert_eq!(
            every_day.business_time_between(from, to),
            Ok(TimeDelta::hours(hours))
        );
        assert_eq!(
            calendar.business_time_between(from, to),
            Ok(TimeDelta::zero())
        );
    }
}
