use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc, Weekday};
use proptest::prelude::*;

use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Asserts each `(notice sent, deadline)` pair; times carry their Oslo offset for readability.
fn assert_deadlines(rule: PrintDeadlineRule, calendar: &BusinessCalendar, cases: &[(&str, &str)]) {
    for (sent, due) in cases {
        assert_eq!(
            rule.deadline(calendar, utc(sent)),
            Ok(utc(due)),
            "{rule}, notice sent {sent}"
        );
    }
}

#[test]
fn the_default_is_two_business_days() {
    assert_eq!(
        PrintDeadlineRule::default(),
        PrintDeadlineRule::BusinessDays(2)
    );
    assert_eq!(PrintDeadlineRule::default().to_string(), "2 business days");
    assert_eq!(
        PrintDeadlineRule::SVARUT_40_HOURS.to_string(),
        "40 hours within business days"
    );
}

#[test]
fn two_business_days_keep_the_oslo_wall_clock_time() {
    // The worked examples of delivery-chain reference §5.3, at a time of day.
    assert_deadlines(
        PrintDeadlineRule::BusinessDays(2),
        &BusinessCalendar::norwegian(),
        &[
            // Wednesday before Easter 2025 → the Wednesday after.
            ("2025-04-16T10:00:00+02:00", "2025-04-23T10:00:00+02:00"),
            // Thursday before 17 May 2025 (a Saturday) → Monday.
            ("2025-05-15T14:00:00+02:00", "2025-05-19T14:00:00+02:00"),
            // Lillejulaften → Monday 29 December; julaften is a working day.
            ("2025-12-23T09:00:00+01:00", "2025-12-29T09:00:00+01:00"),
            ("2025-12-24T09:00:00+01:00", "2025-12-30T09:00:00+01:00"),
            // Wednesday before Kristi himmelfart 2026 → Monday (17 May 2026 is a Sunday).
            ("2026-05-13T16:45:00+02:00", "2026-05-18T16:45:00+02:00"),
            // Tuesday before Easter 2026 → Tuesday after.
            ("2026-03-31T08:00:00+02:00", "2026-04-07T08:00:00+02:00"),
            // Ordinary weeks: Monday → Wednesday, Thursday → Monday, Friday → Tuesday.
            ("2026-11-30T10:00:00+01:00", "2026-12-02T10:00:00+01:00"),
            ("2026-12-03T10:00:00+01:00", "2026-12-07T10:00:00+01:00"),
            ("2026-12-04T10:00:00+01:00", "2026-12-08T10:00:00+01:00"),
            // New Year 2026: Wednesday 31 Dec → Friday 2 Jan, Monday 5 Jan.
            ("2025-12-31T15:00:00+01:00", "2026-01-05T15:00:00+01:00"),
        ],
    );
}

#[test]
fn a_notice_on_a_closed_day_counts_from_the_next_business_day() {
    assert_deadlines(
        PrintDeadlineRule::BusinessDays(2),
        &BusinessCalendar::norwegian(),
        &[
            // Skjærtorsdag 2025: count from Tuesday 22 April 00:00 → Thursday 24 April 00:00.
            ("2025-04-17T09:00:00+02:00", "2025-04-24T00:00:00+02:00"),
            // 17 May 2025, a Saturday → Monday 00:00 → Wednesday 21 May 00:00.
            ("2025-05-17T12:00:00+02:00", "2025-05-21T00:00:00+02:00"),
            // Monday 17 May 2027, grunnlovsdag and 2. pinsedag → Tuesday → Thursday 20 May.
            ("2027-05-17T08:00:00+02:00", "2027-05-20T00:00:00+02:00"),
            // 1. juledag 2025 → Monday 29 Dec → Wednesday 31 Dec 00:00.
            ("2025-12-25T18:00:00+01:00", "2025-12-31T00:00:00+01:00"),
            // A Sunday one second before midnight.
            ("2026-12-06T23:59:59+01:00", "2026-12-09T00:00:00+01:00"),
        ],
    );
}

#[test]
fn coincidence_years_around_17_may() {
    assert_deadlines(
        PrintDeadlineRule::BusinessDays(2),
        &BusinessCalendar::norwegian(),
        &[
            // 2027 and 2032: Friday 14 May → (Mon 17 May closed) Tue 18, Wed 19.
            ("2027-05-14T15:00:00+02:00", "2027-05-19T15:00:00+02:00"),
            ("2032-05-14T15:00:00+02:00", "2032-05-19T15:00:00+02:00"),
            // 2027 Kristi himmelfart Thursday 6 May: Wednesday → Friday, Monday.
            ("2027-05-05T11:00:00+02:00", "2027-05-10T11:00:00+02:00"),
            // 2029: 1 May a Tuesday, Kristi himmelfart 10 May, 17 May a Thursday, 2. pinsedag 21 May.
            ("2029-04-30T12:00:00+02:00", "2029-05-03T12:00:00+02:00"),
            ("2029-05-09T12:00:00+02:00", "2029-05-14T12:00:00+02:00"),
            ("2029-05-16T12:00:00+02:00", "2029-05-22T12:00:00+02:00"),
        ],
    );
}

