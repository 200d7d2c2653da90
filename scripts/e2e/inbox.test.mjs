// The web inbox in a real browser (issue 17): headless Chromium against `melding serve --demo`,
// logging in through a real OpenID provider. Run through scripts/e2e.sh, which starts both and
// sets the MELDING_E2E_* variables.
//
// The tests run in this order on one server. Each sends the letters it needs, so none depends
// on another's result; the screenshots come first only so that they show a tidy inbox.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import {
  BASE,
  CONFIDENTIAL_POST,
  DELEGATE,
  DESKTOP,
  DUE,
  ISSUER,
  ORDINARY_POST,
  ORG,
  PERSON,
  PHONE,
  SCREENSHOTS,
  actFor,
  assertAccessible,
  assertHeading,
  assertNoProblems,
  assertNoSidewaysScroll,
  details,
  entry,
  history,
  launch,
  logIn,
  newContext,
  openFromInbox,
  organization,
  person,
  send,
  sendWithFiles,
} from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Runs `body` with a fresh context and page, then checks the pages reported no problem. */
async function withPage(options, body) {
  const context = await newContext(browser, options);
  try {
    const page = await context.newPage();
    await body(page, context);
    assertNoProblems(context);
  } finally {
    await context.close();
  }
}

const BODY = `Vi viser til søknaden din om tilbygg på eiendommen gnr. 12 bnr. 34.

## Vedtak

Søknaden er **innvilget**. Tiltaket må settes i gang innen tre år.

- Ansvarlig søker: Bygg og Bo AS
- Saksnummer: 2024/1717

Har du spørsmål, se [kommunens nettsider](https://www.example.no/byggesak).`;

test('screenshots of the inbox and of a letter at phone and desktop widths', async () => {
  const letter = await sendWithFiles(
    person(PERSON),
    {
      title: 'Vedtak om byggesøknad',
      summary: 'Søknaden din om tilbygg er innvilget.',
      body: BODY,
      confirm: true,
      due: DUE,
    },
    { 'vedtak.txt': 'Vedtak i byggesak 2024/1717\n', 'situasjonskart.txt': 'Situasjonskart\n' },
  );
  await send(person(PERSON), {
    title: 'Skattemeldingen for 2025',
    summary: 'Skattemeldingen din er klar.',
    body: 'Logg inn for å se og endre skattemeldingen.',
    resourceId: 'melding-e2e-fortrolig',
    isConfidential: true,
  });
  await send(person(PERSON), {
    title: 'Ny adresse registrert',
    summary: 'Vi har registrert flyttemeldingen din.',
    body: 'Flyttemeldingen din er registrert i Folkeregisteret.',
  });
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    // One letter read, so the inbox shows read and unread ones.
    await openFromInbox(page, 'Ny adresse registrert');
    await page.goto('/inbox');
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      await page.setViewportSize(viewport);
      await assertNoSidewaysScroll(page, `the inbox at ${viewport.width} px`);
      await page.screenshot({ path: `${SCREENSHOTS}/inbox-${size}.png` });
    }
    await page.goto(`/inbox/letters/${letter}`);
    await assertHeading(page, 'Vedtak om byggesøknad');
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      await page.setViewportSize(viewport);
      await assertNoSidewaysScroll(page, `the letter at ${viewport.width} px`);
      await page.screenshot({ path: `${SCREENSHOTS}/letter-${size}.png` });
    }
  });
});

test('a person logs in through the provider and switches to an organisation they act for', async () => {
  const own = 'Brev til Ola';
  const orgs = 'Brev til Brønnøysundregistrene';
  await send(person(PERSON), { title: own, summary: 'Til deg selv.' });
  await send(organization(ORG), { title: orgs, summary: 'Til virksomheten.' });
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    // The name comes from Melding's registry, not from the provider.
    assert.match(await page.locator('.acting-for').innerText(), /Ola Nordmann/);
    await entry(page, own).waitFor();
    assert.equal(await entry(page, orgs).count(), 0);

    await page.locator('a[href="/inbox/act-for"]').first().click();
    await page.waitForURL(`${BASE}/inbox/act-for`);
    const parties = page.locator('ul.parties button');
    assert.equal(await parties.count(), 2);
    assert.match(await parties.filter({ hasText: 'Brønnøysundregistrene' }).innerText(), new RegExp(ORG));
    assert.match(await page.locator('ul.parties button[aria-current]').innerText(), /Ola Nordmann/);

    await page.getByRole('button', { name: /Brønnøysundregistrene/ }).click();
    await page.waitForURL(`${BASE}/inbox`);
    const bar = await page.locator('.acting-for').innerText();
    assert.match(bar, /Brønnøysundregistrene/);
    assert.match(bar, new RegExp(ORG));
    await entry(page, orgs).waitFor();
    assert.equal(await entry(page, own).count(), 0);

    await actFor(page, /Ola Nordmann/);
    await entry(page, own).waitFor();
    assert.equal(await entry(page, orgs).count(), 0);
  });
});

