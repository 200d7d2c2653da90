//! Dialogs: Melding keeps its own, in place of Dialogporten.
//!
//! In Altinn every correspondence that is not a transmission gets a Dialogporten dialog, recorded
//! on it as a `DialogportenDialogId` external reference (reference §6.3, step 3). A transmission
//! is a correspondence sent into an existing dialog: it names that dialog with a
//! `DialogportenDialogId` reference of its own, and Altinn refuses it when the dialog does not
//! exist (1054), belongs to another service owner (1050) or to another party (1046) (reference
//! §4.1, the transmission checks).
//!
//! Melding has no Dialogporten, so it is the dialog service itself. A letter that is not a
//! transmission opens the dialog whose id is the letter's own id, and carries that id as its
//! `DialogportenDialogId` reference. The dialog's party is the letter's recipient and its service
//! owner the letter's sender. As in Altinn, where a purged or failed correspondence's dialog is
//! purged too (reference §6.1, §6.2), a dialog is gone once its letter is purged or has failed.
//! Letters stored before dialogs were recorded are dialogs too: the rule reads only the letter.

use melding_domain::CorrespondenceId;
use melding_domain::correspondence::{Correspondence, ExternalReference, ReferenceType};
use melding_domain::status::CorrespondenceStatus;
use melding_store::Store;
use uuid::Uuid;

use crate::{CoreError, Rule};

/// The reference by which a letter that is not a transmission names the dialog it opened: its
/// own id as a `DialogportenDialogId`.
pub(crate) fn opened_by(letter: CorrespondenceId) -> ExternalReference {
    ExternalReference {
        value: letter.to_string(),
        kind: ReferenceType::DialogportenDialogId,
    }
}

/// Checks a transmission into `dialog` from `service_owner` to `recipient_urn`, in the
/// reference's order: the dialog's service owner (1050), its party (1046), and its existence
/// (1054; Altinn answers it last, since only a found dialog has an owner and a party).
///
/// # Errors
/// [`Rule::DialogOfAnotherServiceOwner`], [`Rule::DialogOfAnotherParty`],
/// [`Rule::DialogNotFound`], or a store error.
pub(crate) async fn check_transmission_into(
    store: &dyn Store,
    dialog: Uuid,
    service_owner: &melding_domain::OrgNumber,
    recipient_urn: &str,
) -> Result<(), CoreError> {
    let letter = store
        .correspondence(CorrespondenceId::from_uuid(dialog))
        .await?;
    match letter.filter(is_open_dialog) {
        Some(d) if d.settings.sender != *service_owner => {
            Err(Rule::DialogOfAnotherServiceOwner.into())
        }
        Some(d) if d.recipient.urn() != recipient_urn => Err(Rule::DialogOfAnotherParty.into()),
        Some(_) => Ok(()),
        None => Err(Rule::DialogNotFound.into()),
    }
}

/// Whether `letter` holds an open dialog: it is not itself a transmission (it names no dialog
/// but its own), and it has been neither purged nor failed.
fn is_open_dialog(letter: &Correspondence) -> bool {
    let own = letter.id.to_string();
    let transmission = letter
        .settings
        .external_references
        .iter()
        .any(|r| r.kind == ReferenceType::DialogportenDialogId && r.value != own);
    !transmission
        && !letter.statuses.is_purged()
        && !letter.statuses.has_been(CorrespondenceStatus::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_names_its_own_dialog() {
        let id = CorrespondenceId::from_uuid(Uuid::from_u128(7));
        let r = opened_by(id);
        assert_eq!(r.kind, ReferenceType::DialogportenDialogId);
        assert_eq!(r.value, "00000000-0000-0000-0000-000000000007");
    }
}
