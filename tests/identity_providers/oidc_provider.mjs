// A real OpenID Provider for the tests: the npm package oidc-provider (OpenID-certified) with a plain HTML login
// whose amr/acr the test chooses, and a test-only endpoint that replaces the signing keys. Started by tests/support/oidc_idp.py.
//
// Config (JSON file named by argv[2]): {port, clients: [{client_id, client_secret, redirect_uris}],
// jwks: {keys: [private JWKs]}, id_token_ttl}. The issuer is http://127.0.0.1:PORT; only 127.0.0.1 is bound.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

// oidc-provider is installed under build/npm (localdev/servers.py), named by OIDC_PROVIDER_MODULE.
const { default: Provider, interactionPolicy } = await import(pathToFileURL(process.env.OIDC_PROVIDER_MODULE).href);

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const AMR_CHOICES = ['pwd', 'mfa', 'hwk', 'otp'];
const emails = new Map(); // accountId -> email; outlives provider rebuilds

function accountIdFor(email) {
  const accountId = createHash('sha256').update(email).digest('hex').slice(0, 24);
  emails.set(accountId, email);
  return accountId;
}

function loginPolicy() {
  // A real IdP may ignore what the client asks for (acr essential, values); the client must check
  // the token itself, so this provider never insists and issues whatever acr the login chose.
  const policy = interactionPolicy.base();
  policy.get('login').checks.remove('essential_acrs');
  policy.get('login').checks.remove('essential_acr');
  return policy;
}

function buildProvider(jwks) {
  const provider = new Provider(issuer, {
    clients: config.clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'] })),
    jwks,
    acrValues: ['urn:example:pwd', 'https://refeds.org/profile/mfa', 'https://refeds.org/profile/sfa'],
    conformIdTokenClaims: false, // email in the ID token itself: the service reads no userinfo
    // acr and amr under openid: in every ID token, as chosen at login, asked for or not.
    claims: { openid: ['sub', 'acr', 'amr'], email: ['email', 'email_verified'], auth_time: null },
    features: { claimsParameter: { enabled: true }, devInteractions: { enabled: false } },
    ttl: { IdToken: config.id_token_ttl },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}`, policy: loginPolicy() },
    async findAccount(ctx, accountId) {
      return {
        accountId,
        async claims() { return { sub: accountId, email: emails.get(accountId), email_verified: true }; },
      };
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

let provider = buildProvider(config.jwks);
let providerHandler = provider.callback();

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginForm(uid, details) {
  const boxes = AMR_CHOICES.map((v) => `<label><input type="checkbox" name="amr" value="${v}"> ${v}</label>`).join('\n');
  return `<!doctype html><html><head><title>Test IdP login</title></head><body>
<h1>Test IdP</h1><p>Client ${escape(details.params.client_id)} asks you to sign in.</p>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Email <input type="email" name="email" required></label>
<fieldset><legend>Authentication methods (amr)</legend>
${boxes}
</fieldset>
<label>acr <input type="text" name="acr"></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function login(req, res) {
  const details = await provider.interactionDetails(req, res);
  const form = new URLSearchParams(await readBody(req));
  const accountId = accountIdFor(form.get('email'));
  const amr = form.getAll('amr').filter((v) => AMR_CHOICES.includes(v));
  // Consent is granted at once: the test users approve whatever the client asks for.
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId, amr: amr.length ? amr : undefined, acr: form.get('acr') || undefined, remember: false },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

async function handle(req, res) {
  const path = new URL(req.url, issuer).pathname;
  const match = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (match && req.method === 'GET' && !match[2]) {
    const details = await provider.interactionDetails(req, res);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginForm(match[1], details));
  } else if (match && req.method === 'POST' && match[2]) {
    await login(req, res);
  } else if (path === '/_test/keys' && req.method === 'POST') {
    // Test-only: sign and publish with these keys from now on (a rotation, or a key swapped under a kid).
    provider = buildProvider(JSON.parse(await readBody(req)));
    providerHandler = provider.callback();
    res.writeHead(204).end();
  } else {
    providerHandler(req, res);
  }
}

createServer((req, res) => handle(req, res).catch((error) => {
  console.error(error);
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
  res.end(String(error));
})).listen(config.port, '127.0.0.1', () => console.log('listening'));
