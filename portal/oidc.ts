// Single sign-on through the province's unified identity service (统一身份认证), an OpenID
// Connect provider, with openid-client: the authorization code flow with PKCE (S256), state and
// nonce. Each start is recorded in portal_oidc_flows (the state as its SHA-256, the PKCE
// verifier and the nonce) and taken once by the callback, so a replayed or forged callback finds
// nothing. The person id is one claim of the ID token (or, when the ID token does not carry it,
// of the userinfo answer); who that person may be is the portal's business (pages-sso.ts).
import * as oidc from 'openid-client';
import type pg from 'pg';
import { Q, run } from '../db/portal.ts';
import { hashToken } from './auth.ts';
import type { OidcConfig, PortalConfig } from './config.ts';

/** How long a started sign-in may take at the identity service. */
export const FLOW_TTL_MS = 10 * 60_000;

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/;

export class SsoFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'flow' | 'denied' | 'rejected' | 'no-claim',
    message: string,
  ) {
    super(message);
  }
}

export interface SsoIdentity {
  /** The claim's value: the person id to look up on the rosters. */
  personId: string;
  subject: string;
  nextPath: string;
}

export class OidcSignOn {
  private discovered: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly settings: OidcConfig,
    private readonly cfg: PortalConfig,
  ) {}

  get redirectUri(): string {
    return `${this.cfg.publicUrl}/sso/callback`;
  }

  /** The provider's metadata, discovered once (again after a failure). */
  private configuration(): Promise<oidc.Configuration> {
    this.discovered ??= (async () => {
      const s = this.settings;
      const auth = s.clientSecret ? oidc.ClientSecretBasic(s.clientSecret) : oidc.None();
      const options = LOOPBACK.test(s.issuer) ? { execute: [oidc.allowInsecureRequests] } : {};
      return oidc.discovery(
        new URL(s.issuer),
        s.clientId,
        s.clientSecret ? { client_secret: s.clientSecret } : undefined,
        auth,
        { ...options, timeout: 10 },
      );
    })().catch((e: unknown) => {
      this.discovered = undefined;
      throw new SsoFailure(
        'unreachable',
        `the identity service at ${this.settings.issuer} cannot be reached: ${(e as Error).message}`,
      );
    });
    return this.discovered;
  }

  /**
   * Starts a sign-in: records the flow and returns the state (for the browser's cookie) and
   * the address at the identity service to send the browser to.
   */
  async start(pool: pg.Pool, nextPath: string): Promise<{ state: string; url: string }> {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await run(pool, Q.pruneOidcFlows, []);
    await run(pool, Q.insertOidcFlow, [
      hashToken(state),
      verifier,
      nonce,
      nextPath,
      String(FLOW_TTL_MS),
    ]);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { state, url: url.href };
  }

  /**
   * Finishes a sign-in from the callback's query: takes the flow of its state once, exchanges
   * the code (with the PKCE verifier; the ID token's signature, issuer, audience and nonce
   * checked by openid-client) and returns the claim's value.
   */
  async finish(pool: pg.Pool, search: string, state: string): Promise<SsoIdentity> {
    const flow = (
      await run<{ code_verifier: string; nonce: string; next_path: string }>(pool, Q.useOidcFlow, [
        hashToken(state),
      ])
    ).rows[0];
    if (!flow) throw new SsoFailure('flow', 'no sign-in in flight has this state');
    const params = new URLSearchParams(search);
    if (params.get('error'))
      throw new SsoFailure(
        'denied',
        `the identity service answered ${params.get('error')}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}`,
      );
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, new URL(`${this.redirectUri}${search}`), {
        pkceCodeVerifier: flow.code_verifier,
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      throw new SsoFailure('rejected', (e as Error).message);
    }
    const claims = tokens.claims();
    if (!claims) throw new SsoFailure('rejected', 'the token response carries no ID token');
    const claim = this.settings.personClaim;
    let value: unknown = claims[claim];
    if (value === undefined && tokens.access_token) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        value = info[claim];
      } catch (e) {
        throw new SsoFailure('rejected', `userinfo: ${(e as Error).message}`);
      }
    }
    const personId =
      typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
    if (!personId || personId.length > 100)
      throw new SsoFailure('no-claim', `the identity service gave no usable claim ${claim}`);
    return { personId, subject: claims.sub, nextPath: flow.next_path };
  }
}
