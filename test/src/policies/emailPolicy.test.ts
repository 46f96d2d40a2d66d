// The server package exposes only its root; this test exercises one module behind it.
import { createEmailPolicy, type EmailPolicyDeps } from '@iam/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anyDomainHasMx, type DnsPeer, startDnsPeer } from '../peers/dns';

const disposable = { name: 'IamError', code: 'EMAIL_DISPOSABLE' };
const domainInvalid = { name: 'IamError', code: 'EMAIL_DOMAIN_INVALID' };

/** Keeps every log call so that a test can read what was logged at which level. */
function recordingLogger() {
  const calls: Array<{ level: string; args: unknown[] }> = [];
  const at =
    (level: string) =>
    (...args: unknown[]) => {
      calls.push({ level, args });
    };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn') };
  // The policy only calls the level methods; a full pino instance would add nothing here.
  return { calls, logger: logger as unknown as EmailPolicyDeps['logger'] };
}

let dns: DnsPeer;
/** Resolvers that never answer, for the stacked-timeout case. */
let deadDns: DnsPeer[];

beforeAll(async () => {
  dns = await startDnsPeer({
    'example.com': { mx: [{ exchange: 'mail.example.com', priority: 10 }] },
    'only-a.example': { a: ['192.0.2.10'] },
    'only-aaaa.example': { aaaa: ['2001:db8::10'] },
    'null-mx.example': { mx: [{ exchange: '.', priority: 0 }] },
    'no-records.example': {},
    'missing.example': { nxdomain: true },
    'hang.example': { hang: true },
    'servfail.example': { servfail: true },
    'xn--bcher-kva.example': { mx: [{ exchange: 'mx.xn--bcher-kva.example', priority: 5 }] },
    'cache.example': { mx: [{ exchange: 'mx.cache.example', priority: 10 }] },
  });
  deadDns = await Promise.all([startDnsPeer({ '*': { hang: true } }), startDnsPeer({ '*': { hang: true } })]);
});

afterAll(async () => {
  await dns.close();
  await Promise.all(deadDns.map((peer) => peer.close()));
});

beforeEach(() => {
  dns.queries.length = 0;
});

function policy(overrides: Partial<EmailPolicyDeps> = {}) {
  const log = recordingLogger();
  return { ...log, policy: createEmailPolicy({ dnsServers: [dns.server], timeoutInMs: 300, logger: log.logger, ...overrides }) };
}

function queriesFor(name: string) {
  return dns.queries.filter((query) => query.name === name);
}

describe('disposable domains', () => {
  it('refuses a domain on the maintained list without asking DNS', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('someone@mailinator.com')).rejects.toMatchObject(disposable);
    expect(dns.queries).toEqual([]);
  });

  it('refuses subdomains of a listed domain, whatever their case', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('someone@sub.mailinator.com')).rejects.toMatchObject(disposable);
    await expect(emailPolicy.check('someone@Deep.Sub.MAILINATOR.com')).rejects.toMatchObject(disposable);
  });

  it('refuses operator-blocked domains and their subdomains, even when also allowed', async () => {
    const { policy: emailPolicy } = policy({ blockDomains: ['Rival.example'], allowDomains: ['rival.example'] });
    await expect(emailPolicy.check('a@rival.example')).rejects.toMatchObject(disposable);
    await expect(emailPolicy.check('a@team.rival.example')).rejects.toMatchObject(disposable);
  });

  it('with the MX check off, asks no DNS but still refuses disposable domains', async () => {
    const { policy: emailPolicy } = policy({ mxCheck: false });
    await expect(emailPolicy.check('someone@no-such-domain.invalid')).resolves.toEqual({ mx: 'skipped' });
    await expect(emailPolicy.check('someone@mailinator.com')).rejects.toMatchObject({ code: 'EMAIL_DISPOSABLE' });
  });

  it('lets allow-listed domains skip the list and DNS', async () => {
    const { policy: emailPolicy } = policy({ allowDomains: ['mailinator.com', 'corp.internal'] });
    await expect(emailPolicy.check('qa@mailinator.com')).resolves.toEqual({ mx: 'skipped' });
    await expect(emailPolicy.check('ops@eu.corp.internal')).resolves.toEqual({ mx: 'skipped' });
    expect(dns.queries).toEqual([]);
  });

  it('refuses allow or block entries that are not domains at creation', () => {
    expect(() => policy({ allowDomains: ['not a domain'] })).toThrow(/allowDomains/);
  });
});

