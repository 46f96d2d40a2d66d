import { describe, expect, it } from 'vitest';
import { type ClientDescription, placeOf } from './describe';
import { lookupGeo } from './geo';

const described = (ip: string): ClientDescription => ({
  canaryHash: null,
  ip,
  userAgent: null,
  browser: null,
  os: null,
  deviceType: 'unknown',
  network: null,
  geo: lookupGeo(ip),
  owner: null,
  bot: false,
});

describe('placeOf', () => {
  it('keeps a short subdivision name', () => {
    expect(placeOf(described('81.2.69.142'))).toMatchObject({ country: 'GB', region: 'England' });
  });

  it('keeps a long subdivision name whole, with the city', () => {
    expect(placeOf(described('2.16.0.1'))).toEqual({ country: 'BR', region: 'Rio Grande do Sul', city: 'Porto Alegre' });
  });

  it('is all nulls for an address with no place', () => {
    expect(placeOf(described('10.0.0.1'))).toEqual({ country: null, region: null, city: null });
  });
});
