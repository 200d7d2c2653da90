use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;

use super::*;
use crate::calendar::oslo_date;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn months(n: u32) -> RetentionPeriod {
    RetentionPeriod::from_months(n).unwrap()
}

/// Asserts each `(published, deletion due)` pair; times carry their Oslo offset.
fn assert_deletions(period: RetentionPeriod, cases: &[(&str, &str)]) {
    for (published, due) in cases {
        assert_eq!(
            period.deletion_due_at(utc(published)),
            Ok(utc(due)),
            "{period}, published {published}"
        );
    }
}

#[test]
fn the_default_is_three_months() {
    assert_eq!(RetentionPeriod::default(), RetentionPeriod::DEFAULT);
    assert_eq!(RetentionPeriod::DEFAULT.months(), 3);
    assert_eq!(RetentionPeriod::DEFAULT.to_string(), "3 months");
    assert_eq!(months(1).to_string(), "1 month");
}

#[test]
fn three_months_after_publication_at_the_same_oslo_time() {
    assert_deletions(
        RetentionPeriod::DEFAULT,
        &[
            ("2026-11-30T10:00:00+01:00", "2027-02-28T10:00:00+01:00"), // clamped
            ("2026-01-15T09:30:00+01:00", "2026-04-15T09:30:00+02:00"), // across spring DST
            ("2026-08-20T14:00:00+02:00", "2026-11-20T14:00:00+01:00"), // across autumn DST
            ("2026-12-31T23:59:59+01:00", "2027-03-31T23:59:59+02:00"),
            ("2027-11-30T08:00:00+01:00", "2028-02-29T08:00:00+01:00"), // leap year
        ],
    );
}

#[test]
fn a_day_the_target_month_lacks_is_clamped_to_its_end() {
    assert_deletions(
        months(1),
        &[
            ("2026-01-31T12:00:00+01:00", "2026-02-28T12:00:00+01:00"),
            ("2028-01-31T12:00:00+01:00", "2028-02-29T12:00:00+01:00"),
            ("2026-01-29T12:00:00+01:00", "2026-02-28T12:00:00+01:00"),
            ("2026-03-31T12:00:00+02:00", "2026-04-30T12:00:00+02:00"),
            ("2026-02-28T12:00:00+01:00", "2026-03-28T12:00:00+01:00"),
        ],
    );
    assert_deletions(
        months(12),
        &[("2028-02-29T12:00:00+01:00", "2029-02-28T12:00:00+01:00")],
    );
}

#[test]
fn months_are_counted_on_the_oslo_calendar_not_in_utc() {
    // 30 January 23:30 UTC is already 31 January in Oslo: one month later is 28 February
    // 00:30 Oslo time, a day earlier than the same arithmetic in UTC would give.
    let published = utc("2026-01-30T23:30:00Z");
    let due = months(1).deletion_due_at(published).unwrap();
    assert_eq!(due, utc("2026-02-28T00:30:00+01:00"));
    assert_eq!(due, utc("2026-02-27T23:30:00Z"));
    // And three calendar months is not 90 days.
    let published = utc("2026-11-30T10:00:00+01:00");
    let due = RetentionPeriod::DEFAULT.deletion_due_at(published).unwrap();
    assert_eq!(due - published, TimeDelta::days(90));
    let published = utc("2026-05-31T10:00:00+02:00");
    let due = RetentionPeriod::DEFAULT.deletion_due_at(published).unwrap();
    assert_eq!(due - published, TimeDelta::days(92));
}

#[test]
fn a_deletion_time_the_dst_change_skips_or_repeats() {
    // 26 March 2028 is the last Sunday of March: 02:30 does not exist, the clocks jump at 03:00.
    assert_deletions(
        RetentionPeriod::DEFAULT,
        &[("2027-12-26T02:30:00+01:00", "2028-03-26T03:00:00+02:00")],
    );
    // 25 October 2026 is the last Sunday of October: 02:30 happens twice, the first counts.
    assert_deletions(
        RetentionPeriod::DEFAULT,
        &[("2026-07-25T02:30:00+02:00", "2026-10-25T02:30:00+02:00")],
    );
}

#[test]
fn zero_months_is_refused() {
    assert_eq!(
        RetentionPeriod::from_months(0),
        Err(RetentionError::ZeroMonths)
    );
    assert_eq!(
        RetentionPeriod::try_from(0),
        Err(RetentionError::ZeroMonths)
    );
    assert_eq!(RetentionPeriod::try_from(6).map(u32::from), Ok(6));
}

#[test]
fn beyond_the_calendar_is_an_error() {
    let late = NaiveDate::MAX.and_hms_opt(0, 0, 0).unwrap().and_utc() - TimeDelta::days(40);
    assert_eq!(
        RetentionPeriod::DEFAULT.deletion_due_at(late),
        Err(RetentionError::OutOfRange)
    );
    assert_eq!(
        months(u32::MAX).deletion_due_at(utc("2026-01-01T00:00:00Z")),
        Err(RetentionError::OutOfRange)
    );
}

#[test]
fn the_period_is_configured_as_a_number_of_months() {
    assert_eq!(serde_json::to_string(&months(6)).unwrap(), "6");
    assert_eq!(
        serde_json::from_str::<RetentionPeriod>("3").unwrap(),
        RetentionPeriod::DEFAULT
    );
    assert!(serde_json::from_str::<RetentionPeriod>("0").is_err());
    assert!(serde_json::from_str::<RetentionPeriod>("-1").is_err());
}

/// Instants from 2000 to 2037, at whole seconds.
fn instants() -> impl Strategy<Value = DateTime<Utc>> {
    let from = utc("2000-01-01T00:00:00Z").timestamp();
    let to = utc("2037-12-31T00:00:00Z").timestamp();
    (from..to).prop_map(|seconds| DateTime::from_timestamp(seconds, 0).unwrap())
}

proptest! {
    #[test]
    fn deletion_comes_between_28_and_31_days_a_month_after_publication(
        published in instants(),
        n in 1u32..=24,
    ) {
        let due = months(n).deletion_due_at(published).unwrap();
        // Calendar months are 28–31 days; a DST change moves the instant by at most an hour.
        let n = i64::from(n);
        prop_assert!(due - published >= TimeDelta::days(28 * n) - TimeDelta::hours(1));
        prop_assert!(due - published <= TimeDelta::days(31 * n) + TimeDelta::hours(1));
    }

    #[test]
    fn a_later_publication_is_never_deleted_on_an_earlier_oslo_date(
        published in instants(),
        later_by in 0i64..(3 * 24 * 3600),
        n in 1u32..=12,
    ) {
        // On the same date, clamping may order times differently (published 30 October 01:37
        // and 31 October 00:00 are both deleted on 30 April, at 01:37 and 00:00), but the
        // dates never go backwards.
        let period = months(n);
        let later = published + TimeDelta::seconds(later_by);
        let first = period.deletion_due_at(published).unwrap();
        let second = period.deletion_due_at(later).unwrap();
        prop_assert!(oslo_date(second) >= oslo_date(first));
    }
}
