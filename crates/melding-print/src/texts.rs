//! The fixed texts of a printed letter in bokmål, nynorsk and English, and the date written out
//! the way Norwegian letters write it ("30. november 2026").

use chrono::{Datelike, NaiveDate};

use crate::letter::Language;
use crate::render::NotPrintableReason;

/// The fixed texts of one language.
pub(crate) struct Texts {
    /// "Dato" in the date block.
    pub date: &'static str,
    /// "Org.nr." in the letter head.
    pub org_number: &'static str,
    /// "Side" in "Side 1 av 2".
    pub page: &'static str,
    /// "av" in "Side 1 av 2".
    pub of: &'static str,
    /// Heading over the printed attachments.
    pub attachments: &'static str,
    /// "side"/"sider" after an attachment's page count.
    pub page_one: &'static str,
    pub page_many: &'static str,
    /// Heading over the attachments that could not be printed.
    pub not_printable: &'static str,
    /// The sentence under that heading.
    pub not_printable_note: &'static str,
    month_names: [&'static str; 12],
    language: Language,
}

const NB_NN_MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];

const BOKMAL: Texts = Texts {
    date: "Dato",
    org_number: "Org.nr.",
    page: "Side",
    of: "av",
    attachments: "Vedlegg",
    page_one: "side",
    page_many: "sider",
    not_printable: "Vedlegg som ikke kan skrives ut",
    not_printable_note: "Disse vedleggene følger ikke med papirbrevet. Du finner dem i den digitale \
                         innboksen din.",
    month_names: NB_NN_MONTHS,
    language: Language::Bokmal,
};

const NYNORSK: Texts = Texts {
    date: "Dato",
    org_number: "Org.nr.",
    page: "Side",
    of: "av",
    attachments: "Vedlegg",
    page_one: "side",
    page_many: "sider",
    not_printable: "Vedlegg som ikkje kan skrivast ut",
    not_printable_note: "Desse vedlegga følgjer ikkje med papirbrevet. Du finn dei i den digitale \
                         innboksen din.",
    month_names: NB_NN_MONTHS,
    language: Language::Nynorsk,
};

const ENGLISH: Texts = Texts {
    date: "Date",
    org_number: "Org. no.",
    page: "Page",
    of: "of",
    attachments: "Attachments",
    page_one: "page",
    page_many: "pages",
    not_printable: "Attachments that cannot be printed",
    not_printable_note: "These attachments are not included in the paper letter. You will find \
                         them in your digital inbox.",
    month_names: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    language: Language::English,
};

impl Texts {
    /// The texts for a language.
    pub(crate) fn of(language: Language) -> &'static Texts {
        match language {
            Language::Bokmal => &BOKMAL,
            Language::Nynorsk => &NYNORSK,
            Language::English => &ENGLISH,
        }
    }

    /// The date written out: `30. november 2026` (nb/nn), `30 November 2026` (en).
    pub(crate) fn long_date(&self, date: NaiveDate) -> String {
        let month = self.month_names[date.month0() as usize];
        match self.language {
            Language::English => format!("{} {month} {}", date.day(), date.year()),
            Language::Bokmal | Language::Nynorsk => {
                format!("{}. {month} {}", date.day(), date.year())
            }
        }
    }

    /// Why an attachment is not in the paper letter, in words for the recipient.
    pub(crate) fn reason(&self, reason: &NotPrintableReason) -> String {
        use Language::{Bokmal, English, Nynorsk};
        match (reason, self.language) {
            (NotPrintableReason::NotPdf { media_type }, English) => {
                format!("not a PDF ({media_type})")
            }
            (NotPrintableReason::NotPdf { media_type }, Bokmal) => {
                format!("ikke PDF ({media_type})")
            }
            (NotPrintableReason::NotPdf { media_type }, Nynorsk) => {
                format!("ikkje PDF ({media_type})")
            }
            (NotPrintableReason::Encrypted, English) => "encrypted or password protected".into(),
            (NotPrintableReason::Encrypted, Bokmal) => "kryptert eller passordbeskyttet".into(),
            (NotPrintableReason::Encrypted, Nynorsk) => "kryptert eller passordverna".into(),
            (NotPrintableReason::Unreadable, English) => "the PDF cannot be read".into(),
            (NotPrintableReason::Unreadable, Bokmal) => "PDF-filen kan ikke leses".into(),
            (NotPrintableReason::Unreadable, Nynorsk) => "PDF-fila kan ikkje lesast".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dates_are_written_the_norwegian_way() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            Texts::of(Language::Bokmal).long_date(date),
            "30. november 2026"
        );
        assert_eq!(
            Texts::of(Language::Nynorsk).long_date(date),
            "30. november 2026"
        );
        assert_eq!(
            Texts::of(Language::English).long_date(date),
            "30 November 2026"
        );
        let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            Texts::of(Language::Bokmal).long_date(first),
            "1. januar 2027"
        );
    }
}
