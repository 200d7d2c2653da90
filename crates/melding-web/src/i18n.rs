//! The inbox's three languages (issue 17 item 6): Norwegian bokmål, nynorsk and English. The
//! language comes from the `lang` cookie the language switch sets, else from the browser's
//! `Accept-Language`, else bokmål.
//!
//! The texts are a fixed table per language, checked by the compiler: every language has every
//! text. A message-catalogue crate (fluent) would add runtime lookups and files for about sixty
//! fixed strings without plural rules to speak of; if the texts come to need plurals or outside
//! translators, move them to fluent.

use chrono::{DateTime, Utc};
use melding_domain::calendar::OSLO;

/// A language of the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Norwegian bokmål (`nb`), the default.
    Nb,
    /// Norwegian nynorsk (`nn`).
    Nn,
    /// English (`en`).
    En,
}

impl Lang {
    /// Every language, in the order the switch shows them.
    pub const ALL: [Lang; 3] = [Lang::Nb, Lang::Nn, Lang::En];

    /// The language of a code: `nb`, `no` (bokmål), `nn` or `en`, with any region (`en-GB`);
    /// `None` for others.
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "nb" | "no" => Some(Lang::Nb),
            "nn" => Some(Lang::Nn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header that the inbox speaks, by the
    /// header's quality values (RFC 9110 §12.5.4); `None` when it names none of them.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::from_code) else {
                continue;
            };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            // Higher quality first; among equals, the one named first.
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, lang));
            }
        }
        best.map(|(_, _, l)| l)
    }

    /// The language's code, for `<html lang>` and the switch: `nb`, `nn` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::Nn => "nn",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Nb => "Bokmål",
            Lang::Nn => "Nynorsk",
            Lang::En => "English",
        }
    }

    /// The texts of the language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Nb => &NB,
            Lang::Nn => &NN,
            Lang::En => &EN,
        }
    }

    /// `at` on the Oslo wall clock, as the language writes a date and time: "1. desember 2026
    /// kl. 09:05" (nb, nn) or "1 December 2026, 09:05" (en).
    pub fn date_time(self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&OSLO);
        let month = self.texts().months[chrono::Datelike::month0(&local) as usize];
        let (d, y) = (
            chrono::Datelike::day(&local),
            chrono::Datelike::year(&local),
        );
        let hm = local.format("%H:%M");
        match self {
            Lang::Nb | Lang::Nn => format!("{d}. {month} {y} kl. {hm}"),
            Lang::En => format!("{d} {month} {y}, {hm}"),
        }
    }

    /// `at`'s date on the Oslo wall clock: "1. desember 2026" (nb, nn) or "1 December 2026"
    /// (en).
    pub fn date(self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&OSLO);
        let month = self.texts().months[chrono::Datelike::month0(&local) as usize];
        let (d, y) = (
            chrono::Datelike::day(&local),
            chrono::Datelike::year(&local),
        );
        match self {
            Lang::Nb | Lang::Nn => format!("{d}. {month} {y}"),
            Lang::En => format!("{d} {month} {y}"),
        }
    }
}

