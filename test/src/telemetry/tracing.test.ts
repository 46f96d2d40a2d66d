import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCookieJar, createIamClient, type IamClient } from '@iam/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { authenticated, codeFrom, uniqueEmail } from '../harness/server';
import { freePort, type StandaloneRun, startStandalone, stopStandalone } from '../harness/standalone';
import { type OtlpPeer, type ReceivedSpan, startOtlpPeer } from '../peers/otlp';
import { type ResendPeer, startResendPeer } from '../peers/resend';

// Tracing in the standalone service (docs/operations.md, tracing): started as an operator starts
// it, with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector on loopback, once from the
// TypeScript sources (`pnpm dev`) and once compiled (`pnpm start`). A user signs up, verifies,
// signs in and refreshes; the refresh's spans and log lines are judged.

/** What a frontend behind a proxy looks like: an address and a user agent no span may carry. */
const clientIp = '203.0.113.77';
const userAgent = 'TraceProbe/7.3 (marker-agent)';
/** OTLP's SpanKind. */
const serverKind = 2;
const clientKind = 3;
const mysql2Scope = '@opentelemetry/instrumentation-mysql2';

interface Service extends StandaloneRun {
  url: string;
  database: TestDatabase;
}

interface LogLine {
  msg?: string;
  log?: string;
  req?: { path?: string };
  trace_id?: string;
  span_id?: string;
}

async function startService(
  dataDir: string,
  mail: ResendPeer,
  otel: Record<string, string>,
  options: { compiled?: boolean } = {},
): Promise<Service> {
  const configFile = path.join(dataDir, 'config.json');
  // No real DNS in a test (the MX check off) and a small proof of work for the bot check.
  await writeFile(configFile, JSON.stringify({ emailPolicy: { mxCheck: false }, botCheck: { maxNumber: 1000 } }));
  const database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
  const port = await freePort();
  const started = await startStandalone(
    {
      NODE_ENV: 'development',
      IAM_SECRET: randomBytes(32).toString('base64url'),
      DATABASE_URL: database.url,
      IAM_DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      RESEND_API_KEY: 're_test_key',
      RESEND_BASE_URL: mail.url,
      MAIL_FROM: 'IAM <no-reply@example.com>',
      IAM_CONFIG_FILE: configFile,
      // The proxy in front is the test itself, on loopback: X-Forwarded-For names the client.
      TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'info',
      // Short batches, and any metrics an SDK might export would go out at once too.
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      ...otel,
    },
    60_000,
    options,
  );
  return { ...started, database };
}

async function stopService(service: Service | undefined): Promise<void> {
  if (!service) return;
  await stopStandalone(service);
  await service.database.drop();
}

/** Sign-up, verification by the mailed code, then a password sign-in on the same device. */
async function signedInUser(service: Service, mail: ResendPeer) {
  const api: IamClient = createIamClient({
    url: `${service.url}/trpc`,
    cookieJar: createCookieJar(),
    headers: { 'user-agent': userAgent, 'x-forwarded-for': clientIp },
  });
  const email = uniqueEmail('traced');
  const password = `correct horse ${randomBytes(6).toString('hex')}`;
  const signup = await api.auth.signup.mutate({ email, password });
  const verified = await api.auth.verifyEmail.mutate({
    challengeId: signup.challengeId,
    code: codeFrom(await mail.waitFor((message) => message.to.includes(email))),
  });
  const login = authenticated(await api.auth.login.mutate({ email, password }));
  return { api, email, userId: verified.user.id, accessToken: login.accessToken };
}

function logLinesOf(service: Service): LogLine[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Every string an attribute, an event attribute, a status message or a resource attribute holds. */
function recordedStrings(spans: ReceivedSpan[]): string[] {
  const strings: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const span of spans) {
    collect(span.name);
    collect(span.attributes);
    collect(span.events);
    collect(span.status.message);
    collect(span.resource);
  }
  return strings;
}

