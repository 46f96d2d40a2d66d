import { createHash, randomBytes } from 'node:crypto';
// The server package exposes only its root; this test exercises one module behind it.
import { createPasswordPolicy, type PasswordPolicyOptions } from '@iam/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PwnedPeer, startPwnedPasswordsPeer } from '../peers/pwnedPasswords';

const tooWeak = { name: 'IamError', code: 'PASSWORD_TOO_WEAK' };
const breached = { name: 'IamError', code: 'PASSWORD_BREACHED' };

// In the peer's corpus and not on the offline list: only the online check can refuse it.
const breachedPassword = 'Tr0ub4dor&3';
const strongPassphrase = 'correct horse battery staple 42';

function sha1(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();
}

/** Keeps every log call so that a test can prove what never reaches the logs. */
function recordingLogger() {
  const calls: Array<{ level: string; args: unknown[] }> = [];
  const at =
    (level: string) =>
    (...args: unknown[]) => {
      calls.push({ level, args });
    };
  const logger = { info: at('info'), warn: at('warn') };
  // The policy only calls the level methods; a full pino instance would add nothing here.
  return { calls, logger: logger as unknown as PasswordPolicyOptions['logger'] };
}

let hibp: PwnedPeer;

beforeAll(async () => {
  hibp = await startPwnedPasswordsPeer([breachedPassword]);
});

afterAll(async () => {
  await hibp.close();
});

beforeEach(() => {
  hibp.setDown('ok');
  hibp.requests.length = 0;
});

function policy(overrides: Partial<PasswordPolicyOptions> = {}) {
  const log = recordingLogger();
  const unavailable = { count: 0 };
  const passwordPolicy = createPasswordPolicy({
    minLength: 8,
    maxLength: 256,
    productName: 'Acme Identity',
    hibpApiUrl: hibp.url,
    timeoutInMs: 300,
    logger: log.logger,
    onBreachCheckUnavailable: () => {
      unavailable.count += 1;
    },
    ...overrides,
  });
  return { ...log, unavailable, policy: passwordPolicy };
}

describe('length (NIST SP 800-63B §5.1.1.2)', () => {
  it('refuses fewer than 8 characters', async () => {
    await expect(policy().policy.check('x7#kQ9!')).rejects.toMatchObject({ ...tooWeak, message: 'Use at least 8 characters.' });
  });

  it('refuses more than 256 characters and accepts exactly 256', async () => {
    const { policy: passwordPolicy } = policy({ hibpApiUrl: null });
    const long = randomBytes(256).toString('base64').slice(0, 257);
    await expect(passwordPolicy.check(long)).rejects.toMatchObject({ ...tooWeak, message: 'Use at most 256 characters.' });
    await expect(passwordPolicy.check(long.slice(0, 256))).resolves.toEqual({ breachCheck: 'skipped' });
  });

  it('counts code points, not UTF-16 units', async () => {
    const { policy: passwordPolicy } = policy({ hibpApiUrl: null });
    // Each emoji is one code point and two UTF-16 units.
    const eight = '🔑🐙🌵🎲🧭🪁🦉🍋';
    expect(eight.length).toBe(16);
    await expect(passwordPolicy.check(eight)).resolves.toEqual({ breachCheck: 'skipped' });
    await expect(passwordPolicy.check(Array.from(eight).slice(0, 7).join(''))).rejects.toMatchObject({
      ...tooWeak,
      message: 'Use at least 8 characters.',
    });
    // Eight code points long enough, but one repeated key.
    await expect(passwordPolicy.check('🔑'.repeat(8))).rejects.toMatchObject({
      ...tooWeak,
      message: 'Avoid repeated or sequential characters.',
    });
  });

  it('measures the NFKC form', async () => {
    const { policy: passwordPolicy } = policy({ hibpApiUrl: null, maxLength: 10 });
    // U+FDFA is one code point that NFKC expands to 18.
    await expect(passwordPolicy.check('\uFDFAab')).rejects.toMatchObject({ ...tooWeak, message: 'Use at most 10 characters.' });
  });

  it('imposes no composition rules', async () => {
    const { policy: passwordPolicy } = policy({ hibpApiUrl: null });
    await expect(passwordPolicy.check('plain lowercase words only')).resolves.toEqual({ breachCheck: 'skipped' });
  });
});

