// Where the service's resident memory goes: one fresh node process per run loads the service's
// parts one after another and reports how much each step added (RSS and anonymous memory from
// /proc/self/smaps_rollup, V8's heap and ArrayBuffers, each after a full collection).
//
//   cd test && npx tsx bench/memory/attribute.ts
//
// The packages are imported as the compiled service imports them (plain node); the server's own
// sources then through tsx (as `pnpm dev` runs them), so that step includes tsx's transform
// caches. The data steps (geo, ASN, disposable list, argon2) are what the compiled service pays
// as well. Variables set for this script (MALLOC_ARENA_MAX…) reach the measured process.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const serverDir = path.resolve(import.meta.dirname, '../../../server');

/** Each step: a label and the code it runs (top-level await allowed), in order, in one process. */
const steps: Array<[string, string]> = [
  ['node (nothing loaded)', ''],
  [
    'web stack: express, tRPC, pino, zod, superjson',
    "await Promise.all(['express', '@trpc/server', 'pino', 'zod', 'superjson'].map((m) => import(m)));",
  ],
  ['database: mysql2, drizzle-orm, ioredis', "await Promise.all(['mysql2/promise', 'drizzle-orm', 'ioredis'].map((m) => import(m)));"],
  [
    'crypto and identity: jose, argon2, simplewebauthn, openid-client, altcha',
    "await Promise.all(['jose', 'argon2', '@simplewebauthn/server', 'openid-client', 'altcha-lib'].map((m) => import(m)));",
  ],
  [
    'telemetry: @opentelemetry/api, instrumentation-mysql2, prom-client',
    "await Promise.all(['@opentelemetry/api', '@opentelemetry/instrumentation-mysql2', 'prom-client'].map((m) => import(m)));",
  ],
  [
    'others: sanitize-html, ua-parser-js, isbot, resend, rate-limiter-flexible, lru-cache',
    "await Promise.all(['sanitize-html', 'ua-parser-js', 'isbot', 'resend', 'rate-limiter-flexible', 'lru-cache'].map((m) => import(m)));",
  ],
  ['@zxcvbn-ts/language-common (password dictionaries)', "await import('@zxcvbn-ts/language-common');"],
  ['tsx loader (for the steps below)', "(await import('tsx/esm/api')).register();"],
  ['@iam/emails (react-email templates)', "await import('@iam/emails');"],
  ['the server itself (src/index.ts, the rest of its modules)', "await import('./src/index.ts');"],
  [
    'disposable-domain list (createEmailPolicy)',
    "const { createEmailPolicy } = await import('./src/modules/email/emailPolicy.ts'); globalThis.keep = createEmailPolicy({ logger: { warn() {}, info() {}, debug() {} } });",
  ],
  ['geo: first lookupGeo', "const { lookupGeo } = await import('./src/modules/devices/geo.ts'); lookupGeo('81.2.69.142');"],
  [
    'ASN: first lookupNetworkOwner',
    "const { lookupNetworkOwner } = await import('./src/modules/devices/asn.ts'); lookupNetworkOwner('81.2.69.142');",
  ],
  [
    // Three rounds: glibc raises its mmap threshold when the first round's blocks are freed, so
    // from the second round on the blocks stay in the threads' arenas.
    'argon2id: three rounds of 4 hashes at once (m = 19 MiB)',
    "const argon2 = (await import('argon2')).default; for (let round = 0; round < 3; round++) await Promise.all([1, 2, 3, 4].map(() => argon2.hash('a password', { type: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 })));",
  ],
];

const probe = `
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const kb = (text, field) => Number(new RegExp('^' + field + ':\\\\s+(\\\\d+) kB', 'm').exec(text)?.[1]);
const measure = async () => {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 300));
  gc();
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const memory = process.memoryUsage();
  return { rss: kb(rollup, 'Rss') * 1024, anonymous: kb(rollup, 'Anonymous') * 1024, heapUsed: memory.heapUsed, arrayBuffers: memory.arrayBuffers };
};
const results = [];
${steps.map(([label, code]) => `{ const at = performance.now(); ${code} results.push({ label: ${JSON.stringify(label)}, ms: performance.now() - at, ...(await measure()) }); }`).join('\n')}
console.log(JSON.stringify(results));
`;

const output = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
  cwd: serverDir,
  encoding: 'utf8',
  maxBuffer: 16 * 1024 * 1024,
});
const results = JSON.parse(output.trim().split('\n').at(-1) ?? '[]') as Array<{
  label: string;
  ms: number;
  rss: number;
  anonymous: number;
  heapUsed: number;
  arrayBuffers: number;
}>;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log('| step | + RSS MB | + anonymous MB | + V8 heap MB | + ArrayBuffers MB | RSS after, MB | ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
let previous: (typeof results)[number] | undefined;
for (const step of results) {
  const delta = (key: 'rss' | 'anonymous' | 'heapUsed' | 'arrayBuffers') => mb(step[key] - (previous?.[key] ?? 0));
  console.log(
    `| ${step.label} | ${delta('rss')} | ${delta('anonymous')} | ${delta('heapUsed')} | ${delta('arrayBuffers')} | ${mb(step.rss)} | ${step.ms.toFixed(0)} |`,
  );
  previous = step;
}
