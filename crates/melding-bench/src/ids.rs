//! Synthetic Norwegian identifiers for the bench registry, as strings: those of
//! [`melding_domain::identifiers::synthetic`] (valid control digits, Tenor national ids that
//! can never be a real person's, test-range organisation numbers).

use melding_domain::identifiers::synthetic;

/// The first `n` valid synthetic national ids, in a fixed order (the same every run).
pub fn national_ids(n: usize) -> Vec<String> {
    synthetic::national_ids(n)
        .into_iter()
        .map(|id| id.as_str().to_owned())
        .collect()
}

/// The first `n` valid organisation numbers from 310000000 upwards (the range Brønnøysund uses
/// for test organisations), skipping 991825827, the bench sender.
pub fn org_numbers(n: usize) -> Vec<String> {
    synthetic::org_numbers(n + 1)
        .into_iter()
        .map(|o| o.as_str().to_owned())
        .filter(|o| o != crate::SENDER_ORG)
        .take(n)
        .collect()
}
