//! The inbox benchmark's results: `bench-results/inbox-<date>.json` with every number, and its
//! section of `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::seed::{SENDERS, TITLES};
use super::{InboxBackend, InboxMode, P99_TARGET_MS};
use crate::report::{Machine, Results};

/// Where the inbox benchmark's section of `BENCHMARKS.md` begins. It goes after the
/// notification section, so the main suite, which keeps everything from that section on, keeps
/// it too.
pub const INBOX_BEGIN: &str = "<!-- melding-bench --inbox: begin -->";
/// Where it ends.
pub const INBOX_END: &str = "<!-- melding-bench --inbox: end -->";

/// Everything the inbox benchmark measured: `bench-results/inbox-<date>.json` and a section of
/// `BENCHMARKS.md`.
#[derive(Debug, Serialize, Deserialize)]
pub struct InboxResults {
    /// When the run began (UTC).
    pub date: String,
    /// The command as given.
    pub command: String,
    /// How big and how long.
    pub mode: InboxMode,
    /// The commit of the working tree.
    pub commit: String,
    /// True when the working tree had uncommitted changes (they are in the binary).
    pub dirty: bool,
    /// The `melding` binary measured.
    pub melding_bin: String,
    /// The machine.
    pub machine: Machine,
    /// SQLite, then PostgreSQL.
    pub backends: Vec<InboxBackend>,
    /// Seconds the whole run took (s).
    pub total_seconds: f64,
}

impl InboxResults {
    pub(super) fn new(bin: &Path, mode: &InboxMode) -> Self {
        let base = Results::new(bin, &crate::suite::Mode::quick());
        Self {
            date: base.date,
            command: base.command,
            mode: mode.clone(),
            commit: base.commit,
            dirty: base.dirty,
            melding_bin: base.melding_bin,
            machine: base.machine,
            backends: Vec::new(),
            total_seconds: 0.0,
        }
    }

    pub(super) fn write_json(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        crate::report::write_results(dir, "inbox-", &self.date, &self.mode.name, self)
    }

    /// One backend's cell of the target row for `clients`: whether every page kind held the
    /// bound, and the slowest.
    fn target_cell(&self, b: &InboxBackend, clients: usize) -> String {
        let runs: Vec<_> = b.pages.iter().filter(|p| p.clients == clients).collect();
        let held = runs.iter().filter(|p| p.passed).count();
        let worst = runs.iter().max_by(|x, y| x.p99_ms.total_cmp(&y.p99_ms));
        match worst {
            Some(w) => format!(
                "{} {held} of {} page kinds held it; highest p99 {:.1} ms ({}, {})",
                if self.mode.letters < 10_000 {
                    "(quick)"
                } else {
                    mark(held == runs.len())
                },
                runs.len(),
                w.p99_ms,
                w.party,
                w.page
            ),
            None => "not run".to_owned(),
        }
    }

