// The gateway's HTTP surface, outside /api/v1 and without bearer auth (BBB calls
// are authenticated by their checksum):
//   /bigbluebutton/api/<call>               tenancy from the host, <slug>.<GATEWAY_HOST_SUFFIX>
//   /t/<tenancy>/bigbluebutton/api/<call>   tenancy (slug or id) from the path
//   .../bigbluebutton/api/<a>/<b>...         unsupportedRequest (hooks/*, and any other deeper path)
//   POST /t/<tenancy>/bigbluebutton/recording-ready   the clusters' recording-ready callbacks
import type { IncomingMessage } from 'node:http';
import { Hono, type Context } from 'hono';
import type { AppEnv, Deps } from '../http/env.js';
import { Gateway } from './gateway.js';
import { slugFromHost } from './target.js';
import { relayRecordingReady } from './callback.js';
import { outboundFor } from '../net/outbound.js';
import { isXml, replyText } from './reply.js';
import type { GatewayOutcome, Metrics } from '../metrics/registry.js';

export function gatewayRoutes(deps: Deps, metrics?: Metrics) {
  const outbound = outboundFor(deps.config);
  const gateway = new Gateway({ db: deps.db, box: deps.box, log: deps.log, publicUrl: deps.config.publicUrl, outbound, cacheMaxAgeMs: deps.config.cacheMaxAgeMs });
  const suffix = deps.config.gatewayHostSuffix;
  const trustProxy = Boolean((deps.config as { sso?: { trustProxy?: boolean } }).sso?.trustProxy);
  const app = new Hono<AppEnv>();

  // The query exactly as received: checksums are computed over the raw text.
  const rawQuery = (c: Context<AppEnv>) => {
    const raw = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.url ?? c.req.url;
    const q = raw.indexOf('?');
    return q < 0 ? '' : raw.slice(q + 1);
  };

  const handle = async (c: Context<AppEnv>, tenancyRef: string | undefined, call: string) => {
    const reply = await gateway.handle({
      tenancyRef,
      call,
      rawQuery: rawQuery(c),
      method: c.req.method,
      contentType: c.req.header('content-type'),
      body: () => c.req.arrayBuffer(),
    });
    if (metrics) {
      // XML answers are text the gateway holds (built or read whole): counted by what they say.
      const outcome: GatewayOutcome = reply.forwarded
        ? 'forwarded'
        : isXml(reply)
          ? outcomeOf(replyText(reply))
          : reply.status >= 200 && reply.status < 300
            ? 'success'
            : 'failed';
      // Unknown and unsigned calls answer checksumError alike: no label from what a stranger sent.
      metrics.gatewayCalls.inc({ tenancy: outcome === 'refused' ? '-' : (tenancyRef ?? '-'), call: outcome === 'refused' ? '-' : call || 'index', outcome });
    }
    // Made once, from a string or bytes: the HTTP server writes it without a stream.
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  };

  const hostRef = (c: Context<AppEnv>) =>
    slugFromHost((trustProxy ? c.req.header('x-forwarded-host')?.split(',')[0]?.trim() : undefined) ?? c.req.header('host'), suffix);

  for (const root of ['/bigbluebutton/api', '/bigbluebutton/api/']) {
    app.get(root, (c) => handle(c, hostRef(c), ''));
    app.get(`/t/:tenancy${root}`, (c) => handle(c, c.req.param('tenancy'), ''));
  }
  app.on(['GET', 'POST'], '/bigbluebutton/api/:call', (c) => handle(c, hostRef(c), c.req.param('call')));
  app.on(['GET', 'POST'], '/t/:tenancy/bigbluebutton/api/:call', (c) => handle(c, c.req.param('tenancy'), c.req.param('call')));
  // Deeper paths (bbb-webhooks' hooks/create, anything else) are calls no BBB gateway
  // forwards: BBB's unsupportedRequest, the same bytes for every tenancy, known or not.
  const deeper = (c: Context<AppEnv>, tenancyRef: string | undefined) => handle(c, tenancyRef, c.req.path.replace(/^.*?\/bigbluebutton\/api\//, ''));
  app.on(['GET', 'POST'], '/bigbluebutton/api/*', (c) => deeper(c, hostRef(c)));
  app.on(['GET', 'POST'], '/t/:tenancy/bigbluebutton/api/*', (c) => deeper(c, c.req.param('tenancy')));

  app.post('/t/:tenancy/bigbluebutton/recording-ready', async (c) => {
    // An unknown tenancy is answered as a known one is to a signature it cannot verify.
    const target = await gateway.resolve(c.req.param('tenancy'));
    let signed: string | undefined;
    try {
      const form = await c.req.parseBody();
      signed = typeof form['signed_parameters'] === 'string' ? form['signed_parameters'] : undefined;
    } catch {
      signed = undefined;
    }
    const outcome = await relayRecordingReady({ ...deps, outbound }, target, signed);
    return outcome.status === 200 ? c.text('OK', 200) : c.text(outcome.error, outcome.status);
  });

  return app;
}

/** success / failed / refused (checksumError), from an XML answer. */
function outcomeOf(xml: string): GatewayOutcome {
  if (/<returncode>\s*SUCCESS/.test(xml)) return 'success';
  return /<messageKey>\s*checksumError/.test(xml) ? 'refused' : 'failed';
}
