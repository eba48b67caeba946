/** Who is making a request, as established by the authentication middleware. */
export interface Principal {
  accountId: string;
  /** The account's home co-op, if any. */
  coopId: string | null;
  platformAdmin: boolean;
  /** How the principal authenticated: a personal access token, an OIDC access token (JWT), or the console. */
  via: 'pat' | 'local' | 'oidc';
  tokenId: string | null;
  /** For OIDC access tokens: the client the token was issued to, and its scopes. */
  clientId?: string;
  scope?: string[];
  /**
   * A machine client (client credentials): accountId is the client's id, coopId
   * its co-op, and tenancyId the tenancy it was created for (null: the whole co-op).
   * It is no person: the person-only rules (policies/machine.cedar) refuse it.
   */
  machine?: { tenancyId: string | null };
  /** For a delegated role: the grant ids from the acting grant up to its root. */
  delegation?: string[];
  /** The policy decision that allowed this request's change; recorded with it in the audit log. */
  authorization?: { decision: 'allow' | 'deny'; policyIds: string[]; policySetHash: string };
}

/** The principal acting under an allow decision: services record it with their change. */
export function authorized(p: Principal, decision: NonNullable<Principal['authorization']>): Principal {
  return { ...p, authorization: decision };
}

/** The actor the `meetplane admin ...` commands record: the operator at the console. */
export const LOCAL_OPERATOR: Principal = {
  accountId: '00000000-0000-0000-0000-000000000000',
  coopId: null,
  platformAdmin: true,
  via: 'local',
  tokenId: null,
};
