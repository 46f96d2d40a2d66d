import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCookieJar, createIamClient } from '@iam/client';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { createOutsideProject, type PackedPackages, packPackages, runIn } from '../harness/packages';
import { codeFrom, uniqueEmail } from '../harness/server';
import { freePort, repoRoot, type StandaloneRun, startStandalone, stopStandalone } from '../harness/standalone';
import { type ResendPeer, startResendPeer } from '../peers/resend';

// The product as a project outside this repository gets it: the packages built and packed as a
// registry would serve them, installed from the tarballs into a project with its own package.json
// and tsconfig, type-checked there, and run against the compiled service `pnpm start` runs.

const run = promisify(execFile);
const catalogVersion = async (name: string) => {
  const workspace = await readFile(path.join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
  const match = new RegExp(`^\\s+"?${name.replace('/', '\\/')}"?: (\\S+)$`, 'm').exec(workspace);
  if (!match?.[1]) throw new Error(`${name} is not in the catalog`);
  return match[1];
};

/** A frontend's own strict settings: ES modules as Node resolves them, no Node types, library declarations checked too. */
const frontendTsconfig = (files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      // ESNext.Disposable: tRPC's own declarations name `Disposable`.
      lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: false,
      types: [],
      outDir: 'out',
    },
    files,
  });

/** A backend's settings: Node's module resolution and types; libraries' declarations trusted, as most backends do. */
const backendTsconfig = JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    types: ['node'],
    outDir: 'out',
  },
  files: ['host.ts'],
});

const frontendScript = `import { createCookieJar, createIamClient, iamCodeOf, type RouterInputs, type RouterOutputs } from '@iam/client';

type IsAny<T> = 0 extends 1 & T ? true : false;
// The router's types arrive with the client: neither inputs nor outputs are \`any\`.
export const loginInputIsTyped: IsAny<RouterInputs['auth']['login']> = false;
export const meOutputIsTyped: IsAny<RouterOutputs['auth']['me']> = false;
export const emailIsAString: RouterOutputs['auth']['me']['email'] extends string ? true : false = true;

const [, , step, url, ...rest] = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const api = createIamClient({ url: \`\${url}/trpc\`, cookieJar: createCookieJar() });

async function main(): Promise<unknown> {
  if (step === 'signup') {
    const [email, password] = rest as [string, string];
    const input: RouterInputs['auth']['signup'] = { email, password };
    return api.auth.signup.mutate(input);
  }
  // Another process, so another browser: the code and the password prove the owner.
  const [challengeId, code, email, password] = rest as [string, string, string, string];
  const verified = await api.auth.verifyEmail.mutate({ challengeId, code, password });
  const me: RouterOutputs['auth']['me'] = await api.auth.me.query();
  const refused = await api.auth.login.mutate({ email, password: 'not the password at all' }).then(
    () => 'signed in',
    (error: unknown) => iamCodeOf(error),
  );
  return { status: verified.status, email: me.email, emailVerified: me.emailVerified, refused };
}

main().then((result) => console.log(JSON.stringify(result)));
`;

const wrongShape = `import { createIamClient } from '@iam/client';

const api = createIamClient({ url: 'http://localhost/trpc' });
// A misspelt field: this must not compile.
export const attempt = api.auth.login.mutate({ email: 'someone@example.com', passwrd: 'x' });
`;

const hostApp = `import { createIamServer } from '@iam/server';
import express from 'express';

// A host app of its own: the service mounted under /auth beside the app's routes, one of them guarded.
const [port, databaseUrl, mailUrl, dataDir, secret] = process.argv.slice(2) as [string, string, string, string, string];
const iam = await createIamServer({
  publicUrl: \`http://localhost:\${port}/auth\`,
  secret,
  databaseUrl,
  dataDir,
  mail: { resendApiKey: 're_test_key', resendBaseUrl: mailUrl, from: 'Host <no-reply@example.com>' },
  emailPolicy: { mxCheck: false },
  hibpApiUrl: 'off',
  botCheck: { maxNumber: 1000 },
});
const app = express();
app.use('/auth', iam.app);
app.get('/api/profile', iam.requireAuth(), (_req, res) => {
  res.json({ userId: res.locals.iam?.userId ?? null, host: true });
});
const server = app.listen(Number(port), '127.0.0.1', () => console.log('host app listening'));
process.once('SIGTERM', () => {
  server.close();
  void iam.close();
});
`;