describe('offline blocklist', () => {
  it.each(['password1', 'iloveyou!', 'qwerty123', 'PASSWORD1', 'ILoveYou!'])('refuses the common password %s', async (password) => {
    const { policy: passwordPolicy } = policy();
    await expect(passwordPolicy.check(password)).rejects.toMatchObject({
      ...tooWeak,
      message: 'This password is too common; choose another.',
    });
    // Refused before any request leaves the process.
    expect(hibp.requests).toEqual([]);
  });

  it('compares after NFKC, so full-width forms do not escape the list', async () => {
    await expect(policy().policy.check('ｐａｓｓｗｏｒｄ１')).rejects.toMatchObject(tooWeak);
  });
});

describe('context words', () => {
  const context = { email: 'alice@example.com', name: 'Alice Smith' };

  it.each([
    ['the email local part with digits and symbols', 'alice2024!'],
    ['the email local part alone, any case', 'ALICE!!!'],
    ['the email domain', 'Example2024'],
    ['a part of the name', 'smith1987!'],
    ['the whole name', 'alicesmith'],
    ['the product name', 'acmeidentity1'],
    ['a part of the product name', '2024acme!!'],
    ['a password-like word', 'letmein2024'],
  ])('refuses %s', async (_case, password) => {
    await expect(policy().policy.check(password, context)).rejects.toMatchObject(tooWeak);
  });

  it('refuses the local part of a plus address', async () => {
    await expect(policy().policy.check('bobbybob77', { email: 'bobbybob+shop@example.com' })).rejects.toMatchObject(tooWeak);
  });

  it('refuses operator-provided words', async () => {
    const { policy: passwordPolicy } = policy({ extraBlockedWords: ['Globex'] });
    await expect(passwordPolicy.check('globex#2024')).rejects.toMatchObject(tooWeak);
  });

  it('accepts a long passphrase that merely contains the name', async () => {
    await expect(policy().policy.check('alice walks seven dogs at dawn', context)).resolves.toEqual({ breachCheck: 'clean' });
    await expect(policy().policy.check('wonderland-alice-7-teapots', context)).resolves.toEqual({ breachCheck: 'clean' });
  });
});

describe('repetitive and sequential', () => {
  it.each(['aaaaaaaa', '!!!!!!!!!', 'abcdefgh', 'zyxwvuts', '98765432', 'ghghghgh', '1234abcd', 'mnopqrst!', '67890123'])(
    'refuses %s',
    async (password) => {
      await expect(policy({ hibpApiUrl: null }).policy.check(password)).rejects.toMatchObject(tooWeak);
    },
  );

  it.each(['x7#kQ9!mZ2', 'aa9#Kq2!wz', strongPassphrase])('accepts %s', async (password) => {
    await expect(policy({ hibpApiUrl: null }).policy.check(password)).resolves.toEqual({ breachCheck: 'skipped' });
  });
});

