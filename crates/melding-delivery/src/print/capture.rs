//! The test print channel: orders kept in memory, receipts scripted by the test.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    PrintCost, PrintManifest, PrintOrder, PrintOutcome, PrintProvider, PrintReceipt,
    PrintReference, PrintSubmission, ReceiptId, check_printable,
};
use crate::error::SendError;

/// One order the [`CapturingPrintProvider`] took.
#[derive(Debug, Clone)]
pub struct CapturedPrint {
    /// The order as handed over.
    pub order: PrintOrder,
    /// The PDF bytes.
    pub pdf: Vec<u8>,
    /// The manifest the file providers would have written for it.
    pub manifest: PrintManifest,
}

#[derive(Debug, Default)]
struct State {
    submitted: Vec<CapturedPrint>,
    failures: VecDeque<SendError>,
    receipts: Vec<PrintReceipt>,
    next_receipt: u64,
}

/// Keeps every order in memory, for tests of code that prints. It behaves like the real
/// providers: a reference submitted twice is kept once ([`PrintSubmission::already_submitted`]
/// the second time), [`check_printable`] applies, and receipts added with
/// [`CapturingPrintProvider::add_receipt`] are fetched until acknowledged. Failures can be
/// scripted with [`CapturingPrintProvider::fail_next`]: each call of any method first takes the
/// oldest scripted failure, if any, and returns it.
#[derive(Debug, Default)]
pub struct CapturingPrintProvider {
    state: Mutex<State>,
}

impl CapturingPrintProvider {
    /// An empty provider.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes a coming call fail with `error` (failures are used in the order given).
    pub fn fail_next(&self, error: SendError) {
        self.lock().failures.push_back(error);
    }

    /// The orders taken so far, oldest first, each once.
    pub fn submitted(&self) -> Vec<CapturedPrint> {
        self.lock().submitted.clone()
    }

    /// Queues a receipt as if the print house had sent it, with the next id (`receipt-1`,
    /// `receipt-2`, …), and returns that id. The reference need not have been submitted, as a
    /// real print house can send a receipt for an order it got another way.
    pub fn add_receipt(
        &self,
        reference: PrintReference,
        outcome: PrintOutcome,
        at: Option<DateTime<Utc>>,
        cost: PrintCost,
    ) -> ReceiptId {
        let mut state = self.lock();
        state.next_receipt += 1;
        let id = ReceiptId::new(format!("receipt-{}", state.next_receipt));
        state.receipts.push(PrintReceipt {
            id: id.clone(),
            reference,
            outcome,
            at,
            cost,
        });
        id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("capture lock")
    }

    fn scripted_failure(&self) -> Result<(), SendError> {
        match self.lock().failures.pop_front() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl PrintProvider for CapturingPrintProvider {
    async fn submit(&self, order: &PrintOrder, pdf: &[u8]) -> Result<PrintSubmission, SendError> {
        self.scripted_failure()?;
        check_printable(order, pdf)?;
        let mut state = self.lock();
        let already_submitted = state
            .submitted
            .iter()
            .any(|c| c.order.reference == order.reference);
        if !already_submitted {
            state.submitted.push(CapturedPrint {
                order: order.clone(),
                pdf: pdf.to_vec(),
                manifest: PrintManifest::for_order(order, pdf),
            });
        }
        Ok(PrintSubmission {
            reference: order.reference.clone(),
            location: format!("captured print order {}", order.reference),
            already_submitted,
        })
    }

    async fn fetch_receipts(&self) -> Result<Vec<PrintReceipt>, SendError> {
        self.scripted_failure()?;
        Ok(self.lock().receipts.clone())
    }

    async fn acknowledge(&self, receipts: &[ReceiptId]) -> Result<(), SendError> {
        self.scripted_failure()?;
        self.lock().receipts.retain(|r| !receipts.contains(&r.id));
        Ok(())
    }
}
