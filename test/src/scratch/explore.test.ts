import { it } from 'vitest';
import { createTestServer } from '../harness/server';

it('explore', async () => {
  await using t = await createTestServer();
  const user = await t.signUp();
  const show = async (label: string, p: Promise<Response>) => {
    const r = await p;
    console.log(label, r.status, r.headers.get('content-type'), (await r.text()).slice(0, 400));
  };
  const post = (path: string, body: string | undefined, headers: Record<string, string> = {}) =>
    fetch(`${t.trpcUrl}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const bodies: Record<string, string> = {
    josé: JSON.stringify({ json: { email: 'josé@example.com', password: 'abcdefghijk' } }),
    metaCustom: JSON.stringify({ json: { email: 'a@b.co', password: 'abcdefghijk' }, meta: { values: { email: [['custom', 'Foo']] } } }),
    metaBigint: JSON.stringify({ json: { email: '1e99999', password: 'abcdefghijk' }, meta: { values: { email: ['bigint'] } } }),
    metaRegexp: JSON.stringify({ json: { email: '/(/', password: 'abcdefghijk' }, meta: { values: { email: ['regexp'] } } }),
    metaMap: JSON.stringify({ json: { email: 'x', password: 'abcdefghijk' }, meta: { values: { email: ['map'] } } }),
    metaSet: JSON.stringify({ json: { email: 5, password: 'abcdefghijk' }, meta: { values: { email: ['set'] } } }),
    metaProto: JSON.stringify({ json: { email: 'a@b.co', password: 'abcdefghijk' }, meta: { values: { '__proto__.x': ['Date'] } } }),
    metaRefs: JSON.stringify({
      json: { email: 'a@b.co', password: 'abcdefghijk' },
      meta: { referentialEqualities: { email: ['__proto__.polluted'] } },
    }),
    metaRefs2: JSON.stringify({
      json: { email: 'a@b.co', password: 'abcdefghijk' },
      meta: { referentialEqualities: { email: ['nope.deep.path'] } },
    }),
    metaRefsRoot: JSON.stringify({ json: { email: 'a@b.co', password: 'abcdefghijk' }, meta: { referentialEqualities: ['x'] } }),
    metaBad: JSON.stringify({ json: { email: 'a@b.co', password: 'abcdefghijk' }, meta: 5 }),
    metaBad2: JSON.stringify({ json: { email: 'a@b.co', password: 'abcdefghijk' }, meta: { values: 5 } }),
    metaBad3: JSON.stringify({ json: { email: 'a@b.co', password: 'abcdefghijk' }, meta: { values: ['Date'] } }),
    metaBad4: JSON.stringify({ json: 'x', meta: { values: [['custom', 'x']] } }),
    metaUndef: JSON.stringify({ json: null, meta: { values: ['undefined'] } }),
    metaErr: JSON.stringify({ json: { message: 'x' }, meta: { values: ['Error'] } }),
    deep: `{"json":${'['.repeat(100000)}${']'.repeat(100000)}}`,
    deepObj: `{"json":${'{"a":'.repeat(20000)}1${'}'.repeat(20000)}}`,
    protoKey: '{"json":{"__proto__":{"admin":true},"email":"a@b.co","password":"abcdefghijk"}}',
    numberBody: '5',
    arr: '[1,2]',
    empty: '',
  };
  for (const [k, b] of Object.entries(bodies)) {
    await show(`login ${k}`, post('auth.login', b));
  }
  await show('me GET bad input', fetch(`${t.trpcUrl}/auth.me?input=%7Bbad`, { headers: { authorization: `Bearer ${user.accessToken}` } }));
  await show(
    'list GET meta',
    fetch(`${t.trpcUrl}/session.list?input=${encodeURIComponent(JSON.stringify({ json: 'x', meta: { values: [['custom', 'x']] } }))}`, {
      headers: { authorization: `Bearer ${user.accessToken}` },
    }),
  );
  await show('revoke meta', post('session.revoke', bodies.metaBad4 ?? '', { authorization: `Bearer ${user.accessToken}` }));
  await show('badurl', fetch(`${t.trpcUrl}/%E0%A4%A`));
  await show('badurl2', fetch(`${t.url}/%E0%A4%A`));
  await show('text/plain', post('auth.login', '{"json":{}}', { 'content-type': 'text/plain' }));
  await show('weird ct', post('auth.login', '{"json":{}}', { 'content-type': 'application/x-www-form-urlencoded' }));
  await show('multipart', post('auth.login', '--x\r\n\r\n', { 'content-type': 'multipart/form-data; boundary=x' }));
  await show('octet', post('auth.login', 'xx', { 'content-type': 'application/octet-stream' }));
  await show('signup josé', post('auth.signup', bodies.josé ?? ''));
});
