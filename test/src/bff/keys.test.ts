import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, loadEnv, parseHmacKeys, withProcedureAllowlists } from '@iam/server/standalone';
import { describe, expect, it } from 'vitest';

describe('HMAC_KEYS and the per-key allowlists', () => {
  it('parses keyId:secret pairs: blanks around pairs ignored, a secret may hold ":", never a ","', () => {
    expect(parseHmacKeys(undefined)).toEqual([]);
    expect(parseHmacKeys(' a:one secret , b:two:with:colons,')).toEqual([
      { id: 'a', secret: 'one secret' },
      { id: 'b', secret: 'two:with:colons' },
    ]);
    expect(() => parseHmacKeys('no-secret')).toThrow(/pair 1/);
    expect(() => parseHmacKeys('a:x,a:y')).toThrow(/listed twice/);
    expect(() => parseHmacKeys('a:')).toThrow(/empty secret/);
    expect(() => parseHmacKeys(':secret')).toThrow(/pair 1/);
  });

  it('an invalid HMAC_KEYS stops the service at start without printing a secret', () => {
    expect(loadEnv({ HMAC_KEYS: 'web:s3cret-value, ops:other' }).HMAC_KEYS).toEqual([
      { id: 'web', secret: 's3cret-value' },
      { id: 'ops', secret: 'other' },
    ]);
    let message = '';
    try {
      loadEnv({ HMAC_KEYS: 'web:s3cret-value,web:s3cret-value' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/HMAC_KEYS/);
    expect(message).not.toContain('s3cret');
  });

  it('the config file limits a key to some bff procedures; unknown keys and procedures are refused', async () => {
    const file = path.join(os.tmpdir(), `iam-hmac-${process.pid}-${Date.now()}.json`);
    await writeFile(file, JSON.stringify({ hmac: { keys: { reports: { procedures: ['bff.introspect', 'bff.authorize'] } } } }));
    const config = loadConfigFile(file);
    const keys = withProcedureAllowlists(parseHmacKeys('web:secret-one,reports:secret-two'), config.hmac?.keys);
    expect(keys).toEqual([
      { id: 'web', secret: 'secret-one' },
      { id: 'reports', secret: 'secret-two', procedures: ['bff.introspect', 'bff.authorize'] },
    ]);
    expect(() => withProcedureAllowlists(parseHmacKeys('web:secret-one'), config.hmac?.keys)).toThrow(/hmac\.keys\.reports/);

    await writeFile(file, JSON.stringify({ hmac: { keys: { web: { procedures: ['auth.login'] } } } }));
    expect(() => loadConfigFile(file)).toThrow(/hmac\.keys\.web\.procedures/);
  });
});