#[test]
fn dst_changes_move_the_utc_instant_not_the_oslo_time() {
    let two = PrintDeadlineRule::BusinessDays(2);
    let calendar = BusinessCalendar::norwegian();
    assert_deadlines(
        two,
        &calendar,
        &[
            // Friday 23:30 CET before the spring change (Sun 29 March 2026) → Tuesday 23:30 CEST.
            ("2026-03-27T23:30:00+01:00", "2026-03-31T23:30:00+02:00"),
            // Friday 23:30 CEST before the autumn change (Sun 25 October 2026) → Tuesday 23:30 CET.
            ("2026-10-23T23:30:00+02:00", "2026-10-27T23:30:00+01:00"),
            // Saturday 23:30 before the spring change → Monday 00:00 → Wednesday 00:00 CEST.
            ("2026-03-28T23:30:00+01:00", "2026-04-01T00:00:00+02:00"),
            // During the skipped hour's night itself.
            ("2026-03-29T01:30:00+01:00", "2026-04-01T00:00:00+02:00"),
            // In the repeated hour, both occurrences.
            ("2026-10-25T02:30:00+02:00", "2026-10-28T00:00:00+01:00"),
            ("2026-10-25T02:30:00+01:00", "2026-10-28T00:00:00+01:00"),
            // 2027: DST starts on Easter Sunday; Wednesday before Easter → Wednesday after.
            ("2027-03-24T23:30:00+01:00", "2027-03-31T23:30:00+02:00"),
        ],
    );
    // In UTC the spring case lasts an hour less than four days.
    let sent = utc("2026-03-27T22:30:00Z");
    assert_eq!(
        two.deadline(&calendar, sent).unwrap() - sent,
        TimeDelta::days(4) - TimeDelta::hours(1)
    );
}

#[test]
fn a_business_dst_sunday_resolves_skipped_and_repeated_times() {
    // Only a calendar without a weekend can land on a DST Sunday.
    let every_day = BusinessCalendar::norwegian().with_weekend([]).unwrap();
    let one = PrintDeadlineRule::BusinessDays(1);
    assert_deadlines(
        one,
        &every_day,
        &[
            // 02:30 does not exist on 29 March 2026: the clocks jump at 03:00 CEST.
            ("2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00"),
            // 02:30 happens twice on 25 October 2026: the first (CEST) one.
            ("2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00"),
        ],
    );
    // With N = 0 a notice in the second 02:30 gets itself as deadline, not the earlier first one.
    let second = utc("2026-10-25T02:30:00+01:00");
    assert_eq!(
        PrintDeadlineRule::BusinessDays(0).deadline(&every_day, second),
        Ok(second)
    );
}

#[test]
fn zero_business_days_is_now_or_the_next_business_morning() {
    let zero = PrintDeadlineRule::BusinessDays(0);
    assert_deadlines(
        zero,
        &BusinessCalendar::norwegian(),
        &[
            ("2026-12-02T10:00:00+01:00", "2026-12-02T10:00:00+01:00"),
            ("2026-12-05T10:00:00+01:00", "2026-12-07T00:00:00+01:00"),
        ],
    );
}

#[test]
fn extra_closed_dates_and_a_working_saturday_move_the_deadline() {
    let closed = BusinessCalendar::norwegian().with_closed_dates([date("2026-05-15")]);
    assert_deadlines(
        PrintDeadlineRule::BusinessDays(2),
        &closed,
        &[("2026-05-13T10:00:00+02:00", "2026-05-19T10:00:00+02:00")],
    );
    let saturday_open = BusinessCalendar::norwegian()
        .with_weekend([Weekday::Sun])
        .unwrap();
    assert_deadlines(
        PrintDeadlineRule::BusinessDays(2),
        &saturday_open,
        &[("2026-12-03T10:00:00+01:00", "2026-12-05T10:00:00+01:00")],
    );
}

