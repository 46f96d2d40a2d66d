import { describe, expect, it } from 'vitest';
import { isIamError } from '../errors/iamError';
import { certificatesOf, certificateViews, parseCertificates } from './samlCertificates';

/** A self-signed test certificate (public only); its fingerprint as `openssl x509 -fingerprint -sha256` prints it. */
const pem = `-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUdHwaE7bsUjyEDHC2OcYZxAj4OqIwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPdmVjdG9yLmlkcC50ZXN0MB4XDTI2MTIwMzEzNTUwMVoXDTM2
MTEzMDEzNTUwMVowGjEYMBYGA1UEAwwPdmVjdG9yLmlkcC50ZXN0MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE9Ff+3rIYq4YB0Rh2Rxd1VsXbtBxB6/IqxyRYu8I0
e6IjDrQjP9BU+SH8rSgeymEDAesKPeoWE8otv8rSciI8JqNTMFEwHQYDVR0OBBYE
FMj76RgFON2Lnq2k50Ipeo3kPaaEMB8GA1UdIwQYMBaAFMj76RgFON2Lnq2k50Ip
eo3kPaaEMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAMfFz/+S
G16Txbr4qTz1ZzeQJjhzjWZeXMLcjfiOQ2wnAiBURq0JOtq9EXbw3qJTb70dz6BZ
K0fDqky7kWNMSJmUfw==
-----END CERTIFICATE-----`;
const fingerprint = 'AE:48:3B:B6:13:29:DC:5C:50:50:90:FF:69:15:9C:50:23:9A:B0:99:9C:20:71:E5:40:6F:5F:38:4A:DF:1E:DD';

describe('SAML IdP certificates', () => {
  it('parses PEM and bare base64 DER alike, keeps PEM, and views fingerprint, subject and expiry', () => {
    const bare = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const stored = parseCertificates([pem, bare]);
    expect(certificatesOf(stored)).toHaveLength(2);
    expect(certificateViews(stored)).toEqual([
      { sha256Fingerprint: fingerprint, subject: 'CN=vector.idp.test', notAfter: new Date('2036-11-30T13:55:01Z') },
      { sha256Fingerprint: fingerprint, subject: 'CN=vector.idp.test', notAfter: new Date('2036-11-30T13:55:01Z') },
    ]);
  });

  it('names the first value that is not an X.509 certificate', () => {
    const refusal = (() => {
      try {
        parseCertificates([pem, 'MIIB-not-a-certificate']);
      } catch (error) {
        return error;
      }
    })();
    expect(isIamError(refusal, 'INVALID_INPUT') && refusal.message).toBe('idpCertificates[1] is not an X.509 certificate.');
    expect(certificatesOf(null)).toEqual([]);
  });
});
