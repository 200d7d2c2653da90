//! Synthetic Norwegian identifiers for test populations (the benchmarks, `melding simulate`):
//! national ids and organisation numbers whose mod-11 control digits are right, so Melding
//! accepts them, in a fixed order, the same every run. The national ids' month is shifted by 80
//! (Skatteetaten's Tenor test numbers, `delivery-chain.md` §4.2), so none can be a real
//! person's; the organisation numbers start at 310000000, the range Brønnøysund uses for test
//! organisations (§4.4).

use super::{NationalId, OrgNumber};

/// `11 − (Σ dᵢ·wᵢ mod 11)` with 11 → 0; `None` for 10, which no valid number carries.
fn mod11(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

fn to_string(digits: &[u32]) -> String {
    digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect()
}

/// The first `n` valid synthetic national ids (Tenor numbers, month + 80), at most about
/// 2.4 million, in a fixed order.
pub fn national_ids(n: usize) -> Vec<NationalId> {
    const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    for year in 0..100u32 {
        for month in 1..=12u32 {
            for day in 1..=28u32 {
                for individual in 0..1000u32 {
                    let mut d = [0u32; 11];
                    d[0] = day / 10;
                    d[1] = day % 10;
                    let m = month + 80;
                    d[2] = m / 10;
                    d[3] = m % 10;
                    d[4] = year / 10;
                    d[5] = year % 10;
                    d[6] = individual / 100;
                    d[7] = individual / 10 % 10;
                    d[8] = individual % 10;
                    let Some(k1) = mod11(&d[..9], &K1) else {
                        continue;
                    };
                    d[9] = k1;
                    let Some(k2) = mod11(&d[..10], &K2) else {
                        continue;
                    };
                    d[10] = k2;
                    if let Ok(id) = NationalId::parse(&to_string(&d)) {
                        out.push(id);
                    }
                    if out.len() == n {
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// The first `n` valid organisation numbers from 310000000 upwards, in order.
pub fn org_numbers(n: usize) -> Vec<OrgNumber> {
    const W: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let mut out = Vec::with_capacity(n);
    let mut base = 31_000_000u32;
    while out.len() < n && base < 100_000_000 {
        let mut d = [0u32; 9];
        let mut b = base;
        for slot in d[..8].iter_mut().rev() {
            *slot = b % 10;
            b /= 10;
        }
        base += 1;
        let Some(k) = mod11(&d[..8], &W) else {
            continue;
        };
        d[8] = k;
        if let Ok(org) = OrgNumber::parse(&to_string(&d)) {
            out.push(org);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers_pass_the_same_rule() {
        // Ola Nordmann and Brønnøysundregistrene from the README's demo.
        let d: Vec<u32> = "08089403198".bytes().map(|b| u32::from(b - b'0')).collect();
        assert_eq!(mod11(&d[..9], &[3, 7, 6, 1, 8, 9, 4, 5, 2]), Some(d[9]));
        assert_eq!(
            mod11(&d[..10], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]),
            Some(d[10])
        );
        let o: Vec<u32> = "974760673".bytes().map(|b| u32::from(b - b'0')).collect();
        assert_eq!(mod11(&o[..8], &[3, 2, 7, 6, 5, 4, 3, 2]), Some(o[8]));
    }

    #[test]
    fn generates_distinct_valid_ids() {
        let ids = national_ids(2000);
        let mut sorted: Vec<String> = ids.iter().map(|i| i.as_str().to_owned()).collect();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 2000);
        let orgs = org_numbers(500);
        assert_eq!(orgs.len(), 500);
        assert!(orgs[0].as_str().starts_with("31"));
    }
}
