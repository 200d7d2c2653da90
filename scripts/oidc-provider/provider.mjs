// A real OpenID Connect provider for the web inbox's login tests: node-oidc-provider configured
// like ID-porten as Melding sees it (authorization code flow with PKCE, the person in the `pid`
// claim, the level in `acr`, RP-initiated logout), with the test persons below.
//
//   node scripts/oidc-provider/provider.mjs <port> <Melding's base URL>
//
// Its login page asks for a test person's national identity number and a level; there is no
// consent step (ID-porten asks none for its own clients). It prints "listening <issuer>" when
// it is ready. Install it first with `npm ci --prefix scripts/oidc-provider`.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const base = process.argv[3];
if (!port || !base) {
  console.error('usage: provider.mjs <port> <melding base url>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// The test persons: national identity number → name.
const PERSONS = {
  '08089403198': 'Kari Nordmann',
  '17912099997': 'Per Hansen',
};
const LEVELS = ['idporten-loa-substantial', 'idporten-loa-high'];

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'melding-inbox',
      client_secret: 'melding-inbox-test-secret',
      redirect_uris: [`${base}/inbox/login/callback`],
      post_logout_redirect_uris: [`${base}/inbox/login`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  acrValues: LEVELS,
  claims: { openid: ['sub', 'pid'], profile: ['name'] },
  // The claims go into the ID token itself, as ID-porten puts `pid` there.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Logg ut', `${form}<p>Vil du logge ut?</p>
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Logg ut</button>`);
      },
    },
  },
  findAccount: async (ctx, sub) =>
    PERSONS[sub]
      ? { accountId: sub, claims: async () => ({ sub, pid: sub, name: PERSONS[sub] }) }
      : undefined,
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['melding-test-only-key'] },
});

function page(title, body) {
  return `<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

function loginForm(uid, error) {
  const levels = LEVELS.map((l) => `<option value="${l}">${l}</option>`).join('');
  return page('ID-porten (test)', `${error ? `<p role="alert">${error}</p>` : ''}
    <form method="post" action="/interaction/${uid}/login">
      <label for="pid">Fødselsnummer</label> <input id="pid" name="pid" autocomplete="off">
      <label for="acr">Nivå</label> <select id="acr" name="acr">${levels}</select>
      <button type="submit">Logg inn</button>
    </form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const pid = form.get('pid') || '';
    const acr = LEVELS.includes(form.get('acr')) ? form.get('acr') : LEVELS[0];
    if (!PERSONS[pid]) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginForm(uid, 'Ukjent testperson'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: pid, acr } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  if (details.prompt.name === 'consent') {
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(loginForm(uid));
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((e) => {
      console.error(e);
      res.writeHead(500);
      res.end(String(e));
    });
  } else {
    callback(req, res);
  }
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
