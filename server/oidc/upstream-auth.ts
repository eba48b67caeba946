// How meetplane proves itself at a co-op's upstream token endpoint: the method
// (configured per upstream, or chosen from the upstream's discovery), the
// client_secret_basic header, meetplane's own key for private_key_jwt, and what
// to log when the upstream says no.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { SecretBox } from '../crypto/secretbox.js';

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
/** The algorithm of meetplane's client-authentication key: the one every private_key_jwt server must accept. */
export const CLIENT_KEY_ALG = 'RS256';

/**
 * The method to use. A configured one wins. Otherwise the first secret-based method the upstream lists
 * (its order is its preference; LemonLDAP::NG lists client_secret_post first), and client_secret_basic
 * when it lists none (OpenID Connect Discovery's default). private_key_jwt is never chosen by itself:
 * it works only once the upstream's administrator registered meetplane's JWKS URL.
 */
export function chooseAuthMethod(configured: AuthMethod | null, supported: unknown): AuthMethod {
  if (configured) return configured;
  if (!Array.isArray(supported) || supported.length === 0) return 'client_secret_basic';
  for (const m of supported) if (m === 'client_secret_post' || m === 'client_secret_basic') return m;
  return 'client_secret_basic';
}

/**
 * client_secret_basic with only what must be encoded encoded: characters outside RFC 3986's unreserved
 * set. RFC 6749 §2.3.1 asks for form-encoding, which turns `-` into `%2D`; providers that do not decode
 * (LemonLDAP::NG) then see another client id, while providers that decode read an unencoded `-`, `.`,
 * `_` or `~` the same either way. So an id or secret made of letters, digits and those four characters
 * reaches every provider as typed; anything else (`:`, `%`, `+`, spaces, non-ASCII) is percent-encoded,
 * as a decoding provider needs it to be.
 */
export function basicCredentials(clientId: string, secret: string): string {
  const enc = (s: string) => s.replace(/[^A-Za-z0-9\-._~]/gu, (ch) => encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

export function clientSecretBasic(secret: string): oidc.ClientAuth {
  return (_as, client, _body, headers) => {
    headers.set('authorization', basicCredentials(client.client_id, secret));
  };
}

export const keyLabel = (upstreamId: string) => `upstream-client-key:${upstreamId}`;

/** A new key pair for one upstream: the sealed private JWK to store and the public JWK to publish. */
export async function newClientKey(box: SecretBox, upstreamId: string): Promise<{ sealed: string; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(CLIENT_KEY_ALG, { extractable: true, modulusLength: 2048 });
  const pub = await exportJWK(publicKey);
  const kid = `mp-${(await calculateJwkThumbprint(pub)).slice(0, 16)}`;
  const priv = await exportJWK(privateKey);
  return {
    sealed: box.seal(JSON.stringify({ ...priv, kid, alg: CLIENT_KEY_ALG, use: 'sig' }), keyLabel(upstreamId)),
    publicJwk: { ...pub, kid, alg: CLIENT_KEY_ALG, use: 'sig' },
  };
}

export async function privateKeyJwt(box: SecretBox, upstreamId: string, sealed: string): Promise<oidc.ClientAuth> {
  const jwk = JSON.parse(box.open(sealed, keyLabel(upstreamId))) as JWK;
  const key = (await importJWK(jwk, CLIENT_KEY_ALG)) as oidc.CryptoKey;
  return oidc.PrivateKeyJwt({ key, kid: jwk.kid! });
}

/**
 * What the upstream said, for the log: its OAuth `error` and `error_description` (from the body or the
 * WWW-Authenticate challenge) and the HTTP status. Never the request, so never a secret.
 */
export function upstreamErrorForLog(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; message?: string; code?: string; status?: number; error?: unknown; error_description?: unknown; cause?: unknown };
  const out: Record<string, unknown> = { name: e?.name, message: e?.message };
  if (typeof e?.code === 'string') out.code = e.code;
  if (typeof e?.status === 'number') out.status = e.status;
  if (typeof e?.error === 'string') out.error = e.error;
  if (typeof e?.error_description === 'string') out.error_description = e.error_description;
  if (Array.isArray(e?.cause)) {
    // WWWAuthenticateChallengeError: the challenges' parameters carry the error.
    for (const ch of e.cause as Array<{ scheme?: string; parameters?: Record<string, unknown> }>) {
      if (typeof ch?.parameters?.error === 'string' && out.error === undefined) out.error = ch.parameters.error;
      if (typeof ch?.parameters?.error_description === 'string' && out.error_description === undefined) out.error_description = ch.parameters.error_description;
    }
  } else if (e?.cause && typeof e.cause === 'object') {
    const c = e.cause as Record<string, unknown>;
    if (typeof c.error === 'string' && out.error === undefined) out.error = c.error;
    if (typeof c.error_description === 'string' && out.error_description === undefined) out.error_description = c.error_description;
  }
  return out;
}
