//! Logins to the web inbox (issue 17 item 1): a server-side session per login, found by a
//! random token that only the browser holds (the store keeps its SHA-256), ended by logout, by
//! being idle too long, or by growing too old. Times run off the injected clock.

use chrono::{DateTime, Duration, Utc};
use melding_domain::{NationalId, Party, Recipient};
use melding_store::WebSession;

use crate::forward::links::{is_token_shaped, new_token, token_hash};
use crate::{CoreError, Melding, Principal, Rule, scopes};

/// How long inbox sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// A session with no request for this long has ended (default 30 minutes, ID-porten's
    /// idle timeout).
    pub idle: Duration,
    /// A session ends this long after the login, however busy (default 8 hours).
    pub absolute: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(8),
        }
    }
}

/// A person's login as the provider (or the development login) vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The person (the ID token's `pid` claim).
    pub person: NationalId,
    /// The authentication level (`acr`), e.g. `idporten-loa-high`.
    pub acr: String,
    /// The provider's ID token, for ending the session there on logout; `None` for the
    /// development login.
    pub id_token: Option<String>,
}

/// A live inbox session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The person logged in.
    pub person: NationalId,
    /// The login's authentication level (`acr`).
    pub acr: String,
    /// Whom the person reads post for now.
    pub acting_for: Party,
    /// The token every form of this session carries (CSRF), 43 base64url characters.
    pub csrf_token: String,
    /// The provider's ID token, if the login came from one.
    pub id_token: Option<String>,
    /// When the person logged in (UTC).
    pub created: DateTime<Utc>,
    token_hash: String,
}

impl Session {
    /// The login's security level on Altinn's scale of 0–4, from its `acr`: ID-porten's
    /// `idporten-loa-high` (and eIDAS high, and the older `Level4`) is 4, `idporten-loa-substantial`
    /// (eIDAS substantial, `Level3`) is 3, eIDAS low and `Level2` are 2, anything else 0. The
    /// development login (`demo`, only with `serve --demo`) counts as 4, so every demo letter
    /// opens.
    pub fn authentication_level(&self) -> u8 {
        match self.acr.as_str() {
            "idporten-loa-high" | "eidas-loa-high" | "Level4" | "demo" => 4,
            "idporten-loa-substantial" | "eidas-loa-substantial" | "Level3" => 3,
            "eidas-loa-low" | "Level2" => 2,
            _ => 0,
        }
    }

    /// The caller the session's requests act as: the person, with the read scope, exactly as
    /// a person's API token.
    pub fn principal(&self) -> Principal {
        Principal::new(Party::Person(self.person.clone()), [scopes::READ])
    }

    fn from_row(row: WebSession) -> Option<Self> {
        Some(Self {
            person: NationalId::parse(&row.person).ok()?,
            acr: row.acr,
            acting_for: Recipient::from_urn(&row.acting_for).ok()?.party().clone(),
            csrf_token: row.csrf_token,
            id_token: row.id_token,
            created: row.created,
            token_hash: row.token_hash,
        })
    }
}

impl Melding {
    /// The session settings this node runs with.
    pub fn session_settings(&self) -> SessionSettings {
        self.sessions
    }

    /// Starts a session for `login`, acting for the person themself. Returns the session token
    /// (43 base64url characters: the cookie's value, never stored) and the session. Sessions
    /// that have expired are deleted on the way.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn start_session(&self, login: Login) -> Result<(String, Session), CoreError> {
        let now = self.clock.now();
        self.store
            .delete_expired_sessions(now - self.sessions.absolute, now - self.sessions.idle)
            .await?;
        let (token, hash) = new_token();
        let (csrf_token, _) = new_token();
        let row = WebSession {
            token_hash: hash,
            person: login.person.to_string(),
            acr: login.acr,
            acting_for: Party::Person(login.person.clone()).urn(),
            csrf_token,
            id_token: login.id_token,
            created: now,
            last_seen: now,
        };
        self.store.insert_session(&row).await?;
        let session = Session::from_row(row).ok_or_else(|| {
            CoreError::Store(melding_store::StoreError::Corrupt(
                "a new session does not read back".to_owned(),
            ))
        })?;
        Ok((token, session))
    }

    /// The live session `token` names, its idle time restarted; `None` for an unknown,
    /// malformed or expired token (an expired one is deleted).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn resume_session(&self, token: &str) -> Result<Option<Session>, CoreError> {
        if !is_token_shaped(token) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some(row) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if now - row.created >= self.sessions.absolute || now - row.last_seen >= self.sessions.idle
        {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        // Within a minute of the last request the idle clock is not restarted in the store: a
        // page and its assets do not cost a write each.
        if now - row.last_seen >= Duration::minutes(1)
            && !self
                .store
                .touch_session(&hash, now, &row.acting_for)
                .await?
        {
            return Ok(None);
        }
        Ok(Session::from_row(row))
    }

    /// Switches whom the session reads post for.
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) when the person may not read post for `party`;
    /// [`CoreError::Store`].
    pub async fn act_for(&self, session: &Session, party: Party) -> Result<Session, CoreError> {
        if !self.may_act_for(&session.principal(), &party).await? {
            return Err(Rule::NoAccess.into());
        }
        self.store
            .touch_session(&session.token_hash, self.clock.now(), &party.urn())
            .await?;
        Ok(Session {
            acting_for: party,
            ..session.clone()
        })
    }

    /// Ends the session `token` names (logout). Returns it as it was, for ending the login at
    /// the provider too; `None` when there was none.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn end_session(&self, token: &str) -> Result<Option<Session>, CoreError> {
        if !is_token_shaped(token) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row = self.store.session(&hash).await?;
        self.store.delete_session(&hash).await?;
        Ok(row.and_then(Session::from_row))
    }
}

/// A new random secret of 43 base64url characters (32 bytes): for a form's CSRF token before
/// anyone has logged in, and for the login flow's state and nonce.
pub fn new_secret() -> String {
    new_token().0
}
