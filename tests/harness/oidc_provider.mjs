// A real OpenID Connect provider on loopback for the login tests (npm oidc-provider), standing in
// for a site's Keycloak / MyAccessID. Its people live in a JSON file the tests rewrite between
// logins ({"<login>": {claims}}), read afresh for every token and userinfo request.
//
//   node oidc_provider.mjs PORT ACCOUNTS.json CLIENT.json
//
// CLIENT.json: {"client_id", "client_secret", "redirect_uris": [...], "access_token_ttl": seconds}.
// Login is oidc-provider's development interaction (any password), then a consent prompt.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, accountsFile, clientFile] = process.argv.slice(2);
const client = JSON.parse(readFileSync(clientFile, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

function person(login) {
  const people = JSON.parse(readFileSync(accountsFile, 'utf8'));
  return people[login];
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris || [],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  // every login must prove possession of its PKCE verifier, whatever the client
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'entitlements'],
  claims: {
    profile: ['name', 'preferred_username'],
    email: ['email'],
    entitlements: ['eduperson_entitlement', 'hpc_username'],
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: { AccessToken: Number(client.access_token_ttl || 3600) },
  issueRefreshToken: async (ctx, c) => c.grantTypeAllowed('refresh_token'),
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    if (!person(id)) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...(person(id) || {}) };
      },
    };
  },
});
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