describe('breached passwords (Pwned Passwords range API)', () => {
  it('refuses a password in the breach corpus', async () => {
    await expect(policy().policy.check(breachedPassword)).rejects.toMatchObject(breached);
  });

  it('accepts a password outside it', async () => {
    await expect(policy().policy.check(strongPassphrase)).resolves.toEqual({ breachCheck: 'clean' });
  });

  it('sends only the 5-character hash prefix, asking for padding', async () => {
    await expect(policy().policy.check(breachedPassword)).rejects.toMatchObject(breached);
    const hash = sha1(breachedPassword);
    expect(hibp.requests).toEqual([{ prefix: hash.slice(0, 5), padding: true }]);
    const sent = JSON.stringify(hibp.requests);
    expect(sent).not.toContain(hash.slice(5, 15));
    expect(sent).not.toContain(breachedPassword);
  });

  it('learns breaches added later, since answers are never cached', async () => {
    const { policy: passwordPolicy } = policy();
    const password = `freshly leaked ${randomBytes(6).toString('hex')}`;
    await expect(passwordPolicy.check(password)).resolves.toEqual({ breachCheck: 'clean' });
    hibp.add(password);
    await expect(passwordPolicy.check(password)).rejects.toMatchObject(breached);
  });

  it('ignores padding lines, whose count is 0', async () => {
    const password = `padded but never breached ${randomBytes(6).toString('hex')}`;
    hibp.add(password, 0);
    await expect(policy().policy.check(password)).resolves.toEqual({ breachCheck: 'clean' });
  });

  it('asks about the typed form too when NFKC changes it', async () => {
    const typed = `ｗｉｄｅ letters ${randomBytes(4).toString('hex')}`;
    hibp.add(typed);
    await expect(policy().policy.check(typed)).rejects.toMatchObject(breached);
    expect(hibp.requests.map(({ prefix }) => prefix).sort()).toEqual(
      [sha1(typed.normalize('NFKC')), sha1(typed)].map((hash) => hash.slice(0, 5)).sort(),
    );
  });

  it('skips the online check when no API is configured', async () => {
    await expect(policy({ hibpApiUrl: null }).policy.check(breachedPassword)).resolves.toEqual({ breachCheck: 'skipped' });
    expect(hibp.requests).toEqual([]);
  });

  it('accepts a base URL with a trailing slash', async () => {
    await expect(policy({ hibpApiUrl: `${hibp.url}/` }).policy.check(breachedPassword)).rejects.toMatchObject(breached);
  });
});

describe('when the breach service is unavailable', () => {
  it.each(['error', 'hang'] as const)('(%s) still refuses common passwords and accepts, flagged, a breached one', async (mode) => {
    hibp.setDown(mode);
    const { policy: passwordPolicy, unavailable, calls } = policy();

    await expect(passwordPolicy.check('password1')).rejects.toMatchObject(tooWeak);
    await expect(passwordPolicy.check(breachedPassword)).resolves.toEqual({ breachCheck: 'unavailable' });

    expect(unavailable.count).toBe(1);
    const warnings = calls.filter(({ level }) => level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.args[0]).toMatchObject({ reason: mode === 'hang' ? 'timeout' : 'status' });
    // Neither the password nor any part of its hash reaches the logs.
    const logged = JSON.stringify(calls);
    expect(logged).not.toContain(breachedPassword);
    expect(logged).not.toContain(sha1(breachedPassword).slice(0, 5));
  });

  it('counts one outage per check, however many forms were asked about', async () => {
    hibp.setDown('error');
    const { policy: passwordPolicy, unavailable, calls } = policy();
    await expect(passwordPolicy.check('ｗｉｄｅ letters, all fine')).resolves.toEqual({ breachCheck: 'unavailable' });
    expect(hibp.requests).toHaveLength(2);
    expect(unavailable.count).toBe(1);
    expect(calls.filter(({ level }) => level === 'warn')).toHaveLength(1);
  });

  it('counts a network failure too', async () => {
    const gone = await startPwnedPasswordsPeer();
    await gone.close();
    const { policy: passwordPolicy, unavailable, calls } = policy({ hibpApiUrl: gone.url });
    await expect(passwordPolicy.check(strongPassphrase)).resolves.toEqual({ breachCheck: 'unavailable' });
    expect(unavailable.count).toBe(1);
    expect(calls.filter(({ level }) => level === 'warn')[0]?.args[0]).toMatchObject({ reason: 'network' });
  });

  it('survives a counter hook that throws', async () => {
    hibp.setDown('error');
    const { policy: passwordPolicy } = policy({
      onBreachCheckUnavailable: () => {
        throw new Error('metrics registry gone');
      },
    });
    await expect(passwordPolicy.check(strongPassphrase)).resolves.toEqual({ breachCheck: 'unavailable' });
  });
});
