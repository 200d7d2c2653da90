// What the inbox's browser tests share: the addresses scripts/e2e.sh started, the sender's side
// (Melding's API with a sender token), the browser, logging in at the OpenID provider, and the
// axe-core check.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through scripts/e2e.sh`);
  return value;
}

/** Melding's base URL, e.g. http://127.0.0.1:40123. */
export const BASE = required('MELDING_E2E_BASE');
/** The OpenID provider's issuer URL. */
export const ISSUER = required('MELDING_E2E_ISSUER');
const SENDER_TOKEN = required('MELDING_E2E_SENDER_TOKEN');
export const SCREENSHOTS = required('MELDING_E2E_SCREENSHOTS');

/** The demo's sender, Digitaliseringsdirektoratet. */
export const SENDER = '991825827';
/** Ola Nordmann: a test person of the provider, and DAGL of ORG in the demo's registry. */
export const PERSON = '08089403198';
/** Per Hansen: the provider's other test person, in the registry from scripts/e2e/registry.json. */
export const DELEGATE = '17912099997';
/** Brønnøysundregistrene, the demo's recipient organisation. */
export const ORG = '974760673';
export const ORDINARY_POST = 'urn:altinn:accesspackage:ordinaer-post-til-virksomheten';
export const CONFIDENTIAL_POST = 'urn:altinn:accesspackage:post-til-virksomheten-med-taushetsbelagt-innhold';

export const person = (id) => `urn:altinn:person:identifier-no:${id}`;
export const organization = (id) => `urn:altinn:organization:identifier-no:${id}`;

/** A due date far ahead (a letter that asks for confirmation needs one). */
export const DUE = '2099-06-30T12:00:00+00:00';

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

// ---------------------------------------------------------------------------------------------
// The sender's side: Melding's API with the demo sender's token.

const API = `${BASE}/correspondence/api/v1`;

async function api(path, init = {}) {
  const res = await fetch(`${API}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${SENDER_TOKEN}`, ...(init.headers ?? {}) },
  });
  const text = await res.text();
  assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `probe` until it returns something truthy; fails after `timeout` ms. */
