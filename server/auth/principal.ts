/** Who is making a request, as established by the authentication middleware. */
export interface Principal {
  accountId: string;
  /** The account's home co-op, if any. */
  coopId: string | null;
  platformAdmin: boolean;
  /** How the principal authenticated: a personal access token (later: OIDC). */
  via: 'pat' | 'local';
  tokenId: string | null;
  /** For a delegated role: the grant ids from the acting grant up to its root. */
  delegation?: string[];
}

/** The actor the `meetplane admin ...` commands record: the operator at the console. */
export const LOCAL_OPERATOR: Principal = {
  accountId: '00000000-0000-0000-0000-000000000000',
  coopId: null,
  platformAdmin: true,
  via: 'local',
  tokenId: null,
};
