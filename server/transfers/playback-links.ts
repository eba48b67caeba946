// A recording's metadata.xml links its players and preview images on the
// server that plays it, under whatever host name that server is known by
// (the API's host, a separate recordings host, an old name kept for links
// already shared). The copy for the target must link the target's playback
// host instead: every http(s) link whose host is one of the source cluster's
// playback hosts is rewritten; any other link (a front end, a slides URL)
// stays as it was.
import { playbackHostsOf, type Cluster } from '../clusters/service.js';

type PlaybackCluster = Pick<Cluster, 'apiUrl' | 'playbackHosts'>;

/** scheme://authority, up to the path; no userinfo (playback links carry none). */
const LINK = /\b(https?):\/\/([a-z0-9.-]+(?::[0-9]{1,5})?)(?=[/?#"'<\s&]|$)/gi;

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' };

/** host[:port] as URL.host spells it: lower case, the scheme's default port left out. */
function normalHost(scheme: string, authority: string): string {
  const host = authority.toLowerCase();
  const port = DEFAULT_PORT[scheme.toLowerCase()];
  return port && host.endsWith(`:${port}`) ? host.slice(0, -port.length - 1) : host;
}

/** A function rewriting the source's playback links in a text (metadata.xml) to the target's first playback host. */
export function playbackLinkRewriter(source: PlaybackCluster, target: PlaybackCluster): (text: string) => string {
  return playbackHostsRewriter(playbackHostsOf(source), target);
}

/** The same, from the source's playback hosts (host[:port]) as a peer instance states them. */
export function playbackHostsRewriter(sourceHosts: readonly string[], target: PlaybackCluster): (text: string) => string {
  const from = new Set(sourceHosts.map((h) => h.toLowerCase()));
  const to = `${new URL(target.apiUrl).protocol}//${playbackHostsOf(target)[0]}`;
  return (text) => text.replace(LINK, (link: string, scheme: string, authority: string) => (from.has(normalHost(scheme, authority)) ? to : link));
}
