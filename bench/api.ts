// npm run bench:api — authenticated GET /api/v1/tenancies (a page of 50) per
// second with p50/p99 latency, on the embedded database and on PostgreSQL,
// next to GET /healthz measured in the same run as the machine's baseline.
import os from 'node:os';
import path from 'node:path';
import { cli, fmt, load, serve, onBothBackends } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

async function seed(url: string, token: string): Promise<void> {
  const api = async (p: string, body: unknown) => {
    const res = await fetch(url + '/api/v1' + p, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`seed ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const coop = await api('/coops', { slug: 'bench', name: 'Bench', jurisdiction: 'DE', contactEmail: 'b@bench.example', legalRegime: 'eu_gdpr' });
  const cluster = await api('/clusters', { coop: coop.id, name: 'c', apiUrl: 'https://bbb.bench.example/bigbluebutton/api', secret: 'bench-secret-123', country: 'DE', capacity: 1000 });
  for (let i = 0; i < 200; i++) await api('/tenancies', { slug: `t${i}`, name: `Tenancy ${i}`, coop: coop.id, cluster: cluster.id });
}

async function run(label: string, env: Record<string, string>): Promise<void> {
  const token = (await cli(['admin', 'bootstrap', '--email', 'bench@bench.example', '--name', 'Bench'], env)).trim().split('\n').pop()!;
  const server = await serve(env);
  try {
    await seed(server.url, token);
    const health = await load({ url: server.url + '/healthz', connections: CONNECTIONS, seconds: SECONDS });
    const list = await load({ url: server.url + '/api/v1/tenancies?limit=50', headers: { authorization: `Bearer ${token}` }, connections: CONNECTIONS, seconds: SECONDS });
    console.log(
      `${label.padEnd(9)} GET /api/v1/tenancies (50/page, PAT): ${fmt(list.rps)} req/s  p50 ${list.p50} ms  p99 ${list.p99} ms` +
        `  | /healthz ${fmt(health.rps)} req/s  | ratio ${fmt(list.rps / health.rps, 3)}`,
    );
  } finally {
    await server.stop();
  }
}

console.log(`bench:api  ${CONNECTIONS} connections, ${SECONDS} s per measurement, Node ${process.version}, ${os.cpus().length} CPUs`);
await onBothBackends(run);
