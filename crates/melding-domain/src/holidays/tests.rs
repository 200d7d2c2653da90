use chrono::{Datelike, NaiveDate, Weekday};

use super::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Easter and the movable holidays 2024–2035: the rows 2024–2030 are delivery-chain reference
/// §5.2's table, 2031–2035 were computed with python-dateutil's `easter` (an independent
/// implementation). Columns: Easter Sunday, Skjærtorsdag, Langfredag, 2. påskedag,
/// Kristi himmelfart, 1. pinsedag, 2. pinsedag.
const MOVABLE: [(i32, [&str; 7]); 12] = [
    (
        2024,
        [
            "2024-03-31",
            "2024-03-28",
            "2024-03-29",
            "2024-04-01",
            "2024-05-09",
            "2024-05-19",
            "2024-05-20",
        ],
    ),
    (
        2025,
        [
            "2025-04-20",
            "2025-04-17",
            "2025-04-18",
            "2025-04-21",
            "2025-05-29",
            "2025-06-08",
            "2025-06-09",
        ],
    ),
    (
        2026,
        [
            "2026-04-05",
            "2026-04-02",
            "2026-04-03",
            "2026-04-06",
            "2026-05-14",
            "2026-05-24",
            "2026-05-25",
        ],
    ),
    (
        2027,
        [
            "2027-03-28",
            "2027-03-25",
            "2027-03-26",
            "2027-03-29",
            "2027-05-06",
            "2027-05-16",
            "2027-05-17",
        ],
    ),
    (
        2028,
        [
            "2028-04-16",
            "2028-04-13",
            "2028-04-14",
            "2028-04-17",
            "2028-05-25",
            "2028-06-04",
            "2028-06-05",
        ],
    ),
    (
        2029,
        [
            "2029-04-01",
            "2029-03-29",
            "2029-03-30",
            "2029-04-02",
            "2029-05-10",
            "2029-05-20",
            "2029-05-21",
        ],
    ),
    (
        2030,
        [
            "2030-04-21",
            "2030-04-18",
            "2030-04-19",
            "2030-04-22",
            "2030-05-30",
            "2030-06-09",
            "2030-06-10",
        ],
    ),
    (
        2031,
        [
            "2031-04-13",
            "2031-04-10",
            "2031-04-11",
            "2031-04-14",
            "2031-05-22",
            "2031-06-01",
            "2031-06-02",
        ],
    ),
    (
        2032,
        [
            "2032-03-28",
            "2032-03-25",
            "2032-03-26",
            "2032-03-29",
            "2032-05-06",
            "2032-05-16",
            "2032-05-17",
        ],
    ),
    (
        2033,
        [
            "2033-04-17",
            "2033-04-14",
            "2033-04-15",
            "2033-04-18",
            "2033-05-26",
            "2033-06-05",
            "2033-06-06",
        ],
    ),
    (
        2034,
        [
            "2034-04-09",
            "2034-04-06",
            "2034-04-07",
            "2034-04-10",
            "2034-05-18",
            "2034-05-28",
            "2034-05-29",
        ],
    ),
    (
        2035,
        [
            "2035-03-25",
            "2035-03-22",
            "2035-03-23",
            "2035-03-26",
            "2035-05-03",
            "2035-05-13",
            "2035-05-14",
        ],
    ),
];

#[test]
fn easter_sunday_matches_the_reference_table_2024_to_2035() {
    for (year, [easter, ..]) in MOVABLE {
        assert_eq!(easter_sunday(year), Some(date(easter)), "{year}");
    }
    // The three dates dependencies-and-limits §3 names for the table test.
    assert_eq!(easter_sunday(2025), Some(date("2025-04-20")));
    assert_eq!(easter_sunday(2026), Some(date("2026-04-05")));
    assert_eq!(easter_sunday(2027), Some(date("2027-03-28")));
}

#[test]
fn easter_sunday_at_the_edges_of_its_range() {
    // Earliest and latest possible Easter Sundays, and the Gregorian reform's first years.
    assert_eq!(easter_sunday(1818), Some(date("1818-03-22")));
    assert_eq!(easter_sunday(2285), Some(date("2285-03-22")));
    assert_eq!(easter_sunday(1943), Some(date("1943-04-25")));
    assert_eq!(easter_sunday(2038), Some(date("2038-04-25")));
    assert_eq!(easter_sunday(1583), Some(date("1583-04-10")));
    assert_eq!(easter_sunday(2000), Some(date("2000-04-23")));
    assert_eq!(easter_sunday(i32::MAX), None);
}

#[test]
fn easter_is_always_a_sunday_between_22_march_and_25_april() {
    for year in 1583..=4099 {
        let easter = easter_sunday(year).unwrap();
        assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
        assert!(
            easter >= NaiveDate::from_ymd_opt(year, 3, 22).unwrap(),
            "{year}"
        );
        assert!(
            easter <= NaiveDate::from_ymd_opt(year, 4, 25).unwrap(),
            "{year}"
        );
    }
}