#[test]
fn forty_hours_within_business_days() {
    assert_deadlines(
        PrintDeadlineRule::SVARUT_40_HOURS,
        &BusinessCalendar::norwegian(),
        &[
            // Monday 10:00: 14 h Monday + 24 h Tuesday + 2 h Wednesday.
            ("2026-11-30T10:00:00+01:00", "2026-12-02T02:00:00+01:00"),
            // Thursday 08:00: 16 h + 24 h end exactly at Friday's midnight.
            ("2026-12-03T08:00:00+01:00", "2026-12-05T00:00:00+01:00"),
            // One second later the last second falls on Monday.
            ("2026-12-03T08:00:01+01:00", "2026-12-07T00:00:01+01:00"),
            // Saturday: the count starts Monday 00:00 and ends Tuesday 16:00.
            ("2026-12-05T12:00:00+01:00", "2026-12-08T16:00:00+01:00"),
            // Wednesday before Easter 2025: 12 h, then Tuesday 24 h, then 4 h Wednesday.
            ("2025-04-16T12:00:00+02:00", "2025-04-23T04:00:00+02:00"),
            // Across the spring DST weekend: 12 h Friday, 24 h Monday, 4 h Tuesday (CEST).
            ("2026-03-27T12:00:00+01:00", "2026-03-31T04:00:00+02:00"),
            // Across Christmas 2025: Tuesday 23 Dec 20:00 → 4 h, 24 Dec 24 h, then Monday 12 h.
            ("2025-12-23T20:00:00+01:00", "2025-12-29T12:00:00+01:00"),
        ],
    );
    // Zero hours: the notice itself on a business day, else the next business day's start.
    assert_deadlines(
        PrintDeadlineRule::BusinessHours(0),
        &BusinessCalendar::norwegian(),
        &[
            ("2026-12-02T10:00:00+01:00", "2026-12-02T10:00:00+01:00"),
            ("2026-12-05T10:00:00+01:00", "2026-12-07T00:00:00+01:00"),
        ],
    );
}

#[test]
fn forty_hours_count_real_hours_on_a_business_dst_sunday() {
    let every_day = BusinessCalendar::norwegian().with_weekend([]).unwrap();
    assert_deadlines(
        PrintDeadlineRule::SVARUT_40_HOURS,
        &every_day,
        &[
            // Sunday 29 March 2026 has 23 hours: 23 + 17 on Monday.
            ("2026-03-29T00:00:00+01:00", "2026-03-30T17:00:00+02:00"),
            // Sunday 25 October 2026 has 25 hours: 25 + 15 on Monday.
            ("2026-10-25T00:00:00+02:00", "2026-10-26T15:00:00+01:00"),
        ],
    );
}

#[test]
fn the_40_hour_rule_prints_earlier_than_two_business_days_on_a_weekday_morning() {
    let calendar = BusinessCalendar::norwegian();
    let sent = utc("2026-11-30T10:00:00+01:00");
    let days = PrintDeadlineRule::BusinessDays(2)
        .deadline(&calendar, sent)
        .unwrap();
    let hours = PrintDeadlineRule::SVARUT_40_HOURS
        .deadline(&calendar, sent)
        .unwrap();
    assert_eq!(days - hours, TimeDelta::hours(8));
}

#[test]
fn out_of_range_deadlines_are_errors() {
    let last = NaiveDate::MAX.and_hms_opt(12, 0, 0).unwrap().and_utc() - TimeDelta::days(3);
    let calendar = BusinessCalendar::norwegian();
    assert_eq!(
        PrintDeadlineRule::BusinessDays(10).deadline(&calendar, last),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        PrintDeadlineRule::BusinessHours(1000).deadline(&calendar, last),
        Err(CalendarError::OutOfRange)
    );
}

