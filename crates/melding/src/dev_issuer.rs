//! The development token issuer of a data directory: where its key lives, loading it for
//! `serve`, and what `melding token` checks before it mints (a party, known scopes, and a key a
//! server on the same directory trusts). The key and the signing are
//! `melding_http::dev_issuer::DevIssuer`'s; this module is the operator's side of it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use melding_core::scopes;
use melding_domain::{NationalId, OrgNumber, Party, SelfIdentified};
use melding_http::dev_issuer::DevIssuer;

/// The scopes Melding acts on (reference §1.2, and Melding's own `melding:admin`); `melding
/// token` mints no other, so that a typo cannot yield a token every route refuses.
pub const KNOWN_SCOPES: [&str; 4] = [
    scopes::WRITE,
    scopes::SERVICE_OWNER,
    scopes::READ,
    scopes::ADMIN,
];

/// Where the development issuer's key lives: `<data-dir>/keys`.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Loads (creating on first use, mode 0600) the development issuer of a data directory.
///
/// Errors: the key file cannot be read, parsed or written; the message names the data directory.
pub fn open(data_dir: &Path) -> anyhow::Result<DevIssuer> {
    DevIssuer::load_or_create(&keys_dir(data_dir)).with_context(|| {
        format!(
            "loading the development issuer key in {}",
            data_dir.display()
        )
    })
}

/// The party `melding token` mints for: exactly one of `--org` (an organisation number),
/// `--person` (a national identity number) or `--self-identified` (a self-identified user's
/// URN), the first given winning as clap's argument group allows only one.
///
/// Errors: none given, or a value that does not parse; the message names the flag.
pub fn token_party(
    org: Option<&str>,
    person: Option<&str>,
    self_identified: Option<&str>,
) -> anyhow::Result<Party> {
    Ok(match (org, person, self_identified) {
        (Some(org), _, _) => Party::Organization(
            OrgNumber::parse(org).map_err(|e| anyhow::anyhow!("--org {org}: {e}"))?,
        ),
        (None, Some(p), _) => {
            Party::Person(NationalId::parse(p).map_err(|e| anyhow::anyhow!("--person: {e}"))?)
        }
        (None, None, Some(urn)) => Party::SelfIdentified(
            SelfIdentified::from_urn(urn)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--self-identified {urn}: give urn:altinn:person:idporten-email:<e-mail> \
                         or urn:altinn:person:legacy-selfidentified:<user name>"
                    )
                })?
                .map_err(|e| anyhow::anyhow!("--self-identified {urn}: {e}"))?,
        ),
        (None, None, None) => anyhow::bail!("give --org, --person or --self-identified"),
    })
}

/// The `--scope` value with each scope checked against [`KNOWN_SCOPES`], normalised to single
/// spaces.
///
/// Errors: an empty list, or an unknown scope; the message lists the known ones.
pub fn checked_scopes(raw: &str) -> anyhow::Result<String> {
    let given: Vec<&str> = raw.split_whitespace().collect();
    anyhow::ensure!(
        !given.is_empty(),
        "--scope is empty; give one or more of: {}",
        KNOWN_SCOPES.join(", ")
    );
    let unknown: Vec<&str> = given
        .iter()
        .copied()
        .filter(|s| !KNOWN_SCOPES.contains(s))
        .collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "--scope: {} not a scope Melding knows; known scopes: {}",
        unknown
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
            + if unknown.len() == 1 { " is" } else { " are" },
        KNOWN_SCOPES.join(", ")
    );
    Ok(given.join(" "))
}

/// The development issuer `melding token` signs with, and whether it was created just now.
/// Without `init`, a data directory with no key is refused: no server has run there, so a token
/// signed with a new key would be trusted by none (the message says where it looked).
///
/// Errors: no key and no `init`; those of [`open`].
pub fn for_token(data_dir: &Path, init: bool) -> anyhow::Result<(DevIssuer, bool)> {
    let key = DevIssuer::key_file(&keys_dir(data_dir));
    let created = !key.exists();
    if created && !init {
        let shown = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
        anyhow::bail!(
            "no development signing key in {} (looked for {}): no server has run with this data directory. \
             Run the command with the server's --data-dir (or where the server runs), or start `melding serve` there first; \
             to create a key here for a server you will start later, pass --init",
            shown.display(),
            key.display()
        );
    }
    Ok((open(data_dir)?, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_normalised() {
        assert_eq!(
            checked_scopes("  altinn:correspondence.write   altinn:serviceowner ").unwrap(),
            "altinn:correspondence.write altinn:serviceowner"
        );
        let e = checked_scopes("").unwrap_err().to_string();
        assert!(e.starts_with("--scope is empty"), "{e}");
        let e = checked_scopes("altinn:correspondence.read altinn:typo")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"altinn:typo\" is not a scope"), "{e}");
    }

    #[test]
    fn the_party_comes_from_exactly_one_flag() {
        assert!(matches!(
            token_party(Some("991825827"), None, None).unwrap(),
            Party::Organization(_)
        ));
        assert!(matches!(
            token_party(None, Some("08089403198"), None).unwrap(),
            Party::Person(_)
        ));
        let e = token_party(Some("123"), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--org 123"), "{e}");
        assert!(token_party(None, None, None).is_err());
    }

    #[test]
    fn a_token_needs_a_key_a_server_trusts_unless_init() {
        let dir = tempfile::tempdir().unwrap();
        let e = for_token(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("no development signing key"), "{e}");
        assert!(!keys_dir(dir.path()).exists());
        let (first, created) = for_token(dir.path(), true).unwrap();
        assert!(created);
        let (again, created) = for_token(dir.path(), false).unwrap();
        assert!(!created);
        assert_eq!(
            first.trusted_issuer().keys.keys[0].common.key_id,
            again.trusted_issuer().keys.keys[0].common.key_id
        );
    }
}