#[test]
fn every_holiday_of_2024_to_2035_falls_on_the_table_date() {
    for (
        year,
        [
            easter,
            maundy,
            good_friday,
            easter_monday,
            ascension,
            whit_sunday,
            whit_monday,
        ],
    ) in MOVABLE
    {
        let expected = [
            (PublicHoliday::NewYearsDay, format!("{year}-01-01")),
            (PublicHoliday::MaundyThursday, maundy.to_string()),
            (PublicHoliday::GoodFriday, good_friday.to_string()),
            (PublicHoliday::EasterSunday, easter.to_string()),
            (PublicHoliday::EasterMonday, easter_monday.to_string()),
            (PublicHoliday::LabourDay, format!("{year}-05-01")),
            (PublicHoliday::ConstitutionDay, format!("{year}-05-17")),
            (PublicHoliday::AscensionDay, ascension.to_string()),
            (PublicHoliday::WhitSunday, whit_sunday.to_string()),
            (PublicHoliday::WhitMonday, whit_monday.to_string()),
            (PublicHoliday::ChristmasDay, format!("{year}-12-25")),
            (PublicHoliday::BoxingDay, format!("{year}-12-26")),
        ];
        for (holiday, on) in expected {
            assert_eq!(holiday.date(year), Some(date(&on)), "{holiday} {year}");
            assert!(is_public_holiday(date(&on)), "{holiday} {year}");
            assert!(
                PublicHoliday::on(date(&on)).contains(&holiday),
                "{holiday} {year}"
            );
        }
        let set = public_holidays(year);
        assert!(set.iter().all(|d| d.year() == year));
        assert_eq!(
            set.iter().filter(|d| is_public_holiday(**d)).count(),
            set.len()
        );
    }
}

#[test]
fn the_set_has_twelve_dates_except_in_coincidence_years() {
    for (year, _) in MOVABLE {
        let expected = if year == 2027 || year == 2032 { 11 } else { 12 };
        assert_eq!(public_holidays(year).len(), expected, "{year}");
    }
    // Reference §5.2: the coincidences 2000–2060, and no others.
    let coincidences: Vec<i32> = (2000..=2060)
        .filter(|&year| public_holidays(year).len() < 12)
        .collect();
    assert_eq!(coincidences, [2007, 2008, 2012, 2027, 2032, 2043, 2054]);
}

#[test]
fn coincidence_years_name_both_holidays_on_the_shared_date() {
    use PublicHoliday::*;
    let cases = [
        ("2007-05-17", [ConstitutionDay, AscensionDay]),
        ("2008-05-01", [LabourDay, AscensionDay]),
        ("2012-05-17", [ConstitutionDay, AscensionDay]),
        ("2027-05-17", [ConstitutionDay, WhitMonday]),
        ("2032-05-17", [ConstitutionDay, WhitMonday]),
        ("2043-05-17", [ConstitutionDay, WhitSunday]),
        ("2054-05-17", [ConstitutionDay, WhitSunday]),
    ];
    for (on, holidays) in cases {
        assert_eq!(PublicHoliday::on(date(on)), holidays, "{on}");
    }
}

#[test]
fn christmas_eve_new_years_eve_easter_eve_and_palm_sunday_are_not_holidays() {
    for on in [
        "2025-12-24", // julaften, a Wednesday: a working day by law
        "2025-12-31", // nyttårsaften
        "2026-12-24",
        "2025-04-19", // påskeaften
        "2025-04-13", // palmesøndag
        "2027-05-18", // the day after a coincidence
    ] {
        assert!(PublicHoliday::on(date(on)).is_empty(), "{on}");
        assert!(!is_public_holiday(date(on)), "{on}");
    }
}

#[test]
fn holidays_have_their_norwegian_names() {
    let names: Vec<String> = PublicHoliday::ALL.iter().map(|h| h.to_string()).collect();
    assert_eq!(
        names,
        [
            "1. nyttårsdag",
            "Skjærtorsdag",
            "Langfredag",
            "1. påskedag",
            "2. påskedag",
            "Offentlig høytidsdag",
            "Grunnlovsdag",
            "Kristi himmelfartsdag",
            "1. pinsedag",
            "2. pinsedag",
            "1. juledag",
            "2. juledag",
        ]
    );
}

#[test]
fn easter_sunday_and_whit_sunday_are_always_sundays() {
    for year in 1900..=2200 {
        for holiday in [PublicHoliday::EasterSunday, PublicHoliday::WhitSunday] {
            assert_eq!(holiday.date(year).unwrap().weekday(), Weekday::Sun);
        }
        assert_eq!(
            PublicHoliday::MaundyThursday.date(year).unwrap().weekday(),
            Weekday::Thu
        );
        assert_eq!(
            PublicHoliday::AscensionDay.date(year).unwrap().weekday(),
            Weekday::Thu
        );
        assert_eq!(
            PublicHoliday::WhitMonday.date(year).unwrap().weekday(),
            Weekday::Mon
        );
    }
}

#[test]
fn the_quick_holiday_check_agrees_with_the_list_1900_to_2200() {
    let first = date("1900-01-01");
    let last = date("2200-12-31");
    for day in first.iter_days().take_while(|d| *d <= last) {
        assert_eq!(
            is_public_holiday(day),
            !PublicHoliday::on(day).is_empty(),
            "{day}"
        );
    }
}