test('opening a letter logs Fetched and Read, and the sender sees it', async () => {
  const title = 'Innkalling til møte';
  const id = await send(person(PERSON), { title, summary: 'Møte om reguleringsplanen.', body: 'Velkommen.' });
  assert.ok(!(await history(id)).includes('Fetched'));
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    const listed = entry(page, title);
    assert.match(await listed.getAttribute('class'), /\bunread\b/);
    await openFromInbox(page, title);
    assert.match(await page.locator('.body').innerText(), /Velkommen\./);

    const seen = await details(id);
    assert.equal(seen.status, 'Read');
    assert.ok(seen.read, 'the read time is set');
    const statuses = seen.statusHistory.map((h) => h.status);
    assert.deepEqual(statuses.slice(-2), ['Fetched', 'Read']);

    await page.goto('/inbox');
    assert.doesNotMatch(await entry(page, title).getAttribute('class'), /\bunread\b/);
    // Opening it again does not make it read again.
    await openFromInbox(page, title);
    assert.equal((await history(id)).filter((s) => s === 'Read').length, 1);
  });
});

test('a recipient downloads the attachments, one and all as a zip, and confirms the letter', async () => {
  const title = 'Vedtak med vedlegg';
  const files = { 'vedtak.txt': 'Vedtak i byggesak 2024-17\n', 'brosjyre.txt': 'Brosjyre om byggesøknader\n' };
  const id = await sendWithFiles(person(PERSON), { title, body: 'Se vedleggene.', confirm: true }, files);
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    await openFromInbox(page, title);
    // Not archived or deleted before it is confirmed.
    assert.equal(await page.locator('form[action$="/archive"], form[action$="/delete"]').count(), 0);

    const [one] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('ul.attachments').getByRole('link', { name: 'vedtak.txt' }).click(),
    ]);
    assert.equal(one.suggestedFilename(), 'vedtak.txt');
    assert.equal(await readFile(await one.path(), 'utf8'), files['vedtak.txt']);

    const [all] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`a[href="/inbox/letters/${id}/attachments.zip"]`).click(),
    ]);
    assert.match(all.suggestedFilename(), /\.zip$/);
    const zip = await readFile(await all.path());
    assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004');
    for (const name of Object.keys(files)) assert.ok(zip.includes(name), `${name} in the zip`);

    await page.locator(`form[action="/inbox/letters/${id}/confirm"] button`).click();
    await page.waitForURL(`${BASE}/inbox/letters/${id}`);
    await page.locator('.actions .notice').waitFor();
    assert.equal(await page.locator(`form[action="/inbox/letters/${id}/confirm"]`).count(), 0);
    // Once confirmed, it may be archived.
    await page.locator(`form[action="/inbox/letters/${id}/archive"]`).waitFor();

    // The overview's status is the highest in Altinn's order, where AttachmentsDownloaded (12)
    // outranks Confirmed (6); the history has both.
    const seen = await details(id);
    assert.equal(seen.status, 'AttachmentsDownloaded');
    const statuses = seen.statusHistory.map((h) => h.status);
    for (const s of ['Fetched', 'Read', 'AttachmentsDownloaded', 'Confirmed']) {
      assert.ok(statuses.includes(s), `${s} in ${statuses}`);
    }
  });
});

