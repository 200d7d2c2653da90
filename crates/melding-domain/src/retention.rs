//! How long a letter's content is kept: the retention period and the instant its content and
//! attachments become due for deletion (DESIGN "What happens to a letter", step 7).
//!
//! The sources promise three months: SvarUt keeps documents in its shipment archive for three
//! months (delivery-chain reference §3.1, §9 rule 32); "Brevet vil være tilgjengelig … i 3
//! måneder etter at varsel er mottatt. Etter 3 måneder slettes brevet." (seed 003, Ås kommune);
//! "Brevet blir slettet etter 3 måneder" (seed 004, Larvik); "Ønsker du å ta vare på brevet mer
//! enn 3 måneder må det lagres lokalt" (seed 001, Tønsberg).
//!
//! The period counts from **publication**, the instant the letter became visible to its
//! recipient. Melding sends the notice at publication (reference §8: "Main notice is sent at
//! publish time"), so this is also the instant of seed 003's "etter at varsel er mottatt", and
//! it is an instant every published letter has, notified or not. Months are calendar months on
//! the Oslo wall clock (reference §9 rule 47), clamped to the month's end.

use std::fmt;
use std::num::NonZeroU32;

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{OSLO, oslo_to_utc};

/// Why a retention period was refused or its deletion instant could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    /// A period of zero months would delete a letter the moment it is published.
    #[error("a retention period must be at least one month")]
    ZeroMonths,
    /// The deletion instant lies beyond the dates chrono represents.
    #[error("the deletion date is outside the range the calendar can represent")]
    OutOfRange,
}

/// How many calendar months a published letter's content and attachments are kept: 3 by
/// default, configurable per resource. At least one month. Serialized as the number of months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct RetentionPeriod {
    months: NonZeroU32,
}

impl RetentionPeriod {
    /// Three months, the promise of seeds 001, 003 and 004 and of SvarUt's archive (reference
    /// §3.1, §9 rule 32).
    pub const DEFAULT: RetentionPeriod = RetentionPeriod {
        months: NonZeroU32::new(3).unwrap(),
    };

    /// A retention period of `months` calendar months.
    ///
    /// Errors: [`RetentionError::ZeroMonths`] for 0.
    pub fn from_months(months: u32) -> Result<Self, RetentionError> {
        NonZeroU32::new(months)
            .map(|months| RetentionPeriod { months })
            .ok_or(RetentionError::ZeroMonths)
    }

    /// The period in calendar months (≥ 1).
    pub fn months(&self) -> u32 {
        self.months.get()
    }

    /// The instant (UTC) at which the content of a letter published at `published_at` (UTC)
    /// becomes due for deletion: the same Oslo wall-clock time `months` calendar months later.
    /// A day the target month lacks is clamped to its last day (published 31 January, one month
    /// → 28 or 29 February; 30 November, three months → end of February). A wall-clock time that
    /// does not exist or exists twice on the target date resolves as [`oslo_to_utc`] says.
    ///
    /// Errors: [`RetentionError::OutOfRange`] beyond the dates chrono represents.
    pub fn deletion_due_at(
        &self,
        published_at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, RetentionError> {
        let local = published_at.with_timezone(&OSLO).naive_local();
        // chrono's month arithmetic clamps to the last day of a shorter month.
        let target = local
            .checked_add_months(Months::new(self.months.get()))
            .ok_or(RetentionError::OutOfRange)?;
        oslo_to_utc(target).map_err(|_| RetentionError::OutOfRange)
    }
}

impl Default for RetentionPeriod {
    fn default() -> Self {
        RetentionPeriod::DEFAULT
    }
}

impl TryFrom<u32> for RetentionPeriod {
    type Error = RetentionError;

    fn try_from(months: u32) -> Result<Self, Self::Error> {
        RetentionPeriod::from_months(months)
    }
}

impl From<RetentionPeriod> for u32 {
    fn from(period: RetentionPeriod) -> u32 {
        period.months()
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.months() {
            1 => f.write_str("1 month"),
            months => write!(f, "{months} months"),
        }
    }
}

#[cfg(test)]
mod tests;
