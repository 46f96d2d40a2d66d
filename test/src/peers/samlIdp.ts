import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as samlify from 'samlify';

/**
 * A real SAML 2.0 identity provider on loopback (samlify): `GET /sso` reads the service's
 * AuthnRequest (HTTP-Redirect binding, deflated), signs a Response for the person the test
 * chose, and answers the auto-submitting HTML form the HTTP-POST binding prescribes (Bindings
 * §3.5.4). The service provider it answers is built from the service's own SP metadata. A test
 * may change what is signed (`fields`), what is signed at all (`sign`), sign with a key the
 * organization never configured (`signer: 'stranger'`), or edit the XML after signing (`tamper`).
 */

// The peer never validates XML against the SAML schemas (the service under test is the one judged).
samlify.setSchemaValidator({ validate: async () => 'ok' });

export interface SamlPerson {
  nameId: string;
  nameIdFormat?: string;
  /** Attributes by name (one value each). */
  attributes?: Record<string, string>;
}

export interface ResponseOptions {
  /** Values of the signed document, instead of the right ones. */
  fields?: Partial<{
    audience: string;
    recipient: string;
    destination: string;
    /** `''` leaves the attribute out (an unsolicited response). */
    inResponseTo: string;
    subjectNotOnOrAfter: string;
    conditionsNotBefore: string;
    conditionsNotOnOrAfter: string;
    issuer: string;
    status: string;
  }>;
  /** What is signed: the assertion (default, what the SP metadata asks), the Response only, both, or nothing. */
  sign?: 'assertion' | 'response' | 'both' | 'none';
  /** `stranger`: a key pair the organization never configured. */
  signer?: 'configured' | 'stranger';
  /** An edit of the XML after signing. */
  tamper?: (xml: string) => string;
  /** The signature method (RSA-SHA256 by default). */
  signatureAlgorithm?: 'rsa-sha1' | 'rsa-sha256' | 'rsa-sha512';
}

export interface PostedForm {
  /** The ACS the form posts to. */
  action: string;
  SAMLResponse: string;
  RelayState: string;
}

export interface SamlIdpPeer {
  entityId: string;
  ssoUrl: string;
  /** PEM of the signing certificate the organization configures. */
  certificate: string;
  /** PEM of another key's certificate (for rotations). */
  strangerCertificate: string;
  /** Makes the service's SP known to the IdP from its metadata XML. */
  trust(spMetadataXml: string): void;
  /** Who signs in at the next request, and how the response is made. */
  next(person: SamlPerson, options?: ResponseOptions): void;
  /** The AuthnRequests received, decoded. */
  requests: Array<{ id: string; xml: string }>;
  close(): Promise<void>;
}

interface KeyPair {
  privateKey: string;
  certificate: string;
}

function makeKeyPair(dir: string, name: string): KeyPair {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '30',
      '-subj',
      `/CN=${name}.idp.test`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { privateKey: readFileSync(key, 'utf8'), certificate: readFileSync(cert, 'utf8') };
}

const success = 'urn:oasis:names:tc:SAML:2.0:status:Success';

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function responseXml(values: {
  id: string;
  assertionId: string;
  now: string;
  destination: string;
  inResponseTo: string;
  issuer: string;
  status: string;
  nameId: string;
  nameIdFormat: string;
  subjectNotOnOrAfter: string;
  recipient: string;
  conditionsNotBefore: string;
  conditionsNotOnOrAfter: string;
  audience: string;
  attributes: Record<string, string>;
}): string {
  const e = escapeXml;
  const inResponseTo = values.inResponseTo === '' ? '' : ` InResponseTo="${e(values.inResponseTo)}"`;
  const attributes = Object.entries(values.attributes)
    .map(
      ([name, value]) =>
        `<saml:Attribute Name="${e(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">${e(value)}</saml:AttributeValue></saml:Attribute>`,
    )
    .join('');
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${values.id}" Version="2.0" IssueInstant="${values.now}" Destination="${e(values.destination)}"${inResponseTo}>` +
    `<saml:Issuer>${e(values.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${e(values.status)}"/></samlp:Status>` +
    `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${values.assertionId}" Version="2.0" IssueInstant="${values.now}">` +
    `<saml:Issuer>${e(values.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${e(values.nameIdFormat)}">${e(values.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${values.subjectNotOnOrAfter}" Recipient="${e(values.recipient)}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${values.conditionsNotBefore}" NotOnOrAfter="${values.conditionsNotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${e(values.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${values.now}" SessionIndex="${values.assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion></samlp:Response>`
  );
}

