//! Melding's storage conformance suite. Every test is a `pub async fn` that takes a fresh, empty
//! store and panics when the store breaks a rule of the `melding-store` traits; each backend
//! runs every one of them on its own throwaway database through [`conformance_tests!`]:
//!
//! ```text
//! async fn run<F, Fut>(test: F)
//! where
//!     F: FnOnce(melding_store_tests::DynStore) -> Fut,
//!     Fut: std::future::Future<Output = ()> + Send + 'static,
//! {
//!     let store = /* a fresh store */;
//!     test(std::sync::Arc::new(store)).await;
//! }
//!
//! melding_store_tests::conformance_tests!(run);
//! ```
//!
//! The runners live in this crate's `tests/` (`sqlite.rs`, `postgres.rs`). Times in the tests
//! are fixed and carry microseconds, the precision both backends keep.
#![forbid(unsafe_code)]

pub mod fixtures;

mod attachments;
mod contacts;
mod correspondences;
mod delivery;
mod forwarding;
mod inbox;
mod jobs;
mod notifications;
mod registry;
mod rights;
mod search;

use std::sync::Arc;

pub use attachments::*;
pub use contacts::*;
pub use correspondences::*;
pub use delivery::*;
pub use forwarding::*;
pub use inbox::*;
pub use jobs::*;
pub use notifications::*;
pub use registry::*;
pub use rights::*;
pub use search::*;

/// The store under test.
pub type DynStore = Arc<dyn melding_store::Store>;

/// Declares one `#[tokio::test]` per conformance test, each calling `$run(test)`, where `$run`
/// is an `async fn` taking the test function (`FnOnce(DynStore) -> impl Future<Output = ()> +
/// Send + 'static`) that hands it a fresh store. A new test is added here and nowhere else.
#[macro_export]
macro_rules! conformance_tests {
    ($run:path) => {
        $crate::conformance_tests!(@each $run;
            // letters
            letter_round_trips_with_every_field,
            minimal_letter_round_trips,
            unknown_letter_is_none,
            letters_are_read_together_in_the_order_asked,
            idempotent_key_conflict_writes_nothing,
            idempotent_key_repeated_in_one_request_writes_nothing,
            a_failing_create_among_concurrent_ones_loses_only_itself,
            append_always_appends_in_write_order,
            append_to_unknown_letter_fails,
            append_unless_any_guard,
            append_unless_same_since_guard,
            published_is_set_once,
            concurrent_guarded_appends_write_once,
            concurrent_fetched_appends_write_once,
            a_purge_and_a_publish_racing_write_one_of_them,
            // attachments
            attachment_round_trips_with_every_field,
            upload_records_the_file_with_its_status,
            attachment_guards_block_repeats_and_linked,
            letters_link_new_and_existing_attachments_in_order,
            a_link_to_a_missing_attachment_writes_nothing,
            concurrent_uploads_start_once,
            purging_a_letter_purges_the_attachments_no_live_letter_uses,
            concurrent_purges_of_letters_sharing_an_attachment_purge_it_once,
            // search
            search_recipient_sees_only_published_letters,
            search_sender_sees_its_letters_in_every_state,
            search_recipient_and_sender_is_the_union,
            search_status_filter_means_ever_had,
            search_bounds_are_exclusive,
            search_by_senders_reference,
            search_orders_newest_first,
            search_pages_through_ties_with_the_cursor,
            search_exactly_full_last_page_has_no_next,
            unopened_confidential_lists_only_never_opened_confidential_letters,
            // registry
            registry_upsert_is_idempotent_and_updates,
            registry_lookups_of_unknown_entries_are_none,
            unknown_parties_lists_only_unregistered,
            resources_round_trip_type_and_authentication_level,
            self_identified_users_round_trip_and_are_known_parties,
            // rights
            registry_round_trips_parent_reservation_and_read_policy,
            reserved_persons_are_found_in_one_lookup,
            imported_roles_are_held_for_exactly_their_org,
            a_role_for_an_unknown_party_writes_nothing,
            delegations_change_once_and_log_every_change,
            organizations_of_lists_held_orgs_and_their_sub_units,
            concurrent_identical_grants_log_one_change,
            // contacts
            registry_round_trips_addresses_and_contacts,
            contact_changes_apply_each_change_and_keep_the_rest,
            concurrent_contact_changes_all_take_effect,
            an_upsert_may_keep_the_stored_contacts,
            organization_roles_lists_exactly_that_orgs_roles,
            // jobs
            jobs_from_letters_dedupe_on_key,
            jobs_from_appends_dedupe_on_key,
            a_key_repeated_in_one_append_keeps_its_first_job,
            claim_takes_only_due_jobs,
            claim_respects_limit_in_run_order,
            lease_blocks_other_workers_until_it_expires,
            complete_by_wrong_worker_does_nothing,
            complete_removes_a_batch_but_only_the_workers_jobs,
            reschedule_without_error_gives_back_the_attempt,
            dead_jobs_are_listed_and_retried,
            retrying_a_dead_job_whose_key_is_queued_keeps_the_queued_one,
            reschedule_with_error_counts_and_records_it,
            bury_moves_job_to_dead_letters,
            next_due_and_job_counts,
            a_job_due_before_the_claimed_ones_is_not_passed_over,
            concurrent_claims_never_share_a_job,
            // notifications
            notification_order_round_trips_with_every_field,
            orders_are_written_atomically_with_their_letter,
            processing_an_order_writes_once,
            publishing_processes_due_orders_in_the_same_write,
            only_a_processed_order_completes,
            updates_apply_only_from_the_named_statuses,
            notifications_are_found_by_provider_reference,
            unmatched_reports_are_listed_newest_first,
            cancel_touches_only_unsent_orders_and_notifications,
            orders_for_a_party_are_newest_first,
            org_contacts_with_and_without_a_person_read_back,
            // the web inbox
            inbox_lists_a_recipients_visible_letters_across_resources,
            inbox_filters_unread_archived_sender_and_text,
            inbox_pages_newest_first_with_ties_broken_by_id,
            web_sessions_round_trip_touch_and_end,
            expired_web_sessions_are_deleted,
            // forwarding
            forwarding_events_round_trip_with_their_job,
            one_forwarding_per_letter_and_address,
            marking_a_forwarding_sent_appends_forwarded_once,
            forwarding_links_are_found_by_their_token_hash,
            // delivery chain
            delivery_events_round_trip_with_their_job,
            a_guarded_append_stops_at_the_trail_and_at_a_reading,
            erasing_content_keeps_the_letter_and_its_trail,
            the_operator_queue_lists_letters_until_they_are_handled,
        );
    };
    (@each $run:path; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $run($crate::$name).await;
            }
        )*
    };
}