describe.each([
  { mode: 'from the sources (tsx)', compiled: false },
  { mode: 'compiled (pnpm start)', compiled: true },
])('tracing with OTEL_EXPORTER_OTLP_ENDPOINT, $mode', ({ compiled }) => {
  let dataDir: string;
  let mail: ResendPeer;
  let collector: OtlpPeer;
  let service: Service | undefined;
  let user: Awaited<ReturnType<typeof signedInUser>>;
  let refreshSpan: ReceivedSpan;
  let trace: ReceivedSpan[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-tracing-'));
    mail = await startResendPeer();
    collector = await startOtlpPeer();
    service = await startService(dataDir, mail, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }, { compiled });
    user = await signedInUser(service, mail);
    await user.api.session.refresh.mutate();
    refreshSpan = await collector.waitFor((span) => span.name === 'trpc session.refresh');
    // The procedure's span ends last; its children were exported in the same batch or before.
    await collector.waitFor((span) => span.traceId === refreshSpan.traceId && span.name === 'session.rotate');
    trace = collector.spans.filter((span) => span.traceId === refreshSpan.traceId);
  });
  afterAll(async () => {
    await stopService(service);
    await collector?.close();
    await mail?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('exports JSON over OTLP/HTTP to /v1/traces, and nothing else (no metrics, no logs)', () => {
    expect(collector.requests.length).toBeGreaterThan(0);
    expect(new Set(collector.requests.map(({ method, path, contentType }) => `${method} ${path} ${contentType}`))).toEqual(
      new Set(['POST /v1/traces application/json']),
    );
    expect(refreshSpan.resource['service.name']).toBe('iam');
  });

  it('the refresh is one root server span, `trpc session.refresh`, with the procedure and its outcome', () => {
    expect(collector.spans.filter((span) => span.name === 'trpc session.refresh')).toHaveLength(1);
    expect(refreshSpan).toMatchObject({ parentSpanId: undefined, kind: serverKind, scope: 'iam' });
    expect(refreshSpan.attributes).toEqual({ 'rpc.system': 'trpc', 'rpc.method': 'session.refresh', 'iam.outcome': 'ok' });
    expect(trace.filter((span) => span.parentSpanId === undefined)).toEqual([refreshSpan]);
  });

  it('the rotation, the anomaly checks and the database queries are its descendants in the same trace', () => {
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    // Every parent is in the trace, and every chain of parents ends at the procedure's span.
    for (const span of trace) {
      let current: ReceivedSpan | undefined = span;
      for (let depth = 0; current?.parentSpanId !== undefined && depth < 20; depth++) current = byId.get(current.parentSpanId);
      expect(current, `${span.name} reaches the root`).toBe(refreshSpan);
    }
    const rotate = trace.find((span) => span.name === 'session.rotate');
    expect(rotate).toMatchObject({ parentSpanId: refreshSpan.spanId, attributes: { 'iam.rotation.outcome': 'rotated' } });
    const checks = trace.find((span) => span.name === 'anomaly.refresh');
    expect(checks).toMatchObject({ parentSpanId: rotate?.spanId, attributes: { 'iam.anomaly.decision': 'pass' } });

    const queries = trace.filter((span) => span.scope === mysql2Scope);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query).toMatchObject({ kind: clientKind, attributes: { 'db.system.name': 'mysql' } });
    // The presented token's row, read with its session, device and user by the token's hash,
    // then spent by a compare-and-set UPDATE that only an unspent token matches.
    const texts = queries
      .filter((query) => query.parentSpanId === rotate?.spanId)
      .map((query) => String(query.attributes['db.query.text']));
    expect(texts.find((text) => /^select /i.test(text))).toMatch(
      / from `refresh_tokens` inner join `sessions` .* where `refresh_tokens`.`token_hash` = \? limit \?$/is,
    );
    expect(texts.find((text) => /^\s*update /i.test(text))).toMatch(/`refresh_tokens`.`used_at` is null/i);
  });

  it('the password hash and verification have spans of their own, in the sign-up and sign-in traces', () => {
    const named = (name: string) => collector.spans.filter((span) => span.name === name);
    const [signup] = named('trpc auth.signup');
    const [login] = named('trpc auth.login');
    expect(named('password.hash').some((span) => span.traceId === signup?.traceId)).toBe(true);
    expect(named('password.verify').some((span) => span.traceId === login?.traceId)).toBe(true);
    expect(named('anomaly.signIn').some((span) => span.traceId === login?.traceId)).toBe(true);
    expect(named('mail.send').map((span) => span.attributes)).toContainEqual({
      'iam.mail.template': 'verify_email',
      'iam.mail.transport': 'resend',
    });
  });

  it('no span records personal data: no address, IP, user agent, user id or token', () => {
    const strings = recordedStrings(collector.spans).join('\n');
    expect(strings).toContain('session.refresh');
    for (const secret of [
      user.email,
      user.email.split('@')[0] ?? user.email,
      clientIp,
      userAgent,
      'marker-agent',
      user.userId,
      user.accessToken,
    ]) {
      expect(strings).not.toContain(secret);
    }
  });

  it("the refresh's access log line carries its trace id, and no other line claims that trace", async () => {
    const accessLines = () =>
      logLinesOf(service as Service).filter((line) => line.log === 'http' && line.req?.path === '/trpc/session.refresh');
    // The access line is written when the response has gone, and reaches the pipe a moment later.
    await expect.poll(() => accessLines().length, { timeout: 5_000 }).toBe(1);
    const lines = logLinesOf(service as Service);
    const access = accessLines();
    expect(access[0]).toMatchObject({ trace_id: refreshSpan.traceId, span_id: refreshSpan.spanId });
    expect(lines.filter((line) => line.trace_id === refreshSpan.traceId)).toEqual(access);
  });

  it("a line logged inside a procedure carries the span's ids", async () => {
    // A mail is sent inside `auth.signup`'s span: its "email sent" line names that trace.
    const [signup] = collector.spans.filter((span) => span.name === 'trpc auth.signup');
    const sent = logLinesOf(service as Service).find((line) => line.msg === 'email sent' && line.trace_id === signup?.traceId);
    expect(sent?.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(collector.spans.find((span) => span.spanId === sent?.span_id)?.name).toBe('mail.send');
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let dataDir: string;
  let mail: ResendPeer;
  let collector: OtlpPeer;
  let service: Service | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'iam-untraced-'));
    mail = await startResendPeer();
    collector = await startOtlpPeer();
    // Where an SDK started anyway would send its metrics and logs by default.
    service = await startService(dataDir, mail, {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${collector.url}/v1/metrics`,
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${collector.url}/v1/logs`,
    });
  });
  afterAll(async () => {
    await stopService(service);
    await collector?.close();
    await mail?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('nothing is exported and no log line carries a trace id', async () => {
    const user = await signedInUser(service as Service, mail);
    await expect(user.api.session.refresh.mutate()).resolves.toMatchObject({ status: 'authenticated' });
    // Many batch delays and metric intervals pass.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(collector.requests).toEqual([]);
    const lines = logLinesOf(service as Service);
    expect(lines.some((line) => line.req?.path === '/trpc/session.refresh')).toBe(true);
    expect(lines.filter((line) => line.trace_id !== undefined || line.span_id !== undefined)).toEqual([]);
  });
});
