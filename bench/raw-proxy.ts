// The baseline of bench:gateway, in its own process: a raw reverse proxy (node:http and
// a keep-alive undici pool, no checks, no rewriting) in front of the BBB double at
// RAW_PROXY_TARGET. Requests signed for the double pass through unchanged.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const target = new URL(process.env.RAW_PROXY_TARGET!);
const pool = new Pool(target.origin, { connections: 50, pipelining: 1 });
const server = createServer((req, res) => {
  pool
    .request({ method: req.method as 'GET', path: req.url!, body: req.method === 'GET' || req.method === 'HEAD' ? null : req })
    .then(async (up) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') headers[k] = v;
      res.writeHead(up.statusCode, headers);
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }) + '\n');
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
