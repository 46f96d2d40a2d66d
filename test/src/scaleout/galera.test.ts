import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { createAccessTokenStore, createIamClient, iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonce, postSigned } from '../bff/signed';
import { errorOf, post, type RawResponse, setCookies } from '../harness/http';
import { codeFrom, linkTokenFrom, type TestServer } from '../harness/server';
import { repoRoot, runStandalone } from '../harness/standalone';
import { stepUpByMail } from '../harness/stepUp';
import { type Device, hmacKey, journalLength, readiness, type ScaleOut, startScaleOut, until } from './cluster';

// Three compiled service instances, each on its own node of a three-node MariaDB Galera cluster
// (multi-primary: every node takes writes, conflicting transactions fail certification at
// COMMIT with a deadlock error), nginx round-robin in front, no Redis: the default set-up of an
// operator outgrowing one database server. The faults come last; each leaves the set-up whole.

let s: ScaleOut;
/** A fresh client address for each use: per-IP limits never meet across tests. */
let ipCounter = 0;
const nextIp = () => {
  ipCounter++;
  return `198.51.${100 + Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
};

beforeAll(async () => {
  s = await startScaleOut();
}, 300_000);

afterAll(async () => {
  await s?.stop();
});

/** `session.refresh` as a browser sends it, to one instance or the balancer. */
function refreshVia(url: string, cookies: { rt: string; cid: string }, ip: string): Promise<RawResponse> {
  return post(`${url}/trpc`, 'session.refresh', '{}', { cookie: `iam_rt=${cookies.rt}; iam_cid=${cookies.cid}`, 'x-forwarded-for': ip });
}

const successorOf = (response: RawResponse) => {
  const cookie = setCookies(response.headers).get('iam_rt');
  return cookie && !cookie.cleared ? cookie.value : undefined;
};

function cookiesOf(device: Device): { rt: string; cid: string } {
  const rt = device.jar.get('iam_rt');
  const cid = device.jar.get('iam_cid');
  if (!rt || !cid) throw new Error('the device holds no session cookies');
  return { rt, cid };
}

async function sessionRow(userId: string, node = 0) {
  const [rows] = await s
    .sql(node)
    .query<RowDataPacket[]>('SELECT id, revoked_at, revoked_reason FROM sessions WHERE user_id = ? ORDER BY created_at', [userId]);
  return rows as Array<{ id: string; revoked_at: Date | null; revoked_reason: string | null }>;
}

/** Codes that end a session: seeing one during a fault means a user was signed out. */
const sessionEnding = new Set(['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'SESSION_REVOKED', 'UNAUTHENTICATED']);

/**
 * Signed-in users refreshing and calling auth.me through nginx in a loop, as browsers do, each
 * retrying after a failure that ends nothing (a 502 from a lost connection, a 503).
 */
function startTraffic(devices: Device[]) {
  let running = true;
  const tally = { ok: 0, retried: 0, ended: [] as string[] };
  const loops = devices.map(async (device, index) => {
    await pause(index * 60);
    while (running) {
      try {
        const renewed = await device.api.session.refresh.mutate();
        if (renewed.status !== 'authenticated') throw new Error(`refresh ended ${renewed.status}`);
        await device.api.auth.me.query();
        tally.ok++;
        // refreshPerIp allows 120 a minute.
        await pause(600);
      } catch (error) {
        const code = iamCodeOf(error);
        if (code && sessionEnding.has(code)) tally.ended.push(`${device.ip}: ${code}`);
        if (!device.jar.get('iam_rt')) {
          tally.ended.push(`${device.ip}: cookies cleared after ${code ?? String(error).slice(0, 120)}`);
          return;
        }
        tally.retried++;
        await pause(150);
      }
    }
  });
  return {
    tally,
    async stop() {
      running = false;
      await Promise.all(loops);
      return tally;
    },
  };
}

/** Users signed up through nginx, each on its own device and address. */
async function signedInUsers(count: number) {
  const users: Array<{ device: Device; userId: string }> = [];
  for (let i = 0; i < count; i++) {
    const device = s.device(nextIp());
    const account = await s.signUp(device);
    users.push({ device, userId: account.userId });
  }
  return users;
}

/** Every user still signed in: no session revoked in the database, and a refresh and a call that work. */
async function expectAllSignedIn(users: Array<{ device: Device; userId: string }>) {
  for (const user of users) {
    const rows = await sessionRow(user.userId, 0);
    expect(rows.filter((row) => row.revoked_at !== null)).toEqual([]);
    expect((await user.device.api.session.refresh.mutate()).status).toBe('authenticated');
    expect((await user.device.api.auth.me.query()).id).toBe(user.userId);
  }
}

describe('three instances on a three-node Galera cluster behind nginx', () => {
  it('start together on three nodes, apply every migration once, and leave no table without a primary key', async () => {
    const expected = await journalLength();
    for (const node of [0, 1, 2]) {
      const [applied] = await s.sql(node).query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
      expect(Number(applied[0]?.n), `node ${node + 1}`).toBe(expected);
      const [claims] = await s.sql(node).query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM iam_migration_lock');
      expect(Number(claims[0]?.n)).toBe(0);
    }
    // Galera replicates InnoDB tables only, and a row it cannot name by a key it cannot certify.
    const [withoutKey] = await s.sql(0).query<RowDataPacket[]>(
      `SELECT t.table_name AS name, t.engine AS engine FROM information_schema.tables t
        LEFT JOIN information_schema.table_constraints c
          ON c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY'
        WHERE t.table_schema = 'iam' AND t.table_type = 'BASE TABLE' AND (c.constraint_name IS NULL OR t.engine <> 'InnoDB')`,
    );
    expect(withoutKey).toEqual([]);
    const [tables] = await s
      .sql(0)
      .query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'iam'");
    expect(Number(tables[0]?.n)).toBeGreaterThan(20);
    for (const instance of s.instances) expect(await readiness(instance.url)).toBe(200);
    expect(await s.galera.clusterSize(0)).toBe(3);
  });

  it('runs sign-up, sign-in, refresh and revoke through nginx, every call on whichever instance it reaches', async () => {
    const device = s.device(nextIp());
    const account = await s.signUp(device);
    expect((await device.api.auth.me.query()).email).toBe(account.email);
    await device.api.auth.logout.mutate();
    const accessToken = await s.signIn(device, account);
    // Every instance accepts the token, whichever signed it.
    for (const instance of s.instances) {
      const store = createAccessTokenStore();
      store.set(accessToken);
      const direct = createIamClient({ url: `${instance.url}/trpc`, accessToken: store });
      expect((await direct.auth.me.query()).id).toBe(account.userId);
    }
    const before = device.jar.get('iam_rt');
    for (let i = 0; i < 6; i++) expect((await device.api.session.refresh.mutate()).status).toBe('authenticated');
    expect(device.jar.get('iam_rt')).not.toBe(before);
    const sessions = await device.api.session.list.query();
    const current = sessions.find((session) => session.current);
    if (!current) throw new Error('no current session');
    await device.api.session.revoke.mutate({ sessionId: current.id });
    await expect(device.api.session.refresh.mutate()).rejects.toSatisfy((error) => iamCodeOf(error) === 'REFRESH_TOKEN_INVALID');
    const rows = await sessionRow(account.userId, 2);
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.revoked_at !== null)).toBe(true);
  });

  it('gives concurrent refreshes of one token on two nodes the same successor from one device, and revokes the family from two', async () => {
    const [first, second] = s.instances;
    if (!first || !second) throw new Error('two instances');
    const device = s.device(nextIp());
    const account = await s.signUp(device);
    // Ten rounds of two refreshes at once, one per node: certification lets one commit, the
    // other is retried whole and finds the token already rotated by the same device.
    let cookies = cookiesOf(device);
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all([refreshVia(first.url, cookies, device.ip), refreshVia(second.url, cookies, device.ip)]);
      for (const answer of answers) expect(answer.status, answer.text.slice(0, 300)).toBe(200);
      const successors = answers.map(successorOf);
      expect(successors[0]).toBeDefined();
      expect(successors[1]).toBe(successors[0]);
      cookies = { ...cookies, rt: successors[0] ?? '' };
    }
    const [live] = await s
      .sql(1)
      .query<RowDataPacket[]>(
        'SELECT COUNT(*) AS total, SUM(used_at IS NULL) AS live FROM refresh_tokens WHERE session_id = (SELECT id FROM sessions WHERE user_id = ?)',
        [account.userId],
      );
    expect({ total: Number(live[0]?.total), live: Number(live[0]?.live) }).toEqual({ total: 11, live: 1 });

    // The same token from another device at the same moment: nothing rotates for it. It is
    // challenged (its device is not the session's) when it reads the token before the owner's
    // rotation commits, and judged as reuse after.
    const otherDevice = 'A'.repeat(43);
    const racing = await Promise.all([
      refreshVia(first.url, cookies, device.ip),
      refreshVia(second.url, { ...cookies, cid: otherDevice }, device.ip),
    ]);
    expect(racing[0]?.status).toBe(200);
    expect(successorOf(racing[0] as RawResponse)).toBeDefined();
    const stranger = racing[1] as RawResponse;
    expect(successorOf(stranger)).toBeUndefined();
    if (stranger.status === 200) expect(JSON.parse(stranger.text).result.data.json.status).toBe('mfa_required');
    else expect(errorOf(stranger).iamCode).toBe('REFRESH_TOKEN_REUSED');
    cookies = { ...cookies, rt: successorOf(racing[0] as RawResponse) ?? '' };
    if (stranger.status === 200) {
      // Then the owner refreshes on one node and the stranger presents the spent token on another.
      const owner = await refreshVia(first.url, cookies, device.ip);
      expect(owner.status).toBe(200);
      const reused = await refreshVia(second.url, { ...cookies, cid: otherDevice }, device.ip);
      expect(reused.status).toBe(401);
      expect(errorOf(reused).iamCode).toBe('REFRESH_TOKEN_REUSED');
      cookies = { ...cookies, rt: successorOf(owner) ?? '' };
    }
    // The family is revoked: on every node, and the owner's newest token too.
    for (const node of [0, 1, 2]) {
      const [session] = await until(
        () => sessionRow(account.userId, node),
        (rows) => rows[0]?.revoked_at !== null,
        2_000,
      );
      expect(session?.revoked_reason).toBe('refresh_reuse');
    }
    const after = await refreshVia(s.nginx.url, cookies, device.ip);
    expect(after.status).toBe(401);
  });

  it('counts failed sign-ins exactly once across the three nodes, even all at once', async () => {
    const account = await s.signUp(s.device(nextIp()));
    const ip = nextIp();
    // Twelve wrong passwords at once, four on each instance: five are judged, the rest refused.
    const attempts = s.instances.flatMap((instance) =>
      Array.from({ length: 4 }, (_, i) =>
        s
          .device(ip, instance.url)
          .api.auth.login.mutate({ email: account.email, password: `wrong ${instance.index} ${i}` })
          .then(
            () => 'signed in',
            (error: unknown) => iamCodeOf(error) ?? String(error),
          ),
      ),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((outcome) => outcome === 'INVALID_CREDENTIALS')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome === 'RATE_LIMITED')).toHaveLength(7);
    // The right password is refused now on every instance.
    for (const instance of s.instances)
      await expect(
        s.device(ip, instance.url).api.auth.login.mutate({ email: account.email, password: account.password }),
      ).rejects.toSatisfy((error) => iamCodeOf(error) === 'RATE_LIMITED');
  });

  it('counts sign-ups from one address exactly once across the three nodes', async () => {
    const ip = nextIp();
    const attempts = s.instances.flatMap((instance) =>
      Array.from({ length: 3 }, (_, i) =>
        s
          .device(ip, instance.url)
          .api.auth.signup.mutate({ email: `many.${instance.index}.${i}.${Date.now()}@example.com`, password: 'correct horse battery 42' })
          .then(
            () => 'accepted',
            (error: unknown) => iamCodeOf(error) ?? String(error),
          ),
      ),
    );
    const outcomes = await Promise.all(attempts);
    // signupPerIp: five an hour.
    expect(outcomes.filter((outcome) => outcome === 'accepted')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome === 'RATE_LIMITED')).toHaveLength(4);
  });

  it('accepts an HMAC nonce once across the three nodes, even sent to all at once', async () => {
    const account = await s.signUp(s.device(nextIp()));
    const clock = { now: () => new Date() };
    for (let round = 0; round < 10; round++) {
      const once = nonce();
      const answers = await Promise.all(
        s.instances.map((instance) =>
          postSigned(
            { url: instance.url, clock },
            '/trpc/bff.introspect',
            { accessToken: account.accessToken },
            { nonce: once, key: hmacKey },
          ),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401]);
      for (const answer of answers.filter((candidate) => candidate.status === 401)) expect(errorOf(answer).iamCode).toBe('HMAC_REPLAY');
    }
    const [rows] = await s.sql(2).query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM hmac_nonces WHERE key_id = ?', [hmacKey.id]);
    expect(Number(rows[0]?.n)).toBe(10);
  });

  it('rotates signing keys from three nodes at once under a lock row, never GET_LOCK', async () => {
    const [before] = await s.sql(0).query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM signing_keys');
    const runs = s.instances.map((instance) => runStandalone('cli.ts', instance.env, ['rotate-keys'], { compiled: true }));
    const codes = await Promise.all(runs.map((run) => run.exited));
    expect(codes, runs.map((run) => run.output()).join('\n')).toEqual([0, 0, 0]);
    const [after] = await s.sql(1).query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM signing_keys');
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n) + 3);
    const [locks] = await s.sql(2).query<RowDataPacket[]>("SELECT name FROM service_locks WHERE name LIKE '%key%'");
    expect(locks.length).toBeGreaterThan(0);
    // A token signed after the rotations is accepted by every instance.
    const device = s.device(nextIp());
    const account = await s.signUp(device);
    for (const instance of s.instances) {
      const store = createAccessTokenStore();
      store.set(account.accessToken);
      expect((await createIamClient({ url: `${instance.url}/trpc`, accessToken: store }).auth.me.query()).id).toBe(account.userId);
    }
    // The compiled service asks for no named lock anywhere: the cluster would not replicate it.
    const compiled = await compiledSources(path.join(repoRoot, 'server/dist'));
    expect(compiled.filter((file) => /GET_LOCK\s*\(/i.test(file.text)).map((file) => file.name)).toEqual([]);
  });

  it('refuses a session signed out on one instance on the others within a second, without Redis', async () => {
    const account = await s.signUp(s.device(nextIp()));
    const delays: number[] = [];
    const logoutTimes: number[] = [];
    for (let sample = 0; sample < 15; sample++) {
      const home = s.instances[sample % 3];
      if (!home) throw new Error('no instance');
      const device = s.device(nextIp(), home.url);
      const accessToken = await s.signIn(device, account);
      const others = s.instances.filter((instance) => instance !== home);
      const clients = others.map((instance) => {
        const store = createAccessTokenStore();
        store.set(accessToken);
        return createIamClient({ url: `${instance.url}/trpc`, accessToken: store });
      });
      for (const client of clients) expect((await client.auth.me.query()).id).toBe(account.userId);
      await pause(Math.random() * 1_000);
      const signedOutAt = performance.now();
      await device.api.auth.logout.mutate();
      logoutTimes.push(performance.now() - signedOutAt);
      await Promise.all(
        clients.map(async (client) => {
          for (;;) {
            const code = await client.auth.me.query().then(() => 'accepted', iamCodeOf);
            if (code !== 'accepted') {
              expect(code).toBe('SESSION_REVOKED');
              delays.push(performance.now() - signedOutAt);
              return;
            }
            if (performance.now() - signedOutAt > 5_000) throw new Error('still accepted after 5 s');
            await pause(10);
          }
        }),
      );
    }
    delays.sort((a, b) => a - b);
    const at = (q: number) => Math.round(delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0);
    const report = { samples: delays.length, p50: at(0.5), p95: at(0.95), max: Math.round(delays.at(-1) ?? 0) };
    const logout = Math.round(logoutTimes.sort((a, b) => a - b)[Math.floor(logoutTimes.length / 2)] ?? 0);
    process.stdout.write(
      `revocation delay across instances without Redis (ms, from the logout call): ${JSON.stringify({ ...report, logoutP50: logout })}\n`,
    );
    expect(report.samples).toBe(30);
    expect(report.max).toBeLessThan(1_000);
  });

  it('never leaves a live session to an account disabled on one node while it signs in on another', async () => {
    const [first, , third] = s.instances;
    if (!first || !third) throw new Error('three instances');
    const adminDevice = s.device(nextIp(), first.url);
    const admin = await s.signUp(adminDevice);
    const granted = runStandalone('cli.ts', first.env, ['create-admin', admin.email], { compiled: true });
    expect(await granted.exited, granted.output()).toBe(0);
    // Ten rounds: the admin's step-ups are limited to ten in ten minutes.
    for (let round = 0; round < 10; round++) {
      const victim = await s.signUp(s.device(nextIp(), third.url));
      // A sign-in from another browser: after the password, the mailed code opens the session.
      const stranger = s.device(nextIp(), third.url);
      const mailsBefore = s.mail.messages.length;
      const challenge = await stranger.api.auth.login.mutate({ email: victim.email, password: victim.password });
      if (challenge.status !== 'mfa_required') throw new Error(`expected a challenge, got ${challenge.status}`);
      const codeMail = await s.mail.waitFor(
        (message) =>
          s.mail.messages.indexOf(message) >= mailsBefore && message.to.includes(victim.email) && message.tags.template === 'login_code',
      );
      const stepUpToken = await stepUpByMail({ mail: s.mail } as unknown as TestServer, adminDevice, 'admin');
      // The code and the disable at nearly the same moment, on two nodes; the disable a little
      // later each round, so some rounds meet the session's transaction.
      const [signedIn] = await Promise.all([
        stranger.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: codeFrom(codeMail) }).then(
          (result) => result.status,
          (error: unknown) => iamCodeOf(error) ?? String(error),
        ),
        pause(round * 2).then(() => adminDevice.api.admin.users.disable.mutate({ userId: victim.userId, reason: 'race', stepUpToken })),
      ]);
      expect(['authenticated', 'USER_DISABLED']).toContain(signedIn);
      // On every node once it has applied what the cluster committed (a node applies the others'
      // writes a moment after they commit).
      for (const node of [0, 1, 2]) {
        const live = await until(
          async () => {
            const [rows] = await s
              .sql(node)
              .query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [victim.userId]);
            return Number(rows[0]?.n);
          },
          (count) => count === 0,
          2_000,
        );
        expect(live, `round ${round}, node ${node + 1}: ${signedIn}`).toBe(0);
      }
    }
  });

  it('never lets two API keys created at once on two nodes pass the per-user cap', async () => {
    const [first, second] = s.instances;
    if (!first || !second) throw new Error('three instances');
    const owner = s.device(nextIp(), first.url);
    const account = await s.signUp(owner);
    const onSecond = s.device(owner.ip, second.url);
    onSecond.jar.store({ headers: new Headers([['set-cookie', `iam_cid=${cookiesOf(owner).cid}; Path=/`]]) } as Response);
    await s.signIn(onSecond, account);
    // 49 live keys, seeded (the cap is 50; creating them through the API would pass its own limit).
    const seeded = Array.from({ length: 49 }, (_, i) => [
      `apk_seed${i}${account.userId.slice(-8)}`,
      account.userId,
      `seed ${i}`,
      'iam_seed',
      randomBytes(32).toString('hex'),
      '[]',
    ]);
    await s
      .sql(0)
      .query('INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at) VALUES ?', [
        seeded.map((row) => [...row, new Date()]),
      ]);
    for (let round = 0; round < 6; round++) {
      const outcomes = await Promise.all(
        [owner, onSecond].map((device, i) =>
          device.api.apiKeys.create.mutate({ name: `race ${round} ${i}`, scopes: [] }).then(
            () => 'created',
            (error: unknown) => iamCodeOf(error) ?? String(error),
          ),
        ),
      );
      expect(outcomes.sort(), `round ${round}`).toEqual(['API_KEY_LIMIT_REACHED', 'created']);
      const live = await until(
        async () => {
          const [rows] = await s
            .sql(2)
            .query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL', [account.userId]);
          return Number(rows[0]?.n);
        },
        (count) => count === 50,
        2_000,
      );
      expect(live).toBe(50);
      // Back to 49 for the next round.
      await s
        .sql(0)
        .query("UPDATE api_keys SET revoked_at = NOW(3) WHERE user_id = ? AND name LIKE 'race %' AND revoked_at IS NULL", [account.userId]);
    }
  });

  it('never leaves an organization two owners when its owner transfers it twice at once on two nodes', async () => {
    const [first, second] = s.instances;
    if (!first || !second) throw new Error('three instances');
    const owner = s.device(nextIp(), first.url);
    const account = await s.signUp(owner);
    // The same session, reached through the second instance as well.
    const store = createAccessTokenStore();
    store.set(account.accessToken);
    const ownerOnSecond = createIamClient({ url: `${second.url}/trpc`, accessToken: store });
    const stepUp = () => stepUpByMail({ mail: s.mail } as unknown as TestServer, owner, 'org_ownership');
    for (let round = 0; round < 3; round++) {
      const { organization } = await owner.api.org.create.mutate({ name: `Race ${round} ${account.userId.slice(-6)}` });
      const heirs: string[] = [];
      for (let i = 0; i < 2; i++) {
        const heir = s.device(nextIp(), first.url);
        const heirAccount = await s.signUp(heir);
        const mailsBefore = s.mail.messages.length;
        await owner.api.org.invite.mutate({ organizationId: organization.id, email: heirAccount.email, role: 'member' });
        const mail = await s.mail.waitFor(
          (message) =>
            s.mail.messages.indexOf(message) >= mailsBefore &&
            message.to.includes(heirAccount.email) &&
            message.tags.template === 'org_invitation',
        );
        await heir.api.org.acceptInvitation.mutate({ token: linkTokenFrom(mail) });
        heirs.push(heirAccount.userId);
      }
      const tokens = [await stepUp(), await stepUp()];
      const outcomes = await Promise.all(
        [owner.api, ownerOnSecond].map((api, i) =>
          api.org.transferOwnership.mutate({ organizationId: organization.id, userId: heirs[i] ?? '', stepUpToken: tokens[i] }).then(
            () => 'transferred',
            (error: unknown) => iamCodeOf(error) ?? String(error),
          ),
        ),
      );
      expect(
        outcomes.filter((outcome) => outcome === 'transferred'),
        `round ${round}: ${outcomes}`,
      ).toHaveLength(1);
      for (const node of [0, 1, 2]) {
        const owners = await until(
          async () => {
            const [rows] = await s
              .sql(node)
              .query<RowDataPacket[]>("SELECT user_id FROM organization_members WHERE organization_id = ? AND role = 'owner'", [
                organization.id,
              ]);
            return rows.map((row) => row.user_id as string);
          },
          (found) => found.length === 1 && found[0] !== account.userId,
          2_000,
        );
        expect(owners, `round ${round}, node ${node + 1}`).toHaveLength(1);
        expect(heirs).toContain(owners[0]);
      }
    }
  });

  it('routes around an instance whose database node is in maintenance (rejecting queries), and uses it again after', async () => {
    const third = s.instances[2];
    if (!third) throw new Error('three instances');
    const admin = s.sql(2);
    await admin.query('SET GLOBAL wsrep_reject_queries = ALL');
    try {
      expect(
        await until(
          () => readiness(third.url),
          (status) => status === 503,
          5_000,
        ),
      ).toBe(503);
      // A call that reaches it is refused as unavailable (retry), not an internal error.
      const refused = await post(
        `${third.url}/trpc`,
        'auth.signup',
        JSON.stringify({ json: { email: 'x@example.com', password: 'correct horse battery 9' } }),
        {
          'x-forwarded-for': nextIp(),
        },
      );
      expect(refused.status).toBe(503);
      expect(errorOf(refused).iamCode).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await admin.query('SET GLOBAL wsrep_reject_queries = NONE');
    }
    expect(
      await until(
        () => readiness(third.url),
        (status) => status === 200,
        10_000,
      ),
    ).toBe(200);
  });

  it('keeps every user signed in when a database node is killed mid-traffic: its instance answers 503 on /readyz, nginx routes around it, and it serves again once the node rejoins', async () => {
    const third = s.instances[2];
    if (!third) throw new Error('three instances');
    const users = await signedInUsers(6);
    const traffic = startTraffic(users.map((user) => user.device));
    await pause(2_000);
    const beforeKill = traffic.tally.ok;
    expect(beforeKill).toBeGreaterThan(0);

    await s.galera.kill(2);
    expect(
      await until(
        () => readiness(third.url),
        (status) => status === 503,
        10_000,
      ),
    ).toBe(503);
    await s.galera.waitForSize(0, 2, 15_000);
    const atKill = traffic.tally.ok;
    await pause(5_000);
    // The two other instances carried the traffic while the node was down.
    expect(traffic.tally.ok - atKill).toBeGreaterThan(10);

    await s.galera.restart(2);
    await s.galera.waitForSize(0, 3, 60_000);
    expect(
      await until(
        () => readiness(third.url),
        (status) => status === 200,
        30_000,
      ),
    ).toBe(200);
    // And the instance serves again on its own node: a sign-in there, and a refresh of a
    // session rotated on the other nodes while it was away.
    const direct = s.device(nextIp(), third.url);
    const account = await s.signUp(direct);
    expect((await direct.api.auth.me.query()).id).toBe(account.userId);
    const tally = await traffic.stop();
    expect(tally.ended).toEqual([]);
    await expectAllSignedIn(users);
    const moved = users[0];
    if (!moved) throw new Error('no user');
    const cookies = cookiesOf(moved.device);
    const onThird = await refreshVia(third.url, cookies, moved.device.ip);
    expect(onThird.status, onThird.text.slice(0, 300)).toBe(200);
  });

  it('lets clients carry on through the other instances when one is killed with SIGKILL mid-rotation', async () => {
    const second = s.instances[1];
    if (!second) throw new Error('three instances');
    const users = await signedInUsers(8);
    const traffic = startTraffic(users.map((user) => user.device));
    await pause(2_500);
    await second.kill();
    expect(second.running()).toBe(false);
    const atKill = traffic.tally.ok;
    await pause(5_000);
    expect(traffic.tally.ok - atKill).toBeGreaterThan(10);
    const tally = await traffic.stop();
    // Refreshes whose answer was lost with the process were retried on another instance with the
    // token the client held: the grace window gave them the same successor.
    expect(tally.ended).toEqual([]);
    await expectAllSignedIn(users);
    const [reused] = await s
      .sql(0)
      .query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM audit_events WHERE type = 'session.refresh_reused' AND user_id IN (?)", [
        users.map((user) => user.userId),
      ]);
    expect(Number(reused[0]?.n)).toBe(0);
    await second.start();
    expect(
      await until(
        () => readiness(second.url),
        (status) => status === 200,
        30_000,
      ),
    ).toBe(200);
  });
});

async function compiledSources(dir: string): Promise<Array<{ name: string; text: string }>> {
  const files: Array<{ name: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) {
      const full = path.join(entry.parentPath, entry.name);
      files.push({ name: path.relative(dir, full), text: await readFile(full, 'utf8') });
    }
  }
  return files;
}