export async function eventually(what, probe, timeout = 15000) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > until) assert.fail(`${what}: not within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The sender's view of a letter with its status history. */
export async function details(id) {
  return api(`/correspondence/${id}/details`);
}

/** The statuses in a letter's history, oldest first. */
export async function history(id) {
  return (await details(id)).statusHistory.map((h) => h.status);
}

async function published(id) {
  await eventually(`letter ${id} published`, async () => (await details(id)).status === 'Published');
  return id;
}

/**
 * Sends a letter as the demo sender and waits until it is published: its title, summary and
 * body, and any other fields of the correspondence (resourceId, isConfidential, replyOptions, …).
 */
export async function send(recipient, { title, summary = '', body = `${title}.`, ...fields }) {
  const res = await api('/correspondence', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      correspondence: {
        resourceId: 'melding-demo',
        sendersReference: `e2e-${title}`,
        content: { language: 'nb', messageTitle: title, messageSummary: summary, messageBody: body },
        ...fields,
      },
      recipients: [recipient],
    }),
  });
  return published(res.correspondences[0].correspondenceId);
}

/**
 * Sends a letter with files in one multipart request (Altinn's form fields), as the README's
 * attachment walk-through does, and waits until its files are scanned and it is published.
 * `files` maps file names to their text.
 */
export async function sendWithFiles(recipient, { title, summary = '', body = `${title}.`, confirm = false, due = DUE }, files) {
  const form = new FormData();
  form.set('Correspondence.ResourceId', 'melding-demo');
  form.set('Correspondence.SendersReference', `e2e-${title}`);
  form.set('Correspondence.Content.Language', 'nb');
  form.set('Correspondence.Content.MessageTitle', title);
  form.set('Correspondence.Content.MessageSummary', summary);
  form.set('Correspondence.Content.MessageBody', body);
  form.set('Correspondence.IsConfirmationNeeded', String(confirm));
  form.set('Correspondence.DueDateTime', due);
  form.set('Recipients[0]', recipient);
  Object.entries(files).forEach(([name, text], i) => {
    form.set(`Correspondence.Content.Attachments[${i}].FileName`, name);
    form.set(`Correspondence.Content.Attachments[${i}].SendersReference`, `e2e-${name}`);
    form.append('attachments', new Blob([text], { type: 'application/octet-stream' }), name);
  });
  const res = await api('/correspondence/upload', { method: 'POST', body: form });
  return published(res.correspondences[0].correspondenceId);
}

// ---------------------------------------------------------------------------------------------
// The browser.

/**
 * Debian's Chromium, headless: `--no-sandbox` because CI runs as root, and shared memory in
 * /tmp because a container's /dev/shm is often too small for it.
 */
export async function launch() {
  return chromium.launch({
    executablePath: required('MELDING_E2E_CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/**
 * A fresh browser context (its own cookies, so its own sessions at Melding and the provider).
 * It keeps the pages' Content-Security-Policy in force and records what the pages report as
 * going wrong (a violation of that policy, a script error) in `context.problems`, which
 * `assertNoProblems` checks is empty: the pages must work under their own policy.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ baseURL: BASE, viewport: DESKTOP, locale: 'nb-NO', ...options });
  context.problems = [];
  context.on('console', (msg) => {
    if (msg.type() === 'error' && /Content[- ]Security[- ]Policy/i.test(msg.text())) {
      context.problems.push(`${msg.page()?.url()}: ${msg.text()}`);
    }
  });
  context.on('weberror', (e) => context.problems.push(`${e.page()?.url()}: ${e.error().message}`));
  return context;
}

/** Fails when a context's pages reported a policy violation or a script error. */
export function assertNoProblems(context) {
  assert.deepEqual(context.problems, [], 'Content-Security-Policy violations or script errors');
}

/**
 * Logs in as `pid` from Melding's login page through the provider's login form, and lands in
 * the inbox.
 */
export async function logIn(page, pid, level = 'idporten-loa-substantial') {
  await page.goto('/inbox');
  await page.waitForURL(`${BASE}/inbox/login`);
  await page.locator('a[href="/inbox/login/oidc"]').click();
  await page.waitForURL(`${ISSUER}/**`);
  await page.locator('#pid').fill(pid);
  await page.locator('#acr').selectOption(level);
  await page.locator('button[type=submit]').click();
  await page.waitForURL(`${BASE}/inbox`);
}

/** Switches the party acted for on the act-for page, to the one whose button names `name`. */
export async function actFor(page, name) {
  await page.goto('/inbox/act-for');
  await page.getByRole('button', { name }).click();
  await page.waitForURL(`${BASE}/inbox`);
}

/** The inbox's entry of the letter titled `title`. */
export function entry(page, title) {
  return page.locator('li.letter').filter({ has: page.getByRole('link', { name: title }) });
}

/** Opens the letter titled `title` from the inbox and waits for its page. */
export async function openFromInbox(page, title) {
  await page.goto('/inbox');
  await entry(page, title).getByRole('link').click();
  await page.waitForURL(`${BASE}/inbox/letters/*`);
  await assertHeading(page, title);
}

export async function assertHeading(page, text) {
  assert.equal((await page.locator('h1').innerText()).trim(), text);
}

// ---------------------------------------------------------------------------------------------
// axe-core.

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe-core on the page as it is (WCAG 2.0 and 2.1, levels A and AA) and fails on any
 * violation, naming the rule and the elements.
 *
 * axe goes in through page.evaluate, which runs over the DevTools protocol: the page's
 * Content-Security-Policy (`default-src 'none'`, only Melding's own script file) does not apply to it, so the
 * page is checked under its real policy. A <script> tag from addScriptTag would be refused by
 * that policy unless the context bypassed it, and then the page would not be the one served.
 */
export async function assertAccessible(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE_SOURCE);
  }
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    TAGS,
  );
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`).join('\n    ')}`,
  );
  assert.deepEqual(found, [], `axe-core on ${where} (${page.url()})`);
}

/** Fails when the page scrolls sideways at its current width. */
export async function assertNoSidewaysScroll(page, where) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `${where} is ${scroll} px wide in a ${width} px window`);
}