describe('the published packages, installed outside the repository', () => {
  let workDir: string;
  let packages: PackedPackages;
  let frontendDir: string;
  let database: TestDatabase | undefined;
  let mail: ResendPeer | undefined;
  let service: (StandaloneRun & { url: string }) | undefined;
  let hostDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'iam-outside-'));
    const tarballs = path.join(workDir, 'tarballs');
    await mkdir(tarballs);
    packages = await packPackages(tarballs);

    frontendDir = path.join(workDir, 'frontend');
    await mkdir(frontendDir);
    await createOutsideProject(frontendDir, {
      packages,
      // Only the client: its own dependencies come with it.
      dependencies: { '@iam/client': `file:${packages['@iam/client']}` },
      devDependencies: { typescript: await catalogVersion('typescript') },
      files: {
        'tsconfig.json': frontendTsconfig(['main.ts']),
        'tsconfig.wrong.json': frontendTsconfig(['wrong.ts']),
        'main.ts': frontendScript,
        'wrong.ts': wrongShape,
      },
    });

    hostDir = path.join(workDir, 'host');
    await mkdir(hostDir);
    await createOutsideProject(hostDir, {
      packages,
      dependencies: { '@iam/server': `file:${packages['@iam/server']}`, express: await catalogVersion('express') },
      devDependencies: {
        typescript: await catalogVersion('typescript'),
        '@types/express': await catalogVersion('@types/express'),
        '@types/node': await catalogVersion('@types/node'),
      },
      onlyBuiltDependencies: ['argon2'],
      files: { 'tsconfig.json': backendTsconfig, 'host.ts': hostApp },
    });

    database = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    mail = await startResendPeer();
    const configFile = path.join(workDir, 'config.json');
    await writeFile(configFile, JSON.stringify({ emailPolicy: { mxCheck: false }, botCheck: { maxNumber: 1000 } }));
    const port = await freePort();
    service = await startStandalone(
      {
        NODE_ENV: 'production',
        IAM_SECRET: randomBytes(32).toString('base64url'),
        DATABASE_URL: database.url,
        IAM_DATA_DIR: path.join(workDir, 'data'),
        PORT: String(port),
        PUBLIC_URL: `http://localhost:${port}`,
        RESEND_API_KEY: 're_test_key',
        RESEND_BASE_URL: mail.url,
        MAIL_FROM: 'IAM <no-reply@example.com>',
        IAM_CONFIG_FILE: configFile,
        LOG_LEVEL: 'warn',
      },
      60_000,
      { compiled: true },
    );
  }, 600_000);

  afterAll(async () => {
    await stopStandalone(service);
    await mail?.close();
    await database?.drop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('each tarball holds the compiled code, declarations and licence, no sources, and resolvable dependency ranges', async () => {
    for (const [name, tarball] of Object.entries(packages)) {
      const { stdout } = await run('tar', ['-tzf', tarball]);
      const files = stdout.split('\n').filter(Boolean);
      expect(files, name).toContain('package/dist/index.js');
      expect(files, name).toContain('package/dist/index.d.ts');
      expect(files, name).toContain('package/LICENSE');
      expect(files, name).toContain('package/README.md');
      expect(
        files.filter((file) => file.startsWith('package/src/')),
        name,
      ).toEqual([]);
      const { stdout: manifestText } = await run('tar', ['-xzOf', tarball, 'package/package.json']);
      const manifest = JSON.parse(manifestText) as {
        exports: Record<string, unknown>;
        dependencies?: Record<string, string>;
        private?: boolean;
      };
      expect(manifest.private, name).toBeUndefined();
      expect(manifest.exports['.'], name).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        expect(range, `${name} → ${dependency}`).not.toMatch(/^(workspace|catalog):/);
      }
    }
    const { stdout: serverFiles } = await run('tar', ['-tzf', packages['@iam/server']]);
    expect(serverFiles).toContain('package/NOTICE');
    expect(serverFiles).toContain('package/dist/drizzle/meta/_journal.json');
    expect(serverFiles).toContain('package/dist/console/index.html');
    const { stdout: clientFiles } = await run('tar', ['-tzf', packages['@iam/client']]);
    expect(clientFiles).toContain('package/dist/appRouter.d.ts');
  });

  it('a project with only the client installed type-checks typed calls, and refuses a wrong input shape', async () => {
    const installed = JSON.parse(await readFile(path.join(frontendDir, 'node_modules/@iam/client/package.json'), 'utf8')) as {
      name: string;
    };
    expect(installed.name).toBe('@iam/client');
    // The server is not there: the types come from the client's own declarations.
    await expect(readFile(path.join(frontendDir, 'node_modules/@iam/server/package.json'))).rejects.toThrow();

    const good = await runIn(frontendDir, 'node_modules/.bin/tsc', ['-p', 'tsconfig.json']);
    expect(good.output).toBe('');
    expect(good.code).toBe(0);

    const wrong = await runIn(frontendDir, 'node_modules/.bin/tsc', ['-p', 'tsconfig.wrong.json']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/wrong\.ts\(\d+,\d+\): error TS\d+: .*passwrd/);
  });

  it('the compiled client calls the compiled service: sign-up, verification by the mailed code, me, and a typed refusal', async () => {
    if (!service || !mail) throw new Error('the service did not start');
    const email = uniqueEmail('outside');
    const signUp = await runIn(frontendDir, 'node', ['out/main.js', 'signup', service.url, email, 'a long enough passphrase']);
    expect(signUp.code, signUp.output).toBe(0);
    const signedUp = JSON.parse(signUp.output) as { status: string; challengeId: string };
    expect(signedUp.status).toBe('verification_required');

    const message = await mail.waitFor((candidate) => candidate.to.includes(email));
    const verify = await runIn(frontendDir, 'node', [
      'out/main.js',
      'verify',
      service.url,
      signedUp.challengeId,
      codeFrom(message),
      email,
      'a long enough passphrase',
    ]);
    expect(verify.code, verify.output).toBe(0);
    expect(JSON.parse(verify.output)).toEqual({ status: 'authenticated', email, emailVerified: true, refused: 'INVALID_CREDENTIALS' });

    if (!database) throw new Error('no database');
    const sql = await mysql.createConnection({ uri: database.url, timezone: 'Z' });
    try {
      const [rows] = await sql.query<mysql.RowDataPacket[]>('SELECT email_verified_at FROM users WHERE email = ?', [email]);
      expect(rows[0]?.email_verified_at).toBeInstanceOf(Date);
    } finally {
      await sql.end();
    }
  });

  it('a host app outside the repository mounts the installed server package, type-checks, migrates its own database and guards its routes', async () => {
    if (!mail) throw new Error('no mail peer');
    const compiled = await runIn(hostDir, 'node_modules/.bin/tsc', ['-p', 'tsconfig.json']);
    expect(compiled.output).toBe('');
    expect(compiled.code).toBe(0);

    const hostDatabase = await createTestDatabase(inject('iamDatabaseAdminUrl'));
    const port = await freePort();
    const host = spawn(
      process.execPath,
      ['out/host.js', String(port), hostDatabase.url, mail.url, path.join(workDir, 'host-data'), randomBytes(32).toString('base64url')],
      {
        cwd: hostDir,
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    host.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    host.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('host app listening')) {
        if (host.exitCode !== null || Date.now() > deadline) throw new Error(`the host app did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/api/profile`)).status).toBe(401);
      // The console ships inside the package and is served under the host's mount path.
      const consolePage = await fetch(`${url}/auth/console/`);
      expect(consolePage.status).toBe(200);
      expect(await consolePage.text()).toContain('<base href="/auth/console/">');

      const api = createIamClient({ url: `${url}/auth/trpc`, cookieJar: createCookieJar() });
      const email = uniqueEmail('host');
      const started = await api.auth.signup.mutate({ email, password: 'a long enough passphrase' });
      const message = await mail.waitFor((candidate) => candidate.to.includes(email));
      const verified = await api.auth.verifyEmail.mutate({ challengeId: started.challengeId, code: codeFrom(message) });
      expect(verified.status).toBe('authenticated');
      if (verified.status !== 'authenticated') throw new Error('not signed in');

      const profile = await fetch(`${url}/api/profile`, { headers: { authorization: `Bearer ${verified.accessToken}` } });
      expect(profile.status).toBe(200);
      expect(await profile.json()).toEqual({ userId: verified.user.id, host: true });
      // The package's own migrations built the host's database.
      const sql = await mysql.createConnection({ uri: hostDatabase.url, timezone: 'Z' });
      try {
        const [rows] = await sql.query<mysql.RowDataPacket[]>('SELECT id FROM users WHERE email = ?', [email]);
        expect(rows.map((row) => row.id)).toEqual([verified.user.id]);
      } finally {
        await sql.end();
      }
    } finally {
      host.kill('SIGTERM');
      await new Promise((resolve) => (host.exitCode === null ? host.once('exit', resolve) : resolve(null)));
      await hostDatabase.drop();
    }
  });
});