export async function startSamlIdp(): Promise<SamlIdpPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'saml-idp-'));
  const configured = makeKeyPair(dir, 'configured');
  const stranger = makeKeyPair(dir, 'stranger');
  rmSync(dir, { recursive: true, force: true });

  const requests: Array<{ id: string; xml: string }> = [];
  let spMetadata: string | null = null;
  let person: SamlPerson = { nameId: 'nobody' };
  let options: ResponseOptions = {};

  const server: Server = createServer((req, res) => {
    handle(req.url ?? '/')
      .then((html) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html);
      })
      .catch((error: unknown) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(error instanceof Error ? `${error.message}\n${error.stack}` : String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${origin}/metadata`;
  const ssoUrl = `${origin}/sso`;

  const algorithms = {
    'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'rsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  } as const;

  function identityProvider(pair: KeyPair, algorithm: keyof typeof algorithms = 'rsa-sha256') {
    return samlify.IdentityProvider({
      entityID: entityId,
      privateKey: pair.privateKey,
      signingCert: pair.certificate,
      singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
      nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
      wantAuthnRequestsSigned: false,
      requestSignatureAlgorithm: algorithms[algorithm],
    });
  }

  async function handle(path: string): Promise<string> {
    const url = new URL(path, origin);
    if (url.pathname !== '/sso') throw new Error('not found');
    if (!spMetadata) throw new Error('no SP trusted yet');
    const sp = samlify.ServiceProvider({ metadata: spMetadata });
    const idp = identityProvider(configured);
    const query = Object.fromEntries(url.searchParams);
    const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString: '' } as never);
    const requestId = String((parsed.extract as { request?: { id?: string } }).request?.id ?? '');
    requests.push({ id: requestId, xml: parsed.samlContent });

    const sign = options.sign ?? 'assertion';
    const acs = sp.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post) as string;
    // The same SP, described by settings rather than its metadata, so what is signed can differ from what it asks.
    const signerSp = samlify.ServiceProvider({
      entityID: sp.entityMeta.getEntityID(),
      assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: acs }],
      wantAssertionsSigned: sign === 'assertion' || sign === 'both',
      wantMessageSigned: sign === 'response' || sign === 'both',
    });
    const signer = identityProvider(options.signer === 'stranger' ? stranger : configured, options.signatureAlgorithm);
    const now = new Date();
    const inFive = new Date(now.getTime() + 5 * 60_000).toISOString();
    const fields = options.fields ?? {};
    const id = `_${randomBytes(16).toString('hex')}`;
    const xml = responseXml({
      id,
      assertionId: `_${randomBytes(16).toString('hex')}`,
      now: now.toISOString(),
      destination: fields.destination ?? acs,
      inResponseTo: fields.inResponseTo ?? requestId,
      issuer: fields.issuer ?? entityId,
      status: fields.status ?? success,
      nameId: person.nameId,
      nameIdFormat: person.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      subjectNotOnOrAfter: fields.subjectNotOnOrAfter ?? inFive,
      recipient: fields.recipient ?? acs,
      conditionsNotBefore: fields.conditionsNotBefore ?? now.toISOString(),
      conditionsNotOnOrAfter: fields.conditionsNotOnOrAfter ?? inFive,
      audience: fields.audience ?? sp.entityMeta.getEntityID(),
      attributes: person.attributes ?? {},
    });
    let response: string;
    if (sign === 'none') {
      response = Buffer.from(xml).toString('base64');
    } else {
      const made = await signer.createLoginResponse(signerSp, parsed as never, 'post', { email: person.nameId }, () => ({
        id,
        context: xml,
      }));
      response = (made as { context: string }).context;
    }
    if (options.tamper) response = Buffer.from(options.tamper(Buffer.from(response, 'base64').toString('utf8'))).toString('base64');
    const relayState = url.searchParams.get('RelayState') ?? '';
    return (
      `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escapeXml(acs)}">` +
      `<input type="hidden" name="SAMLResponse" value="${escapeXml(response)}"/>` +
      `<input type="hidden" name="RelayState" value="${escapeXml(relayState)}"/></form></body></html>`
    );
  }

  return {
    entityId,
    ssoUrl,
    certificate: configured.certificate,
    strangerCertificate: stranger.certificate,
    trust(xml) {
      spMetadata = xml;
    },
    next(nextPerson, nextOptions = {}) {
      person = nextPerson;
      options = nextOptions;
    },
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The hidden fields of the IdP's auto-submitting form (what a browser would post). */
export function formOf(html: string): PostedForm {
  const field = (name: string) => {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
    return (match?.[1] ?? '')
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  };
  const action = /action="([^"]*)"/.exec(html)?.[1] ?? '';
  return { action: action.replace(/&amp;/g, '&'), SAMLResponse: field('SAMLResponse'), RelayState: field('RelayState') };
}