    /// The `BENCHMARKS.md` section, between [`INBOX_BEGIN`] and [`INBOX_END`].
    pub(super) fn markdown(&self, json: &Path) -> String {
        let mut s = String::new();
        let name = crate::report::backend_name;
        let _ = writeln!(s, "{INBOX_BEGIN}");
        let _ = writeln!(s, "## Web inbox list pages (issue 17)\n");
        let _ = writeln!(
            s,
            "{}",
            crate::report::produced_by(
                &self.command,
                &self.mode.name,
                &self.commit,
                self.dirty,
                &self.machine,
                self.total_seconds,
                json
            )
        );
        let _ = writeln!(
            s,
            "`{bin} serve --demo` runs on loopback. {letters} letters are created through the \
             sender API for the demo's person (08089403198) and, in the same requests, {letters} for its \
             organisation (974760673, where the person is DAGL), from {SENDERS} senders (one sends 6 in 10, one \
             2 in 10, two 1 in 10), with {titles} titles and a case number in each summary; then the person \
             opens every letter but one in {unread} in the inbox, which records Fetched and Read. Browsers, \
             each with its own cookie jar, connection and session from the development login, fetch inbox list \
             pages ({page} letters each) in bokmål; a request is timed from sending until the whole HTML has \
             arrived. Before measuring, every pager is followed from the first page to the last (which checks \
             that each letter is listed once, and warms the server and the database's cache), and each kind \
             gets 5 untimed requests per client. Each kind is then asked for {samples} times by 1 client and by \
             {clients} clients at once, each sending its next request when its answer has arrived (closed loop). \
             *Pages 2–{deep}* takes the pager's \"next\" links of the first {deep} pages in turn; the case-number \
             search takes 50 different numbers in turn, each matching one letter. *Server CPU* is the `melding` \
             process's (PostgreSQL's backends not included); *busy* and *steal* are the whole machine's, from \
             `/proc/stat`, in percent of all its cores. The generator shares the machine's cores with the server \
             and its database.\n",
            bin = self.melding_bin,
            letters = thousands(self.mode.letters),
            titles = TITLES.len(),
            unread = self.mode.unread_every,
            page = 20,
            samples = self.mode.samples,
            clients = self.mode.clients.iter().copied().max().unwrap_or(1),
            deep = self.mode.deep_pages,
        );
        let _ = writeln!(
            s,
            "| Target | {} |",
            self.backends
                .iter()
                .map(|b| name(&b.backend))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(s, "|---|{}", "---|".repeat(self.backends.len()));
        for &clients in &self.mode.clients {
            let cells: Vec<String> = self
                .backends
                .iter()
                .map(|b| self.target_cell(b, clients))
                .collect();
            let _ = writeln!(
                s,
                "| every list page's p99 < {P99_TARGET_MS:.0} ms with 10,000 letters per party, {clients} client{} | {} |",
                if clients == 1 { "" } else { "s at once" },
                cells.join(" | ")
            );
        }
        let _ = writeln!(s);
        if self.mode.letters < 10_000 {
            let _ = writeln!(
                s,
                "This is a `--quick` run with {} letters per party, so it does not answer the 10,000-letter target.\n",
                thousands(self.mode.letters)
            );
        }
        for b in &self.backends {
            let _ = writeln!(s, "### {}\n", name(&b.backend));
            let _ = writeln!(
                s,
                "Created in {:.1} s ({} create requests/s, two letters each), all published {:.1} s later; \
                 the person opened {} letters in {:.1} s. Following the pagers listed {} of the person's letters \
                 on {} pages, {} of {} unread ones, and {} of the organisation's. Server RSS at the end: {:.0} MiB.\n",
                b.seed_seconds,
                thousands((b.letters_per_party as f64 / b.seed_seconds.max(1e-3)).round() as usize),
                b.publish_seconds,
                thousands(b.opened),
                b.open_seconds,
                thousands(b.walked_person),
                b.person_pages,
                thousands(b.walked_unread),
                thousands(b.expected_unread),
                thousands(b.walked_org),
                b.rss_end_mib
            );
            let _ = writeln!(
                s,
                "| Inbox of | Page | Clients | Letters/page | p50 ms | p95 ms | p99 ms | max ms | Pages/s | Server CPU (cores) | Machine busy / steal % | Errors | p99 < {P99_TARGET_MS:.0} ms |"
            );
            let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for p in &b.pages {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.1} | {:.2} | {:.2} | **{:.2}** | {:.2} | {:.0} | {:.2} | {:.0} / {:.0} | {} | {} |",
                    p.party,
                    p.page,
                    p.clients,
                    p.letters_per_page,
                    p.p50_ms,
                    p.p95_ms,
                    p.p99_ms,
                    p.max_ms,
                    p.pages_per_s,
                    p.server_cpu_cores,
                    p.machine_busy_pct,
                    p.steal_pct,
                    p.errors,
                    mark(p.passed)
                );
            }
            let _ = writeln!(s);
            for n in &b.notes {
                let _ = writeln!(s, "- Note: {n}");
            }
            if !b.notes.is_empty() {
                let _ = writeln!(s);
            }
        }
        let _ = writeln!(s, "{INBOX_END}");
        s
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "✅" } else { "❌" }
}

/// `n` with a comma between thousands: 10,000.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
