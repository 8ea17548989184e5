// auth.test.mjs -- signing up by phone in a real browser (headless Chromium), on
// a phone-sized and a desktop-sized viewport: the header's "Sign in" link, the
// number, a wrong code and then the right one (read with `souk outbox`, as a
// developer would), the terms, the account page, the sessions page, signing
// out.
//
// Run by run.sh (`run.sh auth.test.mjs`), which creates a demo store and serves
// it.  Environment:
//   SOUK_URL         the store's base URL (http://127.0.0.1:PORT)
//   SOUK_STORE       the store directory (for `souk outbox`)
//   SOUK_BIN         the souk binary
//   SCREENSHOT_DIR   where the screenshots go (one PNG per step and viewport)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   ONLY             run only the tests whose name contains this text
// Prints one line per test and "N passed, N failed"; exits 1 on any failure.
//
// The pages need no JavaScript: every step is a link or a form.  The demo store
// is Russian first, so texts are checked in Russian.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  BASE, MOBILE, WIDE, check, checkEveryPage, pageFacts, runTests, screenshotDir,
} from './lib.mjs';

const STORE = process.env.SOUK_STORE;
const SOUK = process.env.SOUK_BIN || 'souk';
const VIEWPORTS = [
  { ...MOBILE, phone: '8 (900) 555-01-01' },
  { ...WIDE, phone: '+7 900 555-01-02' },
];

if (!BASE || !STORE) {
  console.error('SOUK_URL or SOUK_STORE is not set (run tests/browser/run.sh auth.test.mjs)');
  process.exit(2);
}
const SHOTS = screenshotDir('souk-browser-shots-auth');

function e164(phone) {
  let d = phone.replace(/\D/g, '');
  if (d.length === 11 && d[0] === '8') d = `7${d.slice(1)}`;
  return `+${d}`;
}

// The code in the newest message to an address, read as a developer would.
function lastCode(to) {
  const out = execFileSync(SOUK, ['outbox', STORE, '--to', to, '--last', '--json'],
    { encoding: 'utf8' });
  const msgs = JSON.parse(out);
  const msg = Array.isArray(msgs) ? msgs[msgs.length - 1] : msgs;
  check(msg && msg.message === 'auth_code', `no code in the outbox for ${to}: ${out}`);
  const m = /\b(\d{6})\b/.exec(msg.body);
  check(m, `no 6-digit code in "${msg.body}"`);
  return m[1];
}

async function shot(page, vp, step) {
  await page.screenshot({ path: join(SHOTS, `${vp.name}-${step}.png`), fullPage: true });
}

// What every page must have (lib.mjs), a CSRF field in every POST form, and no
// JavaScript.  The demo store is Russian first.
async function checkPage(page) {
  const facts = await pageFacts(page);
  checkEveryPage(facts, 'ru');
  check(facts.noCsrf.length === 0, `POST forms without a CSRF field: ${facts.noCsrf.join(', ')}`);
  check(facts.scripts === 0, 'the page needs JavaScript');
}

async function heading(page) {
  return (await page.locator('h1').textContent()).trim();
}

// --------------------------------------------------------------------- tests

const tests = [
  ['a new shopper signs up by phone and lands on the account page', async (page, vp) => {
    await page.context().clearCookies();
    await page.goto(`${BASE}/`);
    const signin = page.locator('.site-header a[href="/signin"]');
    check(await signin.count() === 1, 'no "Sign in" link in the header');
    check((await signin.textContent()).trim() === 'Войти', 'the link does not say "Войти"');
    await signin.click();
    await page.waitForURL(/\/signin$/);
    await checkPage(page);
    check(await heading(page) === 'Вход', `heading "${await heading(page)}"`);
    await shot(page, vp, '01-signin');

    await page.locator('#field-phone').fill(vp.phone);
    await page.locator('form:has(#field-phone) button[type="submit"]').click();
    await page.waitForURL(/\/signin\/code\?c=[0-9a-f]{32}/);
    await checkPage(page);
    const to = e164(vp.phone);
    const shown = (await page.locator('.auth-destination').textContent()).trim();
    check(shown.endsWith(to.slice(-2)) && shown.includes('*'), `masked number "${shown}"`);
    check((await page.locator('.auth-tries').textContent()).trim() === '5', 'tries left');
    await shot(page, vp, '02-code');

    // A wrong code first: the same page, the message beside the field.
    const code = lastCode(to);
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
    await page.locator('#field-code').fill(wrong);
    await page.locator('form.auth-code button[type="submit"]').click();
    await page.waitForLoadState();
    check(await page.locator('.form-errors').count() === 1, 'no error box after a wrong code');
    check((await page.locator('.form-errors').textContent()).includes('Осталось попыток: 4'),
      'the error does not say how many tries are left');
    check(await page.locator('#field-code[aria-invalid="true"]').count() === 1,
      'the code field is not marked invalid');
    await shot(page, vp, '03-wrong-code');

    await page.locator('#field-code').fill(code);
    await page.locator('form.auth-code button[type="submit"]').click();
    await page.waitForURL(/\/signup\/terms\?c=/);
    await checkPage(page);
    check(await page.locator('a[href="/terms"]').count() >= 1, 'no link to the terms');
    await shot(page, vp, '04-terms');

    await page.locator('#field-accept_terms').check();
    await page.locator('form.auth-signup button[type="submit"]').click();
    await page.waitForURL((u) => new URL(u).pathname === '/account');
    await checkPage(page);
    const header = page.locator('.site-header');
    check(await header.locator('a[href="/account"]').count() === 1, 'no Account link');
    check(await header.locator('a[href="/favourites"]').count() === 1, 'no Favourites link');
    check(await header.locator('form[action="/signout"] button').count() === 1,
      'no sign-out button');
    check(await header.locator('a[href="/signin"]').count() === 0, 'still offers to sign in');
    check((await page.locator('.flashes').textContent()).includes('Добро пожаловать'),
      'no welcome message');
    await shot(page, vp, '05-account');
  }],

  ['the sessions page marks this device', async (page, vp) => {
    await page.goto(`${BASE}/account/sessions`);
    await checkPage(page);
    const rows = page.locator('table.auth-sessions tbody tr');
    check(await rows.count() === 1, `expected one session, found ${await rows.count()}`);
    check((await rows.first().textContent()).includes('Это устройство'), 'this device is not marked');
    await shot(page, vp, '06-sessions');
  }],

  ['signing out from the header', async (page, vp) => {
    await page.goto(`${BASE}/account/sessions`);
    await page.locator('.site-header form[action="/signout"] button').click();
    await page.waitForURL((u) => new URL(u).pathname === '/');
    check(await page.locator('.site-header a[href="/signin"]').count() === 1,
      'the header does not offer to sign in again');
    check((await page.locator('.flashes').textContent()).includes('Вы вышли'), 'no message');
    await page.goto(`${BASE}/account/sessions`);
    await page.waitForURL(/\/signin\?next=/);
    await shot(page, vp, '07-signed-out');
  }],
];

// -------------------------------------------------------------------- runner

await runTests(tests, { viewports: VIEWPORTS, shot, shots: SHOTS });
