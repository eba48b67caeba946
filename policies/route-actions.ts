// Which Cedar action each REST route asks for, and on what. The matrix test
// (test/authz/matrix.db.test.ts) fails when a route exists without an entry
// here or an action without rows in authz-table.ts, so no endpoint can be
// added without saying who may call it.
export type RouteResource = 'platform' | 'coop' | 'cluster' | 'tenancy' | 'account' | 'self' | 'grant' | 'client' | 'upstream' | 'transfer' | 'handover' | 'none';

export interface RouteAction {
  /** The Cedar action the handler asks for (null: any authenticated account, e.g. /me). */
  action: string | null;
  /** What the path's {id} (or the body) names. */
  resource: RouteResource;
}

export const ROUTE_ACTIONS: Record<string, RouteAction> = {
  'GET /me': { action: null, resource: 'none' },

  'GET /coops': { action: 'coop.list', resource: 'platform' },
  'POST /coops': { action: 'coop.create', resource: 'platform' },
  'GET /coops/{id}': { action: 'coop.read', resource: 'coop' },
  'PATCH /coops/{id}': { action: 'coop.update', resource: 'coop' },
  'DELETE /coops/{id}': { action: 'coop.delete', resource: 'coop' },

  'GET /coops/{id}/greenlights': { action: 'greenlight.read', resource: 'coop' },
  'PUT /coops/{id}/greenlights/{slug}': { action: 'greenlight.manage', resource: 'coop' },
  'DELETE /coops/{id}/greenlights/{slug}': { action: 'greenlight.manage', resource: 'coop' },

  'GET /clusters': { action: 'cluster.list', resource: 'platform' },
  'POST /clusters': { action: 'cluster.create', resource: 'coop' },
  'GET /clusters/{id}': { action: 'cluster.read', resource: 'cluster' },
  'PATCH /clusters/{id}': { action: 'cluster.update', resource: 'cluster' }, // cluster.drain when only the state changes
  'DELETE /clusters/{id}': { action: 'cluster.delete', resource: 'cluster' },
  'GET /clusters/{id}/health': { action: 'cluster.readHealth', resource: 'cluster' },
  'GET /clusters/{id}/storage': { action: 'cluster.read', resource: 'cluster' },
  'PUT /clusters/{id}/storage': { action: 'cluster.update', resource: 'cluster' },

  'GET /tenancies': { action: 'tenancy.list', resource: 'platform' },
  'POST /tenancies': { action: 'tenancy.create', resource: 'coop' },
  'GET /tenancies/{id}': { action: 'tenancy.read', resource: 'tenancy' },
  'PATCH /tenancies/{id}': { action: 'tenancy.update', resource: 'tenancy' },
  'DELETE /tenancies/{id}': { action: 'tenancy.delete', resource: 'tenancy' },
  'POST /tenancies/{id}/rotate-secret': { action: 'tenancy.rotateSecret', resource: 'tenancy' },
  'GET /tenancies/{id}/members': { action: 'membership.list', resource: 'tenancy' },
  'PUT /tenancies/{id}/members/{accountId}': { action: 'membership.set', resource: 'tenancy' },
  'DELETE /tenancies/{id}/members/{accountId}': { action: 'membership.delete', resource: 'tenancy' },
  // Invitations: whoever may set the members (the invited person answers on /me, not through the API).
  'GET /tenancies/{id}/member-invitations': { action: 'membership.set', resource: 'tenancy' },
  'POST /tenancies/{id}/member-invitations': { action: 'membership.set', resource: 'tenancy' },
  'DELETE /tenancies/{id}/member-invitations/{invitationId}': { action: 'membership.set', resource: 'tenancy' },
  'GET /tenancies/{id}/rooms': { action: 'tenancy.readInventory', resource: 'tenancy' },
  'GET /tenancies/{id}/recordings': { action: 'tenancy.readInventory', resource: 'tenancy' },
  'POST /tenancies/{id}/recordings/refresh': { action: 'tenancy.update', resource: 'tenancy' },
  'POST /processing-agreements': { action: 'tenancy.update', resource: 'tenancy' },

  'GET /accounts': { action: 'account.list', resource: 'platform' },
  'POST /accounts': { action: 'account.create', resource: 'coop' },
  'GET /accounts/{id}': { action: 'account.read', resource: 'account' },
  'POST /accounts/{id}/invitations': { action: 'account.invite', resource: 'account' },
  'POST /accounts/{id}/suspend': { action: 'account.suspend', resource: 'account' },
  'POST /accounts/{id}/reinstate': { action: 'account.reinstate', resource: 'account' },
  'POST /accounts/{id}/offboard': { action: 'coop.offboard', resource: 'coop' }, // the co-op named in the body; then cover.* per role taken away
  'POST /accounts/{id}/erase': { action: 'account.erase', resource: 'account' },
  'GET /tokens': { action: 'token.list', resource: 'self' },
  'POST /tokens': { action: 'token.create', resource: 'self' },
  'DELETE /tokens/{id}': { action: 'token.revoke', resource: 'self' },

  'GET /clients': { action: 'client.list', resource: 'platform' },
  'POST /clients': { action: 'client.create', resource: 'coop' },
  'GET /clients/{id}': { action: 'client.read', resource: 'client' },
  'PATCH /clients/{id}': { action: 'client.update', resource: 'client' },
  'POST /clients/{id}/rotate-secret': { action: 'client.rotateSecret', resource: 'client' },
  'DELETE /clients/{id}': { action: 'client.delete', resource: 'client' },
  'GET /upstreams': { action: 'upstream.list', resource: 'platform' },
  'POST /upstreams': { action: 'upstream.create', resource: 'coop' },
  'DELETE /upstreams/{id}': { action: 'upstream.delete', resource: 'upstream' },

  'GET /grants': { action: 'grant.list', resource: 'platform' },
  'POST /grants': { action: 'grant.delegate', resource: 'coop' },
  'GET /grants/{id}': { action: 'grant.read', resource: 'grant' },
  'POST /grants/{id}/revoke': { action: 'grant.revoke', resource: 'grant' },
  'GET /policies': { action: 'policy.read', resource: 'platform' },
  'POST /policies/check': { action: 'policy.check', resource: 'account' },

  'GET /transfers': { action: 'transfer.list', resource: 'platform' },
  'POST /transfers': { action: 'transfer.create', resource: 'tenancy' },
  'GET /transfers/{id}': { action: 'transfer.read', resource: 'transfer' },
  'GET /transfers/{id}/receipt': { action: 'transfer.read', resource: 'transfer' },
  'POST /transfers/{id}/check': { action: 'transfer.check', resource: 'transfer' },
  'POST /transfers/{id}/approve': { action: 'transfer.approve', resource: 'transfer' }, // then transfer.approveAsSource|Target|Owner, by `as`
  'POST /transfers/{id}/object': { action: 'transfer.object', resource: 'transfer' },
  'POST /transfers/{id}/cancel': { action: 'transfer.cancel', resource: 'transfer' },
  'POST /transfers/{id}/notices/{accountId}/told': { action: 'transfer.recordNotice', resource: 'transfer' },
  'POST /transfers/{id}/retry': { action: 'transfer.retry', resource: 'transfer' },
  'POST /transfers/{id}/resolve': { action: 'transfer.resolve', resource: 'transfer' },
  'GET /peer-transfers': { action: 'transfer.list', resource: 'platform' },
  'POST /peer-transfers': { action: 'transfer.create', resource: 'tenancy' },
  'GET /peer-transfers/{id}': { action: 'transfer.read', resource: 'transfer' },
  'GET /peer-transfers/{id}/receipt': { action: 'transfer.read', resource: 'transfer' },
  'POST /peer-transfers/{id}/answer': { action: 'transfer.approve', resource: 'transfer' }, // then transfer.approveAsTarget
  'POST /peer-transfers/{id}/cancel': { action: 'transfer.cancel', resource: 'transfer' },

  'GET /handovers': { action: 'handover.list', resource: 'platform' },
  'POST /handovers': { action: 'handover.create', resource: 'coop' },
  'GET /handovers/{id}': { action: 'handover.read', resource: 'handover' },
  'GET /handovers/{id}/status': { action: 'handover.read', resource: 'handover' },
  'GET /handovers/{id}/report': { action: 'handover.read', resource: 'handover' },
  'GET /handovers/{id}/tasks': { action: 'handover.read', resource: 'handover' },
  'GET /handovers/{id}/guide': { action: 'handover.read', resource: 'handover' },
  'POST /handovers/{id}/approve': { action: 'handover.approveAsSource', resource: 'handover' }, // or handover.approveAsTarget, by `as`
  'PUT /handovers/{id}/run-waves': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/waves/{n}/run': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/tenancies/{tenancyId}/retry': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/clusters/{clusterId}/custody': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/cut-over': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/complete': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/cancel': { action: 'handover.run', resource: 'handover' },
  'POST /handovers/{id}/operators': { action: 'handover.delegateOperators', resource: 'handover' },
  'POST /handovers/{id}/tasks': { action: 'handover.tasks', resource: 'handover' },
  'PATCH /handovers/{id}/tasks/{taskId}': { action: 'handover.tasks', resource: 'handover' },
  'POST /handovers/{id}/tasks/{taskId}/comments': { action: 'handover.tasks', resource: 'handover' },
  // The owner answers on the tenancy's transfer: accept asks transfer.approve then transfer.approveAsOwner, object transfer.object.
  'POST /handovers/{id}/tenancies/{tenancyId}/answer': { action: 'handover.askLater', resource: 'transfer' },

  'GET /audit/checkpoint': { action: 'audit.read', resource: 'platform' },
  'GET /audit/checkpoints': { action: 'audit.read', resource: 'platform' },
  'GET /audit/key': { action: 'audit.read', resource: 'platform' },
  'GET /audit/entries': { action: 'audit.read', resource: 'platform' },
  'GET /audit/entries/{index}': { action: 'audit.read', resource: 'platform' },
  'GET /audit/bundle/{index}': { action: 'audit.read', resource: 'platform' },
  'GET /audit/proof/inclusion': { action: 'audit.read', resource: 'platform' },
  'GET /audit/proof/consistency': { action: 'audit.read', resource: 'platform' },
  'POST /audit/forget/{accountId}': { action: 'audit.forget', resource: 'account' },

  // OpenID Federation (issue 14): what this instance trusts and vouches for, platform admins only.
  'GET /federation': { action: 'federation.read', resource: 'platform' },
  'GET /federation/resolve': { action: 'federation.read', resource: 'platform' },
  'POST /federation/subordinates': { action: 'federation.manage', resource: 'platform' },
  'DELETE /federation/subordinates': { action: 'federation.manage', resource: 'platform' },
  'POST /federation/anchors': { action: 'federation.manage', resource: 'platform' },
  'DELETE /federation/peers': { action: 'federation.manage', resource: 'platform' },
  'POST /federation/peers': { action: 'federation.manage', resource: 'platform' },
  'POST /federation/keys/rotate': { action: 'federation.manage', resource: 'platform' },
  'GET /federation/trust-marks': { action: 'federation.read', resource: 'platform' },
  'POST /federation/trust-marks': { action: 'federation.manage', resource: 'platform' },
  'DELETE /federation/trust-marks': { action: 'federation.manage', resource: 'platform' },
  'POST /federation/trust-marks/held/refresh': { action: 'federation.manage', resource: 'platform' },
  'GET /federation/witness': { action: 'federation.read', resource: 'platform' },
  'POST /federation/witness/logs': { action: 'federation.manage', resource: 'platform' },
  'GET /federation/incidents': { action: 'federation.read', resource: 'platform' },
  'GET /audit/witnesses': { action: 'federation.read', resource: 'platform' },
  'POST /audit/witnesses': { action: 'federation.manage', resource: 'platform' },
  'POST /audit/cosign': { action: 'federation.manage', resource: 'platform' },
};
