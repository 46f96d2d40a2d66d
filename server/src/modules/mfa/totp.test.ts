import { describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32 } from '../crypto/base32';
import { generateBackupCode, generateBackupCodes, normalizeBackupCode } from './backupCodes';
import { hotp, matchTotpStep, type OtpAlgorithm, otpauthUri, totp, totpTimeStep } from './totp';

const ascii = (text: string) => Buffer.from(text, 'ascii');

describe('HOTP (RFC 4226 Appendix D)', () => {
  const secret = ascii('12345678901234567890');
  // Count → (truncated 31-bit value, 6-digit HOTP).
  const vectors: Array<[number, string, string]> = [
    [0, '1284755224', '755224'],
    [1, '1094287082', '287082'],
    [2, '0137359152', '359152'],
    [3, '1726969429', '969429'],
    [4, '1640338314', '338314'],
    [5, '0868254676', '254676'],
    [6, '1918287922', '287922'],
    [7, '0082162583', '162583'],
    [8, '0673399871', '399871'],
    [9, '0645520489', '520489'],
  ];
  for (const [count, truncated, code] of vectors) {
    it(`count ${count} gives ${code} (dynamic truncation ${truncated})`, () => {
      expect(hotp(secret, count)).toBe(code);
      // Ten digits keep the whole 31-bit truncated value: checks the truncation itself.
      expect(hotp(secret, count, 10)).toBe(truncated);
    });
  }
});

describe('TOTP (RFC 6238 Appendix B)', () => {
  const secrets: Record<OtpAlgorithm, Buffer> = {
    sha1: ascii('12345678901234567890'),
    sha256: ascii('12345678901234567890123456789012'),
    sha512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const vectors: Array<[number, string, Record<OtpAlgorithm, string>]> = [
    [59, '0000000000000001', { sha1: '94287082', sha256: '46119246', sha512: '90693936' }],
    [1111111109, '00000000023523EC', { sha1: '07081804', sha256: '68084774', sha512: '25091201' }],
    [1111111111, '00000000023523ED', { sha1: '14050471', sha256: '67062674', sha512: '99943326' }],
    [1234567890, '000000000273EF07', { sha1: '89005924', sha256: '91819424', sha512: '93441116' }],
    [2000000000, '0000000003F940AA', { sha1: '69279037', sha256: '90698825', sha512: '38618901' }],
    [20000000000, '0000000027BC86AA', { sha1: '65353130', sha256: '77737706', sha512: '47863826' }],
  ];
  for (const [time, step, codes] of vectors) {
    it(`at ${time} s the step is ${step} and the 8-digit codes match`, () => {
      expect(totpTimeStep(time)).toBe(Number.parseInt(step, 16));
      for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
        expect(totp(secrets[algorithm], time, { digits: 8, algorithm })).toBe(codes[algorithm]);
      }
    });
  }

  it('has 6 digits and a 30 s step by default (the last 6 digits of the SHA-1 vector are not the rule: the modulus is)', () => {
    // 6 digits: binary mod 10^6, which is the last six digits of the 8-digit value.
    expect(totp(secrets.sha1, 59)).toBe('287082');
    expect(totp(secrets.sha1, 59)).toBe(hotp(secrets.sha1, 1));
  });
});

describe('matchTotpStep', () => {
  const key = ascii('12345678901234567890');
  const now = 1_234_567_890;
  const step = totpTimeStep(now);
  const codeAt = (s: number) => hotp(key, s);

  it('accepts the current step and one step either side, and no further (RFC 6238 §5.2)', () => {
    expect(matchTotpStep(key, codeAt(step), now, null)).toBe(step);
    expect(matchTotpStep(key, codeAt(step - 1), now, null)).toBe(step - 1);
    expect(matchTotpStep(key, codeAt(step + 1), now, null)).toBe(step + 1);
    expect(matchTotpStep(key, codeAt(step - 2), now, null)).toBeNull();
    expect(matchTotpStep(key, codeAt(step + 2), now, null)).toBeNull();
  });

  it('refuses a step at or before the last accepted one (replay)', () => {
    expect(matchTotpStep(key, codeAt(step), now, step)).toBeNull();
    expect(matchTotpStep(key, codeAt(step - 1), now, step)).toBeNull();
    expect(matchTotpStep(key, codeAt(step + 1), now, step)).toBe(step + 1);
  });

  it('refuses anything that is not exactly six digits', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', ` ${codeAt(step)}`, `${codeAt(step).slice(0, 5)}x`]) {
      expect(matchTotpStep(key, code, now, null)).toBeNull();
    }
  });
});

describe('base32 (RFC 4648 §10)', () => {
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  for (const [plain, encoded] of vectors) {
    it(`"${plain}" ↔ "${encoded}"`, () => {
      expect(encodeBase32(ascii(plain))).toBe(encoded);
      expect(Buffer.from(decodeBase32(encoded) ?? []).toString('ascii')).toBe(plain);
    });
  }

  it('decodes padded and lower-case input, and refuses other characters', () => {
    expect(Buffer.from(decodeBase32('mzxw6ytboi======') ?? []).toString('ascii')).toBe('foobar');
    expect(decodeBase32('MZXW6YTB1')).toBeNull();
  });

  it('a 20-byte secret is 32 characters and round-trips', () => {
    const secret = Buffer.from('3132333435363738393031323334353637383930', 'hex');
    expect(encodeBase32(secret)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(Buffer.from(decodeBase32(encodeBase32(secret)) ?? []).equals(secret)).toBe(true);
  });
});

describe('otpauthUri', () => {
  it('spells out the label, issuer, algorithm, digits and period, percent-encoded', () => {
    expect(otpauthUri({ issuer: 'Acme IAM', accountName: 'jo+x@example.com', secret: 'GEZDGNBVGY3TQOJQ' })).toBe(
      'otpauth://totp/Acme%20IAM:jo%2Bx%40example.com?secret=GEZDGNBVGY3TQOJQ&issuer=Acme%20IAM&algorithm=SHA1&digits=6&period=30',
    );
  });
});

describe('backup codes', () => {
  it('are 10 distinct xxxxx-xxxxx codes of the lower-case base32 alphabet', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect(generateBackupCode()).not.toBe(generateBackupCode());
  });

  it('normalise to one form whatever the case and the dash, and refuse other shapes', () => {
    expect(normalizeBackupCode('abcde-23456')).toBe('abcde23456');
    expect(normalizeBackupCode('ABCDE-23456')).toBe('abcde23456');
    expect(normalizeBackupCode(' AbCdE23456 ')).toBe('abcde23456');
    for (const bad of ['abcde--23456', 'abcd-e23456', 'abcde-2345', 'abcde-234567', 'abcde-23450', '123456']) {
      expect(normalizeBackupCode(bad)).toBeNull();
    }
  });
});
