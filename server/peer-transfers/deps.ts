// What the cross-instance transfer services need, built once per process.
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Outbound } from '../net/outbound.js';
import type { TrustChainResolver } from '../../federation/trust-chain.js';
import type { TransferDeps } from '../transfers/service.js';
import type { peerTransfers } from './table.js';

export type PeerTransfer = typeof peerTransfers.$inferSelect;

export interface PeerTransferDeps {
  db: Db;
  box: SecretBox;
  /** This instance's entity id (PUBLIC_URL): the audience of messages to it, the issuer of its own. */
  publicUrl: string;
  outbound: Outbound;
  resolver: TrustChainResolver;
  /** The data-protection rules, the jurisdiction registry and the notice minimum (as local transfers use). */
  transfer: TransferDeps;
}