test("an organisation's general manager delegates its post, the delegate reads it, and loses it again", async () => {
  const title = 'Tilsyn med virksomheten';
  const id = await send(organization(ORG), { title, summary: 'Varsel om tilsyn.', body: 'Vi kommer på tilsyn.' });
  const manager = await newContext(browser);
  const delegate = await newContext(browser);
  try {
    const m = await manager.newPage();
    await logIn(m, PERSON);
    await actFor(m, /Brønnøysundregistrene/);
    await m.locator('a[href="/inbox/access"]').first().click();
    await m.waitForURL(`${BASE}/inbox/access`);

    // Per Hansen reads nothing of the organisation's yet.
    const d = await delegate.newPage();
    await logIn(d, DELEGATE);
    await d.goto('/inbox/act-for');
    assert.equal(await d.getByRole('button', { name: /Brønnøysundregistrene/ }).count(), 0);

    await m.locator('#national_id').fill(DELEGATE);
    await m.locator('#right').selectOption(ORDINARY_POST);
    await m.locator('form[action="/inbox/access/grant"] button[type=submit]').click();
    await m.waitForURL(`${BASE}/inbox/access?done=granted`);
    const row = m.locator('table.holders tr', { hasText: 'Per Hansen' });
    await row.waitFor();
    assert.match(await row.innerText(), /179120\*{5}/, 'the national id is masked');

    // The delegate switches to the organisation and reads its letter.
    await actFor(d, /Brønnøysundregistrene/);
    await openFromInbox(d, title);
    assert.equal((await details(id)).status, 'Read');

    // The manager takes it back.
    await row.getByRole('button').click();
    await m.waitForURL(`${BASE}/inbox/access?done=revoked`);
    assert.equal(await m.locator('table.holders tr', { hasText: 'Per Hansen' }).count(), 0);

    // Gone for the delegate: the letter, the organisation's inbox, and the party itself.
    const letter = await d.goto(`/inbox/letters/${id}`);
    assert.ok([403, 404].includes(letter.status()), `the letter answers ${letter.status()}`);
    assert.equal(await d.getByRole('heading', { name: title }).count(), 0);
    // His inbox sends him to choose anew, acting for himself, instead of refusing him.
    await d.goto('/inbox');
    assert.equal(new URL(d.url()).pathname, '/inbox/act-for');
    assert.equal(await d.getByRole('button', { name: /Brønnøysundregistrene/ }).count(), 0);
    await d.goto('/inbox');
    assert.equal(new URL(d.url()).pathname, '/inbox');
    assert.equal(await entry(d, title).count(), 0, 'the letter is not listed');
    assertNoProblems(manager);
    assertNoProblems(delegate);
  } finally {
    await manager.close();
    await delegate.close();
  }
});

test("the general manager keeps the organisation's notification addresses, and each person their own contact", async () => {
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    await actFor(page, /Brønnøysundregistrene/);
    await page.getByRole('link', { name: 'Kontaktinformasjon' }).click();
    await assertHeading(page, 'Kontaktinformasjon');
    const addresses = page.locator('form[action="/inbox/contacts/addresses"]');

    // A line that is no address is refused next to its field, and the script puts the focus
    // there.
    await page.locator('#emails').fill('post@brreg.example.no\nikke en adresse');
    await addresses.getByRole('button').click();
    await page.waitForLoadState();
    assert.equal(await page.locator('#emails').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'emails');
    assert.match(await page.locator('#emails_error').innerText(), /«ikke en adresse»/);

    await page.locator('#emails').fill('post@brreg.example.no');
    await page.locator('#mobiles').fill('912 34 567');
    await addresses.getByRole('button').click();
    await page.waitForURL(`${BASE}/inbox/contacts?done=saved`);
    assert.equal(await page.locator('#mobiles').inputValue(), '+4791234567', 'stored in E.164');

    // His own contact for the organisation shows in its list, with his id masked.
    await page.locator('#own_email').fill('ola@brreg.example.no');
    await page.locator('form[action="/inbox/contacts/own"]').first().getByRole('button').click();
    await page.waitForURL(`${BASE}/inbox/contacts?done=saved`);
    const row = page.locator('table.holders tr', { hasText: 'ola@brreg.example.no' });
    assert.match(await row.innerText(), /Ola Nordmann 080894\*{5}/);
    await assertAccessible(page, 'the contact details page with contacts');

    // He removes it again from the list.
    await row.getByRole('button').click();
    await page.waitForURL(`${BASE}/inbox/contacts?done=saved`);
    assert.equal(await page.locator('table.holders tr', { hasText: 'ola@brreg.example.no' }).count(), 0);
  });
});

