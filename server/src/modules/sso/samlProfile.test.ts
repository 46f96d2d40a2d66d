import { describe, expect, it } from 'vitest';
import { samlProfileOf } from './samlProfile';

const persistent = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

describe('samlProfileOf', () => {
  it('takes the address from a standard attribute, the name from displayName or given name and surname', () => {
    expect(
      samlProfileOf(
        {
          nameID: 'u-123',
          nameIDFormat: persistent,
          attributes: {
            'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'ada@acme.com',
            givenName: 'Ada',
            sn: 'Lovelace',
          },
        },
        null,
      ),
    ).toEqual({
      profile: { subject: 'u-123', email: 'ada@acme.com', emailVerified: true, name: 'Ada Lovelace' },
      nameIdFormat: persistent,
    });
    expect(
      samlProfileOf(
        { nameID: 'u-1', nameIDFormat: persistent, attributes: { mail: ['bob@acme.com', 'b@acme.com'], displayName: 'Bob' } },
        null,
      )?.profile,
    ).toEqual({
      subject: 'u-1',
      email: 'bob@acme.com',
      emailVerified: true,
      name: 'Bob',
    });
  });

  it('reads only the configured attribute when there is one, and an emailAddress NameID as the address', () => {
    const attributes = { email: 'standard@acme.com', corpMail: 'configured@acme.com' };
    expect(samlProfileOf({ nameID: 'u-2', nameIDFormat: persistent, attributes }, 'corpMail')?.profile.email).toBe('configured@acme.com');
    expect(
      samlProfileOf({ nameID: 'u-2', nameIDFormat: persistent, attributes: { email: 'x@acme.com' } }, 'corpMail')?.profile.email,
    ).toBeNull();
    expect(
      samlProfileOf(
        { nameID: 'carol@acme.com', nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', attributes: {} },
        null,
      )?.profile,
    ).toEqual({ subject: 'carol@acme.com', email: 'carol@acme.com', emailVerified: true, name: null });
  });

  it('has no subject for a transient NameID, a missing one or one with spaces; no address is unverified', () => {
    expect(
      samlProfileOf({ nameID: 'x', nameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient', attributes: {} }, null),
    ).toBeNull();
    expect(samlProfileOf({ nameID: undefined as unknown as string, nameIDFormat: persistent }, null)).toBeNull();
    expect(samlProfileOf({ nameID: 'two words', nameIDFormat: persistent }, null)).toBeNull();
    expect(
      samlProfileOf({ nameID: 'u-3', nameIDFormat: persistent, attributes: { email: 'not an address' } }, null)?.profile,
    ).toMatchObject({
      email: null,
      emailVerified: false,
    });
  });
});
