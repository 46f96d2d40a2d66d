import { readFile } from 'node:fs/promises';
import { securityEventTypes } from '@iam/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../harness/server';

// docs/api.md is the reference of every procedure the service exposes. The list of procedures
// comes from the router a real service is built with (the one `/trpc` serves), so a procedure
// added, renamed or removed in code fails this test until the reference follows.
const apiDocUrl = new URL('../../../docs/api.md', import.meta.url);

type ProcedureType = 'query' | 'mutation' | 'subscription';

let t: TestServer | undefined;
let procedures: Map<string, ProcedureType>;
let doc: string;

beforeAll(async () => {
  t = await createTestServer();
  // tRPC v11 keeps every procedure of a router, nested ones included, in a flat record keyed by
  // its dotted path (`mfa.totp.begin`).
  const record = t.iam.router._def.procedures as unknown as Record<string, { _def: { type: ProcedureType } }>;
  procedures = new Map(Object.entries(record).map(([path, procedure]) => [path, procedure._def.type]));
  doc = await readFile(apiDocUrl, 'utf8');
});

afterAll(async () => {
  await t?.close();
});

/** The document without fenced code blocks, and without the sections under a heading that says "Planned". */
function documentedText(markdown: string): string {
  const kept: string[] = [];
  let skipBelowLevel: number | null = null;
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1]?.length ?? 1;
      if (skipBelowLevel !== null && level <= skipBelowLevel) skipBelowLevel = null;
      if (skipBelowLevel === null && /planned/i.test(heading[2] ?? '')) skipBelowLevel = level;
    }
    if (skipBelowLevel === null) kept.push(line);
  }
  return kept.join('\n');
}

describe('docs/api.md', () => {
  it('is read from the real router, which has procedures', () => {
    expect(procedures.size).toBeGreaterThan(0);
    expect(procedures.get('system.ping')).toBe('query');
  });

  it('names every procedure of the router in backticks', () => {
    const text = documentedText(doc);
    const missing = [...procedures.keys()].filter((path) => !text.includes(`\`${path}\``));
    expect(missing, `procedures missing from docs/api.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('lists every procedure in a table row that says whether it is a query or a mutation, and says it right', () => {
    const rows = new Map<string, string>();
    for (const match of documentedText(doc).matchAll(/^\|\s*`([^`]+)`\s*\|\s*(query|mutation|subscription)\s*\|/gm)) {
      if (match[1] && match[2]) rows.set(match[1], match[2]);
    }
    const wrong = [...procedures].filter(([path, type]) => rows.get(path) !== type).map(([path, type]) => `${path} (${type})`);
    expect(wrong, `procedures without a correct "| \`name\` | query/mutation |" row: ${wrong.join(', ')}`).toEqual([]);
  });

  it('names no procedure that the router does not have (outside the Planned section)', () => {
    const routers = new Set([...procedures.keys()].map((path) => path.split('.')[0]));
    // A router path such as `mfa.totp` is a fine thing to name; it is the prefix of its procedures.
    const known = new Set<string>();
    for (const path of procedures.keys()) {
      const parts = path.split('.');
      for (let length = 2; length <= parts.length; length++) known.add(parts.slice(0, length).join('.'));
    }
    const named = [...documentedText(doc).matchAll(/`([a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)+)`/g)]
      .map((match) => match[1] ?? '')
      .filter((name) => routers.has(name.split('.')[0]))
      // Host names such as `auth.example.com` are not procedures.
      .filter((name) => !/\.(com|org|net|io|dev|app|example|internal|local|localhost)$/.test(name))
      // Nor are the security events of webhooks, such as `session.revoked`.
      .filter((name) => !(securityEventTypes as readonly string[]).includes(name));
    const unknown = [...new Set(named.filter((name) => !known.has(name)))];
    expect(unknown, `docs/api.md names procedures the router does not have: ${unknown.join(', ')}`).toEqual([]);
  });
});
