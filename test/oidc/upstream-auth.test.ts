// How meetplane authenticates at a co-op's upstream token endpoint, as the
// upstream sees it: which method, and the exact Authorization header.
import { describe, expect, it } from 'vitest';
import { basicCredentials, chooseAuthMethod, upstreamErrorForLog } from '../../server/oidc/upstream-auth.js';

const decoded = (header: string) => Buffer.from(header.replace(/^Basic /, ''), 'base64').toString();

describe('client authentication at an upstream', () => {
  it('follows the upstream\'s discovery unless a method is set', () => {
    expect(chooseAuthMethod(null, ['client_secret_post', 'client_secret_basic'])).toBe('client_secret_post'); // LemonLDAP::NG's order
    expect(chooseAuthMethod(null, ['client_secret_basic', 'client_secret_post', 'private_key_jwt'])).toBe('client_secret_basic');
    expect(chooseAuthMethod(null, ['private_key_jwt', 'client_secret_post'])).toBe('client_secret_post'); // needs the JWKS registered first
    expect(chooseAuthMethod(null, undefined)).toBe('client_secret_basic'); // Discovery's default
    expect(chooseAuthMethod(null, [])).toBe('client_secret_basic');
    expect(chooseAuthMethod('private_key_jwt', ['client_secret_basic'])).toBe('private_key_jwt');
    expect(chooseAuthMethod('client_secret_basic', ['client_secret_post'])).toBe('client_secret_basic');
  });

  it('sends an id and secret of letters, digits and - . _ ~ as typed, and percent-encodes the rest', () => {
    expect(decoded(basicCredentials('meetplane-upstream', 'a.b_c~d-9'))).toBe('meetplane-upstream:a.b_c~d-9');
    expect(decoded(basicCredentials('id:with colon', 'p%s+w/rd!*'))).toBe('id%3Awith%20colon:p%25s%2Bw%2Frd%21%2A');
    expect(decoded(basicCredentials('ü', 'x'))).toBe('%C3%BC:x');
  });

  it('logs what the upstream answered and nothing of the request', () => {
    const body = Object.assign(new Error('server responded with an error in the response body'), {
      name: 'ResponseBodyError',
      status: 401,
      error: 'invalid_client',
      error_description: 'client authentication failed',
      cause: { error: 'invalid_client' },
    });
    expect(upstreamErrorForLog(body)).toEqual({ name: 'ResponseBodyError', message: body.message, status: 401, error: 'invalid_client', error_description: 'client authentication failed' });
    const challenge = Object.assign(new Error('challenge'), {
      name: 'WWWAuthenticateChallengeError',
      status: 401,
      cause: [{ scheme: 'basic', parameters: { realm: 'x', error: 'invalid_client', error_description: 'unknown client' } }],
    });
    expect(upstreamErrorForLog(challenge)).toMatchObject({ status: 401, error: 'invalid_client', error_description: 'unknown client' });
  });
});
