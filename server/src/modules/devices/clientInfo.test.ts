import { describe, expect, it } from 'vitest';
import { forwardedClientInfo, parseUserAgent } from './clientInfo';

// Real user agents of current browsers, as ua-parser-js 1.0.x (MIT) reads them.
describe('parseUserAgent', () => {
  it.each([
    [
      'Chrome on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      { browser: 'Chrome', os: 'Windows', type: 'desktop' },
    ],
    [
      'Safari on an iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      { browser: 'Mobile Safari', os: 'iOS', type: 'mobile' },
    ],
    [
      'Safari on an iPad',
      'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      { browser: 'Mobile Safari', os: 'iOS', type: 'tablet' },
    ],
    [
      'Firefox on Linux',
      'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
      { browser: 'Firefox', os: 'Linux', type: 'desktop' },
    ],
    [
      'Safari on a Mac',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      { browser: 'Safari', os: 'Mac OS', type: 'desktop' },
    ],
    [
      'Chrome on an Android phone',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36',
      { browser: 'Chrome', os: 'Android', type: 'mobile' },
    ],
    ['a script (1.x names no browser for it)', 'curl/8.5.0', { browser: null, os: null, type: 'unknown' }],
  ])('reads %s', (_label, userAgent, expected) => {
    expect(parseUserAgent(userAgent)).toEqual(expected);
  });

  it('answers the same for a cached string, and a copy the caller may change', () => {
    const userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0';
    const first = parseUserAgent(userAgent);
    first.browser = 'changed';
    expect(parseUserAgent(userAgent)).toEqual({ browser: 'Firefox', os: 'Linux', type: 'desktop' });
  });

  it('knows nothing of a missing user agent', () => {
    expect(parseUserAgent(null)).toEqual({ browser: null, os: null, type: 'unknown' });
    expect(parseUserAgent('')).toEqual({ browser: null, os: null, type: 'unknown' });
  });
});

describe('forwardedClientInfo', () => {
  it('writes an IPv4-mapped address as IPv4 and refuses what is not an IP', () => {
    expect(forwardedClientInfo({ ip: '::ffff:81.2.69.142', userAgent: 'x' })?.ip).toBe('81.2.69.142');
    expect(forwardedClientInfo({ ip: '2001:db8::1', userAgent: '' })).toEqual({ ip: '2001:db8::1', userAgent: null, canary: null });
    expect(forwardedClientInfo({ ip: 'localhost', userAgent: 'x' })).toBeNull();
  });
});
