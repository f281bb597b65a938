// A one-time password link is spent once even when twenty submissions race for it (on PostgreSQL
// the submissions really overlap; SQLite's synchronous driver serialises them).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { CookieJar, formToken, page, postForm, signIn } from './console-session.js';

let tp: TestPlatform;
let admin: CookieJar;

beforeAll(async () => {
  tp = await startTestPlatform();
  admin = await signIn(tp, tp.admin.email, tp.admin.password);
}, 60_000);

afterAll(async () => {
  await tp?.close();
});

it('twenty racing submissions of one password link: one sets the password, nineteen get 410', async () => {
  const created = await postForm(admin, `${tp.url}/console/users`, { email: 'racer@example.com', password: '', role: 'member', csrf: await formToken(tp, admin) });
  expect(created.status).toBe(200);
  const link = /data-field="link">([^<]+)</.exec(created.text)![1]!;
  const jars = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const jar = new CookieJar();
      const form = await page(jar, link);
      expect(form.status).toBe(200);
      return { jar, csrf: /name="csrf" value="([^"]+)"/.exec(form.text)![1]! };
    }),
  );
  const answers = await Promise.all(jars.map(({ jar, csrf }, i) => postForm(jar, link, { csrf, password: `racer number ${i} chose this one` })));
  const winners = answers.flatMap((answer, i) => (answer.status === 303 ? [i] : []));
  expect(winners).toHaveLength(1);
  expect(answers.filter((a) => a.status === 410)).toHaveLength(19);
  // Only the winner's password opens the account.
  await signIn(tp, 'racer@example.com', `racer number ${winners[0]} chose this one`);
  const loser = (winners[0]! + 1) % 20;
  await expect(signIn(tp, 'racer@example.com', `racer number ${loser} chose this one`)).rejects.toThrow();
  const audit = await tp.platform.ctx.db.selectFrom('audit_log').select('action').where('action', '=', 'user.password_set_by_link').execute();
  expect(audit).toHaveLength(1);
});