test('a delete asks first, and a dismissed question deletes nothing', async () => {
  const title = 'Slettes etter spørsmål';
  const id = await send(person(PERSON), { title });
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    await openFromInbox(page, title);
    const questions = [];
    page.once('dialog', (d) => {
      questions.push(d.message());
      return d.dismiss();
    });
    await page.getByRole('button', { name: 'Slett meldingen' }).click();
    assert.deepEqual(questions, ['Vil du slette meldingen? Du kan ikke angre.']);
    assert.equal(new URL(page.url()).pathname, `/inbox/letters/${id}`);
    assert.notEqual((await details(id)).status, 'PurgedByRecipient');

    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Slett meldingen' }).click();
    await page.waitForURL(`${BASE}/inbox`);
    assert.equal(await entry(page, title).count(), 0);
    assert.equal((await details(id)).status, 'PurgedByRecipient');
  });
});

test('logging out ends the session in Melding and at the provider', async () => {
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    await page.locator('form[action="/inbox/logout"] button').click();
    // RP-initiated logout: the provider asks, then sends the browser back to Melding's login page.
    await page.waitForURL(`${ISSUER}/**`);
    await page.getByRole('button', { name: 'Logg ut' }).click();
    await page.waitForURL(`${BASE}/inbox/login`);

    await page.goto('/inbox');
    await page.waitForURL(`${BASE}/inbox/login`);
    // The provider's session is over too: it asks who is logging in instead of going straight
    // back with the old login.
    await page.locator('a[href="/inbox/login/oidc"]').click();
    await page.waitForURL(`${ISSUER}/**`);
    await page.locator('#pid').waitFor();
  });
});

test('the language switch changes the pages and is remembered', async () => {
  await withPage({ locale: 'en-GB' }, async (page) => {
    await page.goto('/inbox/login');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.locator('nav.languages a[hreflang="nn"]').click();
    await page.waitForURL(`${BASE}/inbox/login`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'nn');
    await page.goto('/inbox/does-not-exist');
    assert.equal(await page.locator('html').getAttribute('lang'), 'nn');
  });
});

test('the skip link is the first stop for the keyboard and leads to the main content', async () => {
  await withPage({}, async (page) => {
    await logIn(page, PERSON);
    await page.keyboard.press('Tab');
    const skip = page.locator('a.skip-link');
    assert.ok(await skip.evaluate((el) => el === document.activeElement));
    assert.ok(await skip.isVisible());
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  });
});

/**
 * What kind of inbox page a URL shows, for checking each kind once: its path with ids as `{id}`
 * and its query's names (`/inbox?archived`); `undefined` for what is no page to check (another
 * origin, the language switch, files, the provider login, the stylesheet).
 */
function pageKind(href) {
  const url = new URL(href, BASE);
  if (url.origin !== BASE || !url.pathname.startsWith('/inbox')) return undefined;
  if (/^\/inbox\/(lang|assets|login\/oidc)\b|\/attachments/.test(url.pathname)) return undefined;
  const path = url.pathname.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');
  const names = [...new Set(url.searchParams.keys())].filter((n) => n !== 'cursor').sort();
  return names.length ? `${path}?${names.join('&')}` : path;
}

