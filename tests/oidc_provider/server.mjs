// An OpenID Connect provider for the portal's tests: the certified `oidc-provider` package with a
// small sign-in page in front. Configured by one JSON document in OIDC_TEST_CONFIG:
//
//   { "issuer": "http://127.0.0.1:PORT", "port": 0, "jwks": {"keys": [<private JWK>]},
//     "client": {"client_id": ..., "client_secret": ..., "redirect_uris": [...]},
//     "acr_values": [...], "claims_in_id_token": true,
//     "accounts": {"<id>": {"acr": ..., "amr": [...], "claims": {...}}} }
//
// The sign-in page lists the accounts; choosing one stands for the person authenticating with
// that account's method (amr) at that account's level (acr). Consent is implied for the one
// first-party client. Prints "listening <port>" once it accepts connections.
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const accounts = config.accounts;
const claimNames = [...new Set(Object.values(accounts).flatMap((a) => Object.keys(a.claims)))];

const provider = new Provider(config.issuer, {
  clients: [{
    ...config.client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: config.jwks,
  acrValues: config.acr_values,
  // Every answer says how the person authenticated (acr, amr), as the gateway and eIDAS nodes do.
  claims: { openid: ['sub', 'acr', 'amr'], profile: claimNames, auth_time: null },
  conformIdTokenClaims: !config.claims_in_id_token,
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account.claims }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes.has('profile') ? 'openid profile' : 'openid');
    await grant.save();
    return grant;
  },
});
provider.proxy = true;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    const buttons = Object.keys(accounts)
      .map((id) => `<button name="account" value="${id}">${id}</button>`).join('');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<form method="post" action="/interaction/${details.uid}">${buttons}</form>`);
    return;
  }
  const chosen = (await readForm(req)).get('account');
  const account = accounts[chosen];
  if (!account) {
    res.statusCode = 400;
    res.end('unknown account');
    return;
  }
  await provider.interactionFinished(req, res, {
    login: { accountId: chosen, acr: account.acr, amr: account.amr },
  }, { mergeWithLastSubmission: false });
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  handle(req, res);
});
server.listen(config.port || 0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