#[test]
fn the_rule_is_recorded_as_json() {
    let days = serde_json::to_string(&PrintDeadlineRule::BusinessDays(2)).unwrap();
    assert_eq!(days, r#"{"business_days":2}"#);
    let hours = serde_json::to_string(&PrintDeadlineRule::SVARUT_40_HOURS).unwrap();
    assert_eq!(hours, r#"{"business_hours":40}"#);
    for rule in [
        PrintDeadlineRule::BusinessDays(3),
        PrintDeadlineRule::BusinessHours(40),
    ] {
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(
            serde_json::from_str::<PrintDeadlineRule>(&json).unwrap(),
            rule
        );
    }
    assert!(serde_json::from_str::<PrintDeadlineRule>(r#"{"business_weeks":2}"#).is_err());
}

/// Instants from 2000 to 2037, the years for which the IANA data carries explicit Oslo DST
/// transitions, at whole seconds.
fn instants() -> impl Strategy<Value = DateTime<Utc>> {
    let from = utc("2000-01-01T00:00:00Z").timestamp();
    let to = utc("2037-12-31T00:00:00Z").timestamp();
    (from..to).prop_map(|seconds| DateTime::from_timestamp(seconds, 0).unwrap())
}

/// The Norwegian calendar with up to four extra closed dates in the month after `start`.
fn calendar_near(start: DateTime<Utc>, closed_offsets: &[u64]) -> BusinessCalendar {
    let day = oslo_date(start);
    BusinessCalendar::norwegian()
        .with_closed_dates(closed_offsets.iter().map(|&n| day + chrono::Days::new(n)))
}

proptest! {
    #[test]
    fn business_day_deadlines_land_on_business_days_after_the_notice(
        sent in instants(),
        n in 0u32..12,
        closed in proptest::collection::vec(0u64..30, 0..4),
    ) {
        let calendar = calendar_near(sent, &closed);
        let due = PrintDeadlineRule::BusinessDays(n).deadline(&calendar, sent).unwrap();
        prop_assert!(due >= sent);
        prop_assert!(calendar.is_business_day(oslo_date(due)));
        let sent_local = sent.with_timezone(&OSLO);
        let due_local = due.with_timezone(&OSLO);
        if calendar.is_business_day(sent_local.date_naive()) {
            // Exactly n business days later, at the same Oslo wall-clock time.
            prop_assert_eq!(
                calendar.business_days_between(sent_local.date_naive(), due_local.date_naive()),
                n
            );
            if n > 0 {
                prop_assert_eq!(due_local.time(), sent_local.time());
            }
        } else {
            // Counted from the next business day's start.
            prop_assert_eq!(due_local.time().num_seconds_from_midnight(), 0);
            let from = calendar.next_business_day(sent_local.date_naive()).unwrap();
            prop_assert_eq!(calendar.business_days_between(from, due_local.date_naive()), n);
        }
    }

    #[test]
    fn adding_one_business_day_n_times_equals_adding_n(
        sent in instants(),
        n in 1u32..10,
        closed in proptest::collection::vec(0u64..30, 0..4),
    ) {
        let calendar = calendar_near(sent, &closed);
        let one = PrintDeadlineRule::BusinessDays(1);
        let mut stepped = sent;
        for _ in 0..n {
            stepped = one.deadline(&calendar, stepped).unwrap();
        }
        prop_assert_eq!(
            PrintDeadlineRule::BusinessDays(n).deadline(&calendar, sent).unwrap(),
            stepped
        );
        // And on dates: a + b business days is a, then b.
        let day = oslo_date(sent);
        let a = n / 2;
        prop_assert_eq!(
            calendar.add_business_days(day, n).unwrap(),
            calendar
                .add_business_days(calendar.add_business_days(day, a).unwrap(), n - a)
                .unwrap()
        );
    }

    #[test]
    fn business_hour_deadlines_hold_exactly_the_hours(
        sent in instants(),
        hours in 0u32..100,
        closed in proptest::collection::vec(0u64..30, 0..4),
    ) {
        let calendar = calendar_near(sent, &closed);
        let due = PrintDeadlineRule::BusinessHours(hours).deadline(&calendar, sent).unwrap();
        let wanted = TimeDelta::hours(i64::from(hours));
        prop_assert!(due >= sent);
        prop_assert_eq!(calendar.business_time_between(sent, due).unwrap(), wanted);
        if hours > 0 {
            // The earliest such instant.
            let just_before = due - TimeDelta::seconds(1);
            prop_assert!(calendar.business_time_between(sent, just_before).unwrap() < wanted);
        }
        // On a business day, or at the midnight that ends one.
        let due_date = oslo_date(due);
        let at_midnight = due.with_timezone(&OSLO).time().num_seconds_from_midnight() == 0;
        prop_assert!(
            calendar.is_business_day(due_date)
                || (at_midnight && calendar.is_business_day(due_date.pred_opt().unwrap()))
        );
    }

    #[test]
    /// Counting `first` hours and then `second` more is counting both at once. (`second` is at
    /// least 1: zero more hours from a midnight that ends a business day would move on to the
    /// next business day's start.)
    fn business_hours_add_up(
        sent in instants(),
        first in 0u32..50,
        second in 1u32..50,
    ) {
        let calendar = BusinessCalendar::norwegian();
        let midway = PrintDeadlineRule::BusinessHours(first).deadline(&calendar, sent).unwrap();
        prop_assert_eq!(
            PrintDeadlineRule::BusinessHours(first + second).deadline(&calendar, sent).unwrap(),
            PrintDeadlineRule::BusinessHours(second).deadline(&calendar, midway).unwrap()
        );
    }
}