/// Every text of the inbox's pages in one language.
#[derive(Debug)]
pub struct Texts {
    /// The service's name, in every page title.
    pub service: &'static str,
    pub skip_to_content: &'static str,
    pub language: &'static str,
    pub months: [&'static str; 12],
    // Login.
    pub log_in: &'static str,
    pub log_in_lead: &'static str,
    pub log_in_with_provider: &'static str,
    pub demo_login: &'static str,
    pub demo_login_lead: &'static str,
    pub national_id: &'static str,
    pub national_id_hint: &'static str,
    pub log_out: &'static str,
    pub unknown_person: &'static str,
    // Act for.
    pub acting_for: &'static str,
    pub switch_party: &'static str,
    pub choose_party: &'static str,
    pub choose_party_lead: &'static str,
    pub yourself: &'static str,
    pub org_number: &'static str,
    // The inbox.
    pub inbox: &'static str,
    pub archive: &'static str,
    pub filters: &'static str,
    pub search_label: &'static str,
    pub only_unread: &'static str,
    pub sender: &'static str,
    pub all_senders: &'static str,
    pub apply: &'static str,
    pub no_letters: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub unread: &'static str,
    pub confidential: &'static str,
    pub received: &'static str,
    pub due: &'static str,
    pub deleted_on: &'static str,
    pub letters_list: &'static str,
    // A letter.
    pub back_to_inbox: &'static str,
    pub from: &'static str,
    pub attachments: &'static str,
    pub download_all: &'static str,
    pub confirm: &'static str,
    pub confirm_lead: &'static str,
    pub confirmed: &'static str,
    pub archive_letter: &'static str,
    pub archived: &'static str,
    pub delete_letter: &'static str,
    pub delete_lead: &'static str,
    pub replies: &'static str,
    pub actions: &'static str,
    // Errors.
    pub error: &'static str,
    pub not_found: &'static str,
    pub no_access: &'static str,
    pub expired_form: &'static str,
    pub not_allowed: &'static str,
    pub unavailable: &'static str,
    pub login_failed: &'static str,
    pub level_too_low: &'static str,
    // Who has access (an organisation's DAGL or LEDE).
    pub access: &'static str,
    pub access_lead: &'static str,
    pub registered_roles: &'static str,
    pub registered_lead: &'static str,
    pub delegated_rights: &'static str,
    pub no_delegations: &'static str,
    pub person: &'static str,
    pub right: &'static str,
    pub grant_access: &'static str,
    pub grant: &'static str,
    pub revoke: &'static str,
    pub right_ordinary_post: &'static str,
    pub right_municipal: &'static str,
    pub right_confidential: &'static str,
    pub granted: &'static str,
    pub revoked: &'static str,
    pub unchanged: &'static str,
    // Contact details (issue 17 item 5).
    pub contact_details: &'static str,
    pub contacts_lead_person: &'static str,
    pub krr_none: &'static str,
    pub email: &'static str,
    pub mobile: &'static str,
    pub own_contact: &'static str,
    pub own_contact_lead: &'static str,
    pub save: &'static str,
    pub remove_own: &'static str,
    pub notification_addresses: &'static str,
    pub notification_addresses_lead: &'static str,
    pub emails: &'static str,
    pub mobiles: &'static str,
    pub one_per_line: &'static str,
    pub other_contacts: &'static str,
    pub other_contacts_lead: &'static str,
    pub no_contacts: &'static str,
    pub applies_to: &'static str,
    pub all_services: &'static str,
    pub registered_by_organisation: &'static str,
    pub add_contact: &'static str,
    pub remove: &'static str,
    pub contacts_saved: &'static str,
    pub contacts_unchanged: &'static str,
    pub contacts_full: &'static str,
    pub invalid_email: &'static str,
    pub invalid_mobile: &'static str,
    pub contact_needs_one: &'static str,
    pub contacts_count: &'static str,
    pub delete_confirm: &'static str,
}

static NB: Texts = Texts {
    service: "Min meldingsboks",
    skip_to_content: "Hopp til hovedinnhold",
    language: "Språk",
    months: [
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
    ],
    log_in: "Logg inn",
    log_in_lead: "Logg inn for å lese posten din og posten til virksomheter du representerer.",
    log_in_with_provider: "Logg inn med ID-porten",
    demo_login: "Demo-innlogging",
    demo_login_lead: "Bare for utvikling: logg inn som en person i registeret uten ID-porten.",
    national_id: "Fødselsnummer",
    national_id_hint: "11 siffer",
    log_out: "Logg ut",
    unknown_person: "Fant ingen person med dette fødselsnummeret i registeret.",
    acting_for: "Du representerer",
    switch_party: "Bytt aktør",
    choose_party: "Hvem vil du representere?",
    choose_party_lead: "Du kan lese din egen post og posten til virksomhetene du har rettigheter for.",
    yourself: "Deg selv",
    org_number: "Org.nr.",
    inbox: "Innboks",
    archive: "Arkiv",
    filters: "Filtrer meldinger",
    search_label: "Søk i tittel og sammendrag",
    only_unread: "Bare uleste",
    sender: "Avsender",
    all_senders: "Alle avsendere",
    apply: "Bruk filter",
    no_letters: "Ingen meldinger her.",
    next_page: "Eldre meldinger",
    first_page: "Nyeste meldinger",
    unread: "Ulest",
    confidential: "Taushetsbelagt",
    received: "Mottatt",
    due: "Frist",
    deleted_on: "Slettes",
    letters_list: "Meldinger",
    back_to_inbox: "Tilbake til innboksen",
    from: "Fra",
    attachments: "Vedlegg",
    download_all: "Last ned alle vedlegg (zip)",
    confirm: "Bekreft mottak",
    confirm_lead: "Avsenderen ber deg bekrefte at du har mottatt meldingen.",
    confirmed: "Du har bekreftet mottak.",
    archive_letter: "Flytt til arkiv",
    archived: "Meldingen er arkivert.",
    delete_letter: "Slett meldingen",
    delete_lead: "Meldingen slettes for godt. Avsenderen ser at du har slettet den.",
    replies: "Svar til avsender",
    actions: "Handlinger",
    error: "Noe gikk galt",
    not_found: "Vi fant ikke denne siden eller meldingen.",
    no_access: "Du har ikke tilgang til dette.",
    expired_form: "Skjemaet er utløpt. Gå tilbake, last siden på nytt og prøv igjen.",
    not_allowed: "Dette kan ikke gjøres med meldingen nå.",
    unavailable: "Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.",
    login_failed: "Innloggingen mislyktes. Prøv å logge inn på nytt.",
    level_too_low: "Denne meldingen krever innlogging på et høyere sikkerhetsnivå. Logg ut og logg inn igjen med et høyere nivå.",
    access: "Tilganger",
    access_lead: "Hvem som kan lese posten til virksomheten.",
    registered_roles: "Roller i Enhetsregisteret",
    registered_lead: "Disse rollene gir tilgang til ordinær post. De endres i Enhetsregisteret.",
    delegated_rights: "Delegerte tilganger",
    no_delegations: "Ingen har fått tilgang ved delegering.",
    person: "Person",
    right: "Tilgang",
    grant_access: "Gi tilgang",
    grant: "Gi tilgang",
    revoke: "Fjern",
    right_ordinary_post: "Ordinær post til virksomheten",
    right_municipal: "Kommunale tjenester",
    right_confidential: "Post med taushetsbelagt innhold",
    granted: "Tilgangen er gitt.",
    revoked: "Tilgangen er fjernet.",
    unchanged: "Ingen endring: personen hadde allerede denne tilgangen, eller hadde den ikke.",
    contact_details: "Kontaktinformasjon",
    contacts_lead_person: "Varsler om ny post til deg sendes til kontaktinformasjonen din i Kontakt- og reservasjonsregisteret (KRR). Du endrer den der.",
    krr_none: "Du har ingen kontaktinformasjon i KRR.",
    email: "E-postadresse",
    mobile: "Mobilnummer",
    own_contact: "Din kontaktinformasjon for virksomheten",
    own_contact_lead: "Du får varsel her når virksomheten får post som du kan lese. La begge feltene stå tomme for å slutte å få varsler.",
    save: "Lagre",
    remove_own: "Fjern min kontaktinformasjon",
    notification_addresses: "Varslingsadresser for virksomheten",
    notification_addresses_lead: "Varsler om ny post til virksomheten sendes til disse adressene.",
    emails: "E-postadresser",
    mobiles: "Mobilnumre",
    one_per_line: "Én per linje.",
    other_contacts: "Øvrig kontaktinformasjon",
    other_contacts_lead: "Disse kontaktene får også varsel. Fjern kontakter som ikke lenger skal ha varsel, for eksempel tidligere ansatte.",
    no_contacts: "Ingen kontakter er registrert.",
    applies_to: "Gjelder",
    all_services: "Alle tjenester",
    registered_by_organisation: "Virksomheten",
    add_contact: "Legg til kontakt",
    remove: "Fjern",
    contacts_saved: "Kontaktinformasjonen er lagret.",
    contacts_unchanged: "Ingen endring.",
    contacts_full: "Ikke lagret: det kan være høyst 20 kontakter, og høyst 20 adresser av hvert slag.",
    invalid_email: "Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no.",
    invalid_mobile: "Skriv et gyldig mobilnummer, for eksempel 912 34 567 eller +46 70 123 45 67.",
    contact_needs_one: "Skriv en e-postadresse, et mobilnummer eller begge.",
    contacts_count: "av 20 kontakter er registrert.",
    delete_confirm: "Vil du slette meldingen? Du kan ikke angre.",
};

static NN: Texts = Texts {
    service: "Meldingsboksen min",
    skip_to_content: "Hopp til hovudinnhaldet",
    language: "Språk",
    months: [
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
    ],
    log_in: "Logg inn",
    log_in_lead: "Logg inn for å lese posten din og posten til verksemder du representerer.",
    log_in_with_provider: "Logg inn med ID-porten",
    demo_login: "Demo-innlogging",
    demo_login_lead: "Berre for utvikling: logg inn som ein person i registeret utan ID-porten.",
    national_id: "Fødselsnummer",
    national_id_hint: "11 siffer",
    log_out: "Logg ut",
    unknown_person: "Fann ingen person med dette fødselsnummeret i registeret.",
    acting_for: "Du representerer",
    switch_party: "Byt aktør",
    choose_party: "Kven vil du representere?",
    choose_party_lead: "Du kan lese din eigen post og posten til verksemdene du har rettar for.",
    yourself: "Deg sjølv",
    org_number: "Org.nr.",
    inbox: "Innboks",
    archive: "Arkiv",
    filters: "Filtrer meldingar",
    search_label: "Søk i tittel og samandrag",
    only_unread: "Berre ulesne",
    sender: "Avsendar",
    all_senders: "Alle avsendarar",
    apply: "Bruk filter",
    no_letters: "Ingen meldingar her.",
    next_page: "Eldre meldingar",
    first_page: "Nyaste meldingar",
    unread: "Ulesen",
    confidential: "Teiepliktig",
    received: "Motteken",
    due: "Frist",
    deleted_on: "Blir sletta",
    letters_list: "Meldingar",
    back_to_inbox: "Tilbake til innboksen",
    from: "Frå",
    attachments: "Vedlegg",
    download_all: "Last ned alle vedlegga (zip)",
    confirm: "Stadfest mottak",
    confirm_lead: "Avsendaren ber deg stadfeste at du har fått meldinga.",
    confirmed: "Du har stadfest mottak.",
    archive_letter: "Flytt til arkiv",
    archived: "Meldinga er arkivert.",
    delete_letter: "Slett meldinga",
    delete_lead: "Meldinga blir sletta for godt. Avsendaren ser at du har sletta henne.",
    replies: "Svar til avsendaren",
    actions: "Handlingar",
    error: "Noko gjekk gale",
    not_found: "Vi fann ikkje denne sida eller meldinga.",
    no_access: "Du har ikkje tilgang til dette.",
    expired_form: "Skjemaet er gått ut. Gå tilbake, last sida på nytt og prøv igjen.",
    not_allowed: "Dette kan ikkje gjerast med meldinga no.",
    unavailable: "Tenesta er mellombels utilgjengeleg. Prøv igjen om litt.",
    login_failed: "Innlogginga mislukkast. Prøv å logge inn på nytt.",
    level_too_low: "Denne meldinga krev innlogging på eit høgare tryggleiksnivå. Logg ut og logg inn igjen med eit høgare nivå.",
    access: "Tilgangar",
    access_lead: "Kven som kan lese posten til verksemda.",
    registered_roles: "Roller i Einingsregisteret",
    registered_lead: "Desse rollene gir tilgang til ordinær post. Dei blir endra i Einingsregisteret.",
    delegated_rights: "Delegerte tilgangar",
    no_delegations: "Ingen har fått tilgang ved delegering.",
    person: "Person",
    right: "Tilgang",
    grant_access: "Gi tilgang",
    grant: "Gi tilgang",
    revoke: "Fjern",
    right_ordinary_post: "Ordinær post til verksemda",
    right_municipal: "Kommunale tenester",
    right_confidential: "Post med teiepliktig innhald",
    granted: "Tilgangen er gitt.",
    revoked: "Tilgangen er fjerna.",
    unchanged: "Inga endring: personen hadde alt denne tilgangen, eller hadde han ikkje.",
    contact_details: "Kontaktinformasjon",
    contacts_lead_person: "Varsel om ny post til deg blir sende til kontaktinformasjonen din i Kontakt- og reservasjonsregisteret (KRR). Du endrar henne der.",
    krr_none: "Du har ingen kontaktinformasjon i KRR.",
    email: "E-postadresse",
    mobile: "Mobilnummer",
    own_contact: "Kontaktinformasjonen din for verksemda",
    own_contact_lead: "Du får varsel her når verksemda får post som du kan lese. La begge felta stå tomme for å slutte å få varsel.",
    save: "Lagre",
    remove_own: "Fjern kontaktinformasjonen min",
    notification_addresses: "Varslingsadresser for verksemda",
    notification_addresses_lead: "Varsel om ny post til verksemda blir sende til desse adressene.",
    emails: "E-postadresser",
    mobiles: "Mobilnummer",
    one_per_line: "Éin per linje.",
    other_contacts: "Anna kontaktinformasjon",
    other_contacts_lead: "Desse kontaktane får òg varsel. Fjern kontaktar som ikkje lenger skal ha varsel, til dømes tidlegare tilsette.",
    no_contacts: "Ingen kontaktar er registrerte.",
    applies_to: "Gjeld",
    all_services: "Alle tenester",
    registered_by_organisation: "Verksemda",
    add_contact: "Legg til kontakt",
    remove: "Fjern",
    contacts_saved: "Kontaktinformasjonen er lagra.",
    contacts_unchanged: "Inga endring.",
    contacts_full: "Ikkje lagra: det kan vere høgst 20 kontaktar, og høgst 20 adresser av kvart slag.",
    invalid_email: "Skriv ei gyldig e-postadresse, til dømes namn@døme.no.",
    invalid_mobile: "Skriv eit gyldig mobilnummer, til dømes 912 34 567 eller +46 70 123 45 67.",
    contact_needs_one: "Skriv ei e-postadresse, eit mobilnummer eller begge.",
    contacts_count: "av 20 kontaktar er registrerte.",
    delete_confirm: "Vil du slette meldinga? Du kan ikkje angre.",
};

static EN: Texts = Texts {
    service: "My inbox",
    skip_to_content: "Skip to main content",
    language: "Language",
    months: [
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
    log_in: "Log in",
    log_in_lead: "Log in to read your post and the post of the organisations you act for.",
    log_in_with_provider: "Log in with ID-porten",
    demo_login: "Demo login",
    demo_login_lead: "For development only: log in as a person in the registry without ID-porten.",
    national_id: "National identity number",
    national_id_hint: "11 digits",
    log_out: "Log out",
    unknown_person: "No person with this national identity number is in the registry.",
    acting_for: "Acting for",
    switch_party: "Switch party",
    choose_party: "Whom do you want to act for?",
    choose_party_lead: "You can read your own post and the post of the organisations you hold rights for.",
    yourself: "Yourself",
    org_number: "Org. no.",
    inbox: "Inbox",
    archive: "Archive",
    filters: "Filter letters",
    search_label: "Search titles and summaries",
    only_unread: "Unread only",
    sender: "Sender",
    all_senders: "All senders",
    apply: "Apply filters",
    no_letters: "No letters here.",
    next_page: "Older letters",
    first_page: "Newest letters",
    unread: "Unread",
    confidential: "Confidential",
    received: "Received",
    due: "Due",
    deleted_on: "Deleted on",
    letters_list: "Letters",
    back_to_inbox: "Back to the inbox",
    from: "From",
    attachments: "Attachments",
    download_all: "Download all attachments (zip)",
    confirm: "Confirm receipt",
    confirm_lead: "The sender asks you to confirm that you have received this letter.",
    confirmed: "You have confirmed receipt.",
    archive_letter: "Move to archive",
    archived: "This letter is archived.",
    delete_letter: "Delete the letter",
    delete_lead: "The letter is deleted for good. The sender can see that you deleted it.",
    replies: "Reply to the sender",
    actions: "Actions",
    error: "Something went wrong",
    not_found: "We could not find this page or letter.",
    no_access: "You do not have access to this.",
    expired_form: "The form has expired. Go back, reload the page and try again.",
    not_allowed: "This cannot be done with the letter now.",
    unavailable: "The service is unavailable for a moment. Please try again shortly.",
    login_failed: "The login failed. Please log in again.",
    level_too_low: "This letter needs a login at a higher security level. Log out and log in again at a higher level.",
    access: "Access",
    access_lead: "Who can read the organisation's post.",
    registered_roles: "Roles in the Central Coordinating Register",
    registered_lead: "These roles give access to ordinary post. They are changed in the register.",
    delegated_rights: "Delegated access",
    no_delegations: "Nobody has been given access by delegation.",
    person: "Person",
    right: "Access",
    grant_access: "Give access",
    grant: "Give access",
    revoke: "Remove",
    right_ordinary_post: "Ordinary post to the organisation",
    right_municipal: "Municipal services",
    right_confidential: "Post with confidential content",
    granted: "Access given.",
    revoked: "Access removed.",
    unchanged: "No change: the person already had this access, or did not have it.",
    contact_details: "Contact details",
    contacts_lead_person: "Notices of new post to you go to your contact details in the Contact and Reservation Register (KRR). You change them there.",
    krr_none: "You have no contact details in KRR.",
    email: "E-mail address",
    mobile: "Mobile number",
    own_contact: "Your contact details for the organisation",
    own_contact_lead: "You are notified here when the organisation receives post you may read. Leave both fields empty to stop the notices.",
    save: "Save",
    remove_own: "Remove my contact details",
    notification_addresses: "The organisation's notification addresses",
    notification_addresses_lead: "Notices of new post to the organisation go to these addresses.",
    emails: "E-mail addresses",
    mobiles: "Mobile numbers",
    one_per_line: "One per line.",
    other_contacts: "Other contacts",
    other_contacts_lead: "These contacts are notified too. Remove contacts who should no longer be notified, such as former employees.",
    no_contacts: "No contacts are registered.",
    applies_to: "Applies to",
    all_services: "All services",
    registered_by_organisation: "The organisation",
    add_contact: "Add a contact",
    remove: "Remove",
    contacts_saved: "Contact details saved.",
    contacts_unchanged: "Nothing changed.",
    contacts_full: "Not saved: there can be at most 20 contacts, and at most 20 addresses of each kind.",
    invalid_email: "Enter a valid e-mail address, such as name@example.no.",
    invalid_mobile: "Enter a valid mobile number, such as 912 34 567 or +46 70 123 45 67.",
    contact_needs_one: "Enter an e-mail address, a mobile number or both.",
    contacts_count: "of 20 contacts are registered.",
    delete_confirm: "Delete the letter? This cannot be undone.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_spoken() {
        assert_eq!(
            Lang::from_accept_language("nn-NO,nb;q=0.9,en;q=0.8"),
            Some(Lang::Nn)
        );
        assert_eq!(
            Lang::from_accept_language("de,en-GB;q=0.7,nb;q=0.8"),
            Some(Lang::Nb)
        );
        assert_eq!(Lang::from_accept_language("no"), Some(Lang::Nb));
        assert_eq!(Lang::from_accept_language("de, fr;q=0.5"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, nn;q=0.1"),
            Some(Lang::Nn)
        );
        assert_eq!(Lang::from_accept_language("en, nb"), Some(Lang::En));
    }

    #[test]
    fn dates_are_written_on_the_oslo_wall_clock() {
        // 23:30 UTC on 31 December is already New Year's Day in Oslo (UTC+1).
        let at = DateTime::parse_from_rfc3339("2026-12-31T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Lang::Nb.date_time(at), "1. januar 2027 kl. 00:30");
        assert_eq!(Lang::En.date_time(at), "1 January 2027, 00:30");
        // Summer time: UTC+2.
        let at = DateTime::parse_from_rfc3339("2026-07-01T07:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(Lang::Nn.date(at), "1. juli 2026");
        assert_eq!(Lang::Nb.date_time(at), "1. juli 2026 kl. 09:05");
    }
}