describe('mail exchangers', () => {
  it('accepts a domain with an MX record', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('alice@example.com')).resolves.toEqual({ mx: 'found' });
    expect(queriesFor('example.com')).toEqual([{ name: 'example.com', type: 'MX', transport: 'udp' }]);
  });

  it('compares domains lowercased', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('Alice@EXAMPLE.Com')).resolves.toEqual({ mx: 'found' });
    expect(queriesFor('example.com')).toHaveLength(1);
  });

  it('falls back to an A record when there is no MX (RFC 5321 §5.1 implicit MX)', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('bob@only-a.example')).resolves.toEqual({ mx: 'fallback_a' });
    expect(queriesFor('only-a.example').map(({ type }) => type)).toEqual(expect.arrayContaining(['MX', 'A', 'AAAA']));
  });

  it('falls back to an AAAA record too', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('bob@only-aaaa.example')).resolves.toEqual({ mx: 'fallback_a' });
  });

  it('refuses a domain whose null MX says it accepts no mail (RFC 7505)', async () => {
    const { policy: emailPolicy, calls } = policy();
    await expect(emailPolicy.check('carol@null-mx.example')).rejects.toMatchObject(domainInvalid);
    expect(calls.find(({ level }) => level === 'info')?.args[0]).toEqual({ domain: 'null-mx.example', reason: 'null_mx' });
  });

  it('refuses a domain with neither MX nor address records', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('dave@no-records.example')).rejects.toMatchObject(domainInvalid);
  });

  it('refuses a domain that does not exist without asking for its addresses', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('erin@missing.example')).rejects.toMatchObject(domainInvalid);
    expect(queriesFor('missing.example').map(({ type }) => type)).toEqual(['MX']);
  });

  it('accepts any domain under a wildcard record, as the rest of the suite relies on', async () => {
    dns.set('*', anyDomainHasMx);
    try {
      const { policy: emailPolicy } = policy();
      await expect(emailPolicy.check('frank@whatever-domain.example')).resolves.toEqual({ mx: 'found' });
      await expect(emailPolicy.check('frank@another.test')).resolves.toEqual({ mx: 'found' });
      // Names with records of their own keep them.
      await expect(emailPolicy.check('carol@null-mx.example')).rejects.toMatchObject(domainInvalid);
    } finally {
      dns.set('*', { nxdomain: true });
    }
  });
});

describe('domain syntax and IDNA', () => {
  it('looks an internationalised domain up by its ASCII form', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('leser@Bücher.example')).resolves.toEqual({ mx: 'found' });
    expect(queriesFor('xn--bcher-kva.example')).toHaveLength(1);
  });

  it.each([
    ['an invalid IDN', 'x@xn--a.example'],
    ['a space in the domain', 'x@exa mple.com'],
    ['an underscore in a label', 'x@ex_ample.com'],
    ['a label starting with a hyphen', 'x@-bad.example'],
    ['an empty label', 'x@a..example'],
    ['a trailing dot', 'x@example.com.'],
    ['a single-label domain', 'x@localhost'],
    ['an address literal', 'x@[192.0.2.1]'],
    ['an IPv4 address', 'x@192.0.2.1'],
    ['a hexadecimal IPv4 form', 'x@0x7f.1'],
    ['no domain', 'x@'],
    ['no @ at all', 'example.com'],
  ])('refuses %s without asking DNS', async (_case, email) => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check(email)).rejects.toMatchObject(domainInvalid);
    expect(dns.queries).toEqual([]);
  });
});

