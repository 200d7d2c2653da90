//! The route of a published letter: digital mailbox, inbox with notice (and print if it stays
//! unread), print at once, or not delivered. One pure function, [`decide`], over the facts
//! the route job gathers, so the rule can be read in one place and tested without a database.
//!
//! The order is the reference's (`reference/delivery-chain.md` §3.3 steps 2, 3, 5 and 6; seeds
//! 001, 003 and 004):
//! 1. a person who chose a digital mailbox provider in KRR, when this node has an adapter for
//!    it → the digital mailbox;
//! 2. a reserved person, a recipient without a national id or org number, a recipient not in
//!    the registry, or one with no usable contact point to notify → print at once (rule 24:
//!    public bodies must send paper to persons who cannot be notified);
//! 3. otherwise → the inbox with notice, printed if still unread at the print deadline.
//!
//! A digital-only letter (SvarUt's `kunDigitalLevering`) is never printed: where step 2 would
//! print, it is not delivered (`IKKE_LEVERT`, rule 28). A letter that should be printed but has
//! no postal address to print to is not delivered either, and says why; one whose address is
//! protected goes to the operator queue, since a protected address is never printed (§3.5).

use serde::Serialize;

/// What the route job knows about a letter and its recipient when it decides. Recorded with
/// the decision (the `AKSEPTERT` event's details), so the receipt trail shows why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteFacts {
    /// `person`, `organization` or `selfIdentified`.
    pub recipient_kind: &'static str,
    /// Found in the registry (folkeregisteret or Enhetsregisteret as imported).
    pub registered: bool,
    /// A person reserved against digital post in KRR.
    pub reserved: bool,
    /// The digital mailbox provider the person chose in KRR (`digipost`, `eboks`), if any.
    pub mailbox_provider: Option<String>,
    /// Whether this node has an adapter for that provider.
    pub mailbox_adapter: bool,
    /// Whether the recipient has at least one contact point a notice could go to: a current
    /// (not stale) KRR e-mail or mobile for a person, an official notification address or a
    /// registered contact for an organisation.
    pub notifiable: bool,
    /// Whether the registry holds a postal address for the recipient.
    pub postal_address: bool,
    /// Whether that address is protected (fortrolig or strengt fortrolig): never printed.
    pub protected_address: bool,
    /// The letter or its resource is digital-only: never printed.
    pub digital_only: bool,
    /// Print when unread by the deadline (the resource's print fallback is on).
    pub print_fallback: bool,
}

/// Where a letter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Route {
    /// To the person's digital mailbox (SvarUt `SENDT_SDP`).
    DigitalMailbox,
    /// To the inbox, with the notices the sender ordered; printed if unread by the deadline
    /// unless digital-only or the print fallback is off.
    Inbox,
    /// Printed and posted at once.
    Print,
    /// Cannot be delivered (SvarUt `IKKE_LEVERT`).
    NotDelivered,
    /// Must go on paper, but the address is protected: an operator handles it
    /// (`TIL_MANUELL_HANDTERING`).
    Operator,
}

/// A route and the reason for it, in a sentence for the receipt trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Where the letter goes.
    pub route: Route,
    /// Why, e.g. "the recipient is reserved against digital post".
    pub reason: &'static str,
}

/// Decides a letter's route from `facts`, in the order of the module documentation.
pub fn decide(facts: &RouteFacts) -> Decision {
    let person = facts.recipient_kind == "person";
    if person
        && facts.registered
        && !facts.reserved
        && facts.mailbox_provider.is_some()
        && facts.mailbox_adapter
    {
        return Decision {
            route: Route::DigitalMailbox,
            reason: "the recipient chose a digital mailbox provider",
        };
    }
    let paper_because = if facts.recipient_kind == "selfIdentified" {
        Some("the recipient has no national identity number or organisation number")
    } else if !facts.registered {
        Some("the recipient is not registered")
    } else if facts.reserved {
        Some("the recipient is reserved against digital post")
    } else if !facts.notifiable {
        Some("the recipient has no contact point to notify")
    } else {
        None
    };
    match paper_because {
        None => Decision {
            route: Route::Inbox,
            reason: "the recipient can be notified in the inbox",
        },
        Some(_) if facts.digital_only => Decision {
            route: Route::NotDelivered,
            reason: "the letter is digital-only and the recipient has no digital route",
        },
        Some(_) if facts.postal_address && facts.protected_address => Decision {
            route: Route::Operator,
            reason: "the letter must go on paper but the recipient's address is protected",
        },
        Some(reason) if facts.postal_address => Decision {
            route: Route::Print,
            reason,
        },
        Some(_) => Decision {
            route: Route::NotDelivered,
            reason: "the letter must go on paper but the recipient has no postal address",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> RouteFacts {
        RouteFacts {
            recipient_kind: "person",
            registered: true,
            reserved: false,
            mailbox_provider: None,
            mailbox_adapter: false,
            notifiable: true,
            postal_address: true,
            protected_address: false,
            digital_only: false,
            print_fallback: true,
        }
    }

    #[test]
    fn a_notifiable_person_gets_the_inbox() {
        assert_eq!(decide(&person()).route, Route::Inbox);
    }

    #[test]
    fn a_chosen_mailbox_wins_when_the_node_has_its_adapter() {
        let mut f = person();
        f.mailbox_provider = Some("digipost".into());
        assert_eq!(decide(&f).route, Route::Inbox, "no adapter: inbox");
        f.mailbox_adapter = true;
        assert_eq!(decide(&f).route, Route::DigitalMailbox);
        f.reserved = true;
        assert_eq!(decide(&f).route, Route::Print, "reserved goes on paper");
    }

    #[test]
    fn reserved_unregistered_unreachable_and_unidentified_go_on_paper() {
        type Change = fn(&mut RouteFacts);
        let cases: [(&str, Change); 4] = [
            ("reserved", |f| f.reserved = true),
            ("not registered", |f| f.registered = false),
            ("no contact point", |f| f.notifiable = false),
            ("no national id", |f| f.recipient_kind = "selfIdentified"),
        ];
        for (name, change) in cases {
            let mut f = person();
            change(&mut f);
            let d = decide(&f);
            assert_eq!(d.route, Route::Print, "{name}");
            f.digital_only = true;
            assert_eq!(
                decide(&f).route,
                Route::NotDelivered,
                "{name}, digital-only"
            );
            f.digital_only = false;
            f.postal_address = false;
            let d = decide(&f);
            assert_eq!(d.route, Route::NotDelivered, "{name}, no address");
            assert!(d.reason.contains("postal address"));
        }
    }

    #[test]
    fn a_protected_address_sends_paper_to_an_operator_instead() {
        let mut f = person();
        f.reserved = true;
        f.protected_address = true;
        assert_eq!(decide(&f).route, Route::Operator);
        f.reserved = false;
        assert_eq!(decide(&f).route, Route::Inbox, "no paper needed");
    }

    #[test]
    fn an_organisation_never_goes_to_a_digital_mailbox() {
        let mut f = person();
        f.recipient_kind = "organization";
        f.mailbox_provider = Some("digipost".into());
        f.mailbox_adapter = true;
        assert_eq!(decide(&f).route, Route::Inbox);
        f.notifiable = false;
        assert_eq!(decide(&f).route, Route::Print);
    }

    #[test]
    fn a_digital_only_letter_to_a_notifiable_recipient_goes_to_the_inbox() {
        let mut f = person();
        f.digital_only = true;
        assert_eq!(decide(&f).route, Route::Inbox);
    }
}
