// The member site under /me: the session routes (sign-in, /me, language, data,
// invitations) and the domain pages that need a signed-in member. Composed
// here, above both, so the session module imports no domain page while the
// pages import its middleware: no import cycle between them.
import type { Deps } from '../http/env.js';
import type { Sso } from '../oidc/index.js';
import { memberTransferPages } from '../transfers/member-pages.js';
import { handoverPages } from '../handovers/pages.js';
import { ownerHandoverPages } from '../handovers/owner-pages.js';
import { webSessionRoutes } from './session.js';

export function memberSite(deps: Deps, sso: Sso) {
  const { routes, sessions } = webSessionRoutes(deps, sso);
  memberTransferPages(routes, sessions, deps);
  handoverPages(routes, sessions, deps);
  ownerHandoverPages(routes, sessions, deps);
  return routes;
}