describe('resolver failures', () => {
  it('accepts and flags an address whose MX lookup times out, logged at warn', async () => {
    const { policy: emailPolicy, calls } = policy();
    await expect(emailPolicy.check('gina@hang.example')).resolves.toEqual({ mx: 'timeout' });
    const warnings = calls.filter(({ level }) => level === 'warn');
    expect(warnings).toHaveLength(1);
    // c-ares's own timeout or the policy's deadline, whichever fires first.
    expect(warnings[0]?.args[0]).toMatchObject({ domain: 'hang.example', reason: expect.stringMatching(/^(ETIMEOUT|deadline)$/) });
    // Only the domain is logged, never the mailbox.
    expect(JSON.stringify(calls)).not.toContain('gina');
  });

  it('gives up at its own deadline when several dead resolvers would stack their timeouts', async () => {
    const { policy: emailPolicy, calls } = policy({ dnsServers: deadDns.map((peer) => peer.server) });
    await expect(emailPolicy.check('gina@example.com')).resolves.toEqual({ mx: 'timeout' });
    // c-ares asks each dead server in turn, 300 ms each; the policy's own deadline ends the wait first.
    expect(calls.find(({ level }) => level === 'warn')?.args[0]).toMatchObject({ reason: 'deadline' });
    expect(deadDns[0]?.queries.length).toBeGreaterThan(0);
  });

  it('accepts and flags on SERVFAIL', async () => {
    const { policy: emailPolicy, calls } = policy();
    await expect(emailPolicy.check('hank@servfail.example')).resolves.toEqual({ mx: 'timeout' });
    expect(calls.find(({ level }) => level === 'warn')?.args[0]).toMatchObject({ reason: 'ESERVFAIL' });
  });

  it('accepts and flags when no resolver listens', async () => {
    const closed = await startDnsPeer();
    await closed.close();
    const { policy: emailPolicy, calls } = policy({ dnsServers: [closed.server] });
    await expect(emailPolicy.check('ivan@example.com')).resolves.toEqual({ mx: 'timeout' });
    expect(calls.find(({ level }) => level === 'warn')?.args[0]).toMatchObject({ reason: 'ECONNREFUSED' });
  });

  it('refuses DNS servers that are not IP:port at creation', () => {
    expect(() => policy({ dnsServers: ['dns.example:53'] })).toThrow();
  });
});

describe('cache', () => {
  it('answers a second check of a domain from the cache', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('a@cache.example')).resolves.toEqual({ mx: 'found' });
    await expect(emailPolicy.check('b@CACHE.example')).resolves.toEqual({ mx: 'found' });
    expect(queriesFor('cache.example')).toHaveLength(1);
  });

  it('caches refusals too', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('a@missing.example')).rejects.toMatchObject(domainInvalid);
    await expect(emailPolicy.check('b@missing.example')).rejects.toMatchObject(domainInvalid);
    expect(queriesFor('missing.example')).toHaveLength(1);
  });

  it('never caches a timeout', async () => {
    const { policy: emailPolicy } = policy();
    await expect(emailPolicy.check('a@hang.example')).resolves.toEqual({ mx: 'timeout' });
    await expect(emailPolicy.check('b@hang.example')).resolves.toEqual({ mx: 'timeout' });
    expect(queriesFor('hang.example').filter(({ type }) => type === 'MX')).toHaveLength(2);
  });

  it('shares one lookup between concurrent checks of a domain', async () => {
    const { policy: emailPolicy } = policy();
    const results = await Promise.all(['a', 'b', 'c'].map((user) => emailPolicy.check(`${user}@example.com`)));
    expect(results).toEqual([{ mx: 'found' }, { mx: 'found' }, { mx: 'found' }]);
    expect(queriesFor('example.com')).toHaveLength(1);
  });

  it('forgets a domain once its TTL has passed', async () => {
    const { policy: emailPolicy } = policy({ cacheTtlInSeconds: 0.05 });
    await emailPolicy.check('a@example.com');
    await new Promise((resolve) => setTimeout(resolve, 80));
    await emailPolicy.check('b@example.com');
    expect(queriesFor('example.com')).toHaveLength(2);
  });
});
