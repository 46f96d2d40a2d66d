import { it } from 'vitest';
import { post } from '../harness/http';
import { codeFrom, createTestServer, linkTokenFrom, uniqueEmail } from '../harness/server';

it('explore two challenges race', async () => {
  const roomy = { points: 1000, durationInSeconds: 3600 };
  await using t = await createTestServer({
    rateLimits: { signupPerIp: roomy, signupPerEmail: roomy, codesPerIp: roomy, linksPerIp: roomy },
  });
  const tally: Record<string, number> = {};
  for (let round = 0; round < 25; round++) {
    const email = uniqueEmail('race');
    const { api } = t.client();
    const first = await api.auth.signup.mutate({ email, password: 'a long enough passphrase' });
    const mail1 = await t.lastMailTo(email);
    const second = await api.auth.signup.mutate({ email, password: 'another long passphrase' });
    const mail2 = await t.mail.waitFor((m) => m.to.includes(email) && m.id !== mail1.id);
    const others = [uniqueEmail('o'), uniqueEmail('o')];
    const results = await Promise.all([
      post(t.trpcUrl, 'auth.verifyEmail', JSON.stringify({ json: { challengeId: first.challengeId, code: codeFrom(mail1) } })),
      post(t.trpcUrl, 'auth.verifyEmail', JSON.stringify({ json: { challengeId: second.challengeId, code: codeFrom(mail2) } })),
      post(t.trpcUrl, 'auth.verifyEmail', JSON.stringify({ json: { token: linkTokenFrom(mail2) } })),
      ...others.map((o) => post(t.trpcUrl, 'auth.signup', JSON.stringify({ json: { email: o, password: 'a long enough passphrase' } }))),
    ]);
    const key = results.map((r) => r.status).join('/');
    tally[key] = (tally[key] ?? 0) + 1;
  }
  console.log('TALLY', JSON.stringify(tally));
});
