import { it } from 'vitest';
import { post } from '../harness/http';
import { createTestServer } from '../harness/server';

it('explore parallel logins one device', async () => {
  await using t = await createTestServer();
  const user = await t.signUp();
  const cid = user.jar.get('iam_cid');
  for (let round = 0; round < 3; round++) {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        post(t.trpcUrl, 'auth.login', JSON.stringify({ json: { email: user.email, password: user.password } }), { cookie: `iam_cid=${cid}` }),
      ),
    );
    console.log(responses.map((r) => r.status).join(','), responses.filter((r) => r.status !== 200).map((r) => r.text.slice(0, 200)));
    t.clock.advance(120);
  }
});