for (const [lang, locale] of [['nb', 'nb-NO'], ['nn', 'nn-NO'], ['en', 'en-GB']]) {
  test(`axe-core finds no WCAG 2.1 A or AA violation on any page in ${lang}`, async (t) => {
    const letter = await sendWithFiles(
      person(PERSON),
      { title: `Brev med alt (${lang})`, summary: 'Vedlegg, svar og bekreftelse.', body: BODY, confirm: true, due: DUE },
      { 'vedtak.txt': 'Vedtak\n', 'kart.txt': 'Kart\n' },
    );
    await send(person(PERSON), {
      title: `Fortrolig brev (${lang})`,
      summary: 'Taushetsbelagt.',
      resourceId: 'melding-e2e-fortrolig',
      isConfidential: true,
      replyOptions: [{ linkURL: 'https://www.example.no/svar', linkText: 'Svar på brevet' }],
    });
    const high = await send(person(PERSON), { title: `Krever høyt nivå (${lang})`, resourceId: 'melding-e2e-hoyt-niva' });
    const archived = await send(person(PERSON), { title: `Til arkivet (${lang})`, body: 'Arkiver meg.' });

    await withPage({ locale }, async (page) => {
      // Every page checked, and every inbox page linked from one, by its kind (see pageKind).
      const checked = new Set();
      const linked = new Map();
      const check = async (where) => {
        assert.equal(await page.locator('html').getAttribute('lang'), lang, `the language of ${where}`);
        await assertAccessible(page, `${where} (${lang})`);
        // A 360 px phone, and the 320 px of WCAG's reflow criterion.
        for (const width of [PHONE.width, 320]) {
          await page.setViewportSize({ ...PHONE, width });
          await assertNoSidewaysScroll(page, `${where} at ${width} px (${lang})`);
        }
        await page.setViewportSize(DESKTOP);
        checked.add(pageKind(page.url()));
        for (const href of await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.href))) {
          const kind = pageKind(href);
          if (kind && !linked.has(kind)) linked.set(kind, href);
        }
      };
      // Then every page a link leads to that the steps above did not check: a page added to
      // the inbox is checked without being named here.
      const followLinks = async (party) => {
        for (;;) {
          const next = [...linked].find(([kind]) => !checked.has(kind));
          if (!next) return;
          checked.add(next[0]);
          await page.goto(next[1]);
          await check(`${next[0]}, linked from a page (acting for ${party})`);
        }
      };

      // Logged out.
      await page.goto('/inbox/login');
      await check('the login page');
      await page.locator('form[action="/inbox/login/demo"] #national_id').fill('12345678901');
      await page.locator('form[action="/inbox/login/demo"] button[type=submit]').click();
      await page.locator('#national_id_error').waitFor();
      await check('the login page with an error');
      await page.goto('/inbox/no-such-page');
      await check('the error page (404)');

      // Logged in, for oneself.
      await logIn(page, PERSON);
      await check('the inbox');
      await page.goto('/inbox?unread=1&q=' + encodeURIComponent('ingen treff her'));
      await page.locator('p.empty').waitFor();
      await check('the inbox, filtered to nothing');
      await page.goto(`/inbox/letters/${letter}`);
      await check('a letter with attachments, to confirm');
      await page.locator(`form[action="/inbox/letters/${letter}/confirm"] button`).click();
      await page.locator('.actions .notice').waitFor();
      await check('a confirmed letter');
      await openFromInbox(page, `Fortrolig brev (${lang})`);
      await check('a confidential letter with reply links');
      await page.goto(`/inbox/letters/${archived}`);
      await page.locator(`form[action="/inbox/letters/${archived}/archive"] button`).click();
      await page.waitForURL(`${BASE}/inbox`);
      await page.goto('/inbox?archived=1');
      await entry(page, `Til arkivet (${lang})`).waitFor();
      await check('the archive');
      await page.goto(`/inbox/letters/${archived}`);
      await check('an archived letter');
      const refused = await page.goto(`/inbox/letters/${high}`);
      assert.equal(refused.status(), 403);
      await check('the error page (403, login level too low)');
      await page.goto('/inbox/letters/not-a-letter');
      await check('the error page (404, logged in)');
      await page.goto('/inbox/act-for');
      await check('the act-for page');
      await followLinks('oneself');

      // For the organisation.
      await actFor(page, /Brønnøysundregistrene/);
      await check("the organisation's inbox");
      await page.goto('/inbox/access');
      await check('the access page');
      await page.locator('#national_id').fill('123');
      await page.locator('form[action="/inbox/access/grant"] button[type=submit]').click();
      await page.locator('#national_id_error').waitFor();
      await check('the access page with an error');
      await page.locator('#national_id').fill(DELEGATE);
      await page.locator('#right').selectOption(CONFIDENTIAL_POST);
      await page.locator('form[action="/inbox/access/grant"] button[type=submit]').click();
      await page.waitForURL(`${BASE}/inbox/access?done=granted`);
      await check('the access page with a delegation');
      await page.locator('table.holders tr', { hasText: 'Per Hansen' }).getByRole('button').click();
      await page.waitForURL(`${BASE}/inbox/access?done=revoked`);
      await check('the access page after a revocation');
      await followLinks('the organisation');
      t.diagnostic(`${checked.size} kinds of page checked: ${[...checked].sort().join(', ')}`);
    });
  });
}
