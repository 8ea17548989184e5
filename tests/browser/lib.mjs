// lib.mjs -- what the browser tests share: the failure a check throws, the facts
// every page is checked for, and the runner (one Chromium profile per viewport,
// the tests in order on one page, a screenshot of each failure).
//
// Environment (set by run.sh):
//   SOUK_URL         the store's base URL (http://127.0.0.1:PORT)
//   SCREENSHOT_DIR   where the screenshots go (one PNG per step and viewport)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   ONLY             run only the tests whose name contains this text
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BASE = process.env.SOUK_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ONLY = process.env.ONLY || '';
const STEP_TIMEOUT_MS = 15000;
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A phone-sized and a desktop-sized viewport (a test file may add to each).
export const MOBILE = { name: 'mobile', width: 375, height: 740, mobile: true };
export const WIDE = { name: 'wide', width: 1280, height: 900, mobile: false };

export class Failure extends Error {}
export function check(cond, message) {
  if (!cond) throw new Failure(message);
}

// SCREENSHOT_DIR, or a folder of that name under the temporary directory; made.
export function screenshotDir(fallback) {
  const dir = process.env.SCREENSHOT_DIR || join(tmpdir(), fallback);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// What a page is checked for, read in the page: its h1s, language, <main>,
// images (without alt, or that did not load), controls without a label, how
// much wider than the screen it is, POST forms without a CSRF field, scripts.
export async function pageFacts(page) {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll('input, select, textarea')]
      .filter((e) => e.type !== 'hidden');
    return {
      h1: document.querySelectorAll('h1').length,
      lang: document.documentElement.lang,
      main: document.querySelectorAll('main#main').length,
      noAlt: [...document.images].filter((i) => !i.hasAttribute('alt')).length,
      broken: [...document.images].filter((i) => i.complete && i.naturalWidth === 0)
        .map((i) => i.src),
      unlabelled: controls.filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label'))
        .map((c) => c.name),
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      noCsrf: [...document.querySelectorAll('form[method="post"]')]
        .filter((f) => !f.querySelector('input[name="_csrf"]')).map((f) => f.action),
      scripts: document.querySelectorAll('script').length,
    };
  });
}

// What every page must have: one h1, the page's language, a label for each
// control, nothing wider than the screen.
export function checkEveryPage(facts, lang) {
  check(facts.h1 === 1, `expected one h1, found ${facts.h1}`);
  check(facts.lang === lang, `html lang is "${facts.lang}", expected "${lang}"`);
  check(facts.unlabelled.length === 0, `controls without a label: ${facts.unlabelled.join(', ')}`);
  check(facts.overflow <= 1, `the page is ${facts.overflow}px wider than the screen`);
}

// Run tests ([name, async (page, vp) => ...]) on each viewport; shot(page, vp,
// step) takes a failure's screenshot into shots.  Prints one line per test and
// "N passed, N failed"; exits 1 on any failure (or when nothing ran).
export async function runTests(tests, { viewports, shot, shots }) {
  let passed = 0;
  let failed = 0;
  const browserDirs = [];
  for (const vp of viewports) {
    const profile = mkdtempSync(join(tmpdir(), 'souk-chromium-'));
    browserDirs.push(profile);
    let context;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: false, // '--headless=new' is in ARGS, as Debian's chromium wants it
        args: ARGS,
        viewport: { width: vp.width, height: vp.height },
        deviceScaleFactor: 1,
        isMobile: vp.mobile,
        hasTouch: vp.mobile,
        locale: 'ru-RU',
        javaScriptEnabled: true, // for the test's own page.evaluate; the pages have none
      });
    } catch (e) {
      console.log(`FAIL [${vp.name}] cannot start ${CHROMIUM}: ${e.message.split('\n')[0]}`);
      failed += tests.length;
      continue;
    }
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = context.pages()[0] || await context.newPage();
    for (const [name, fn] of tests) {
      if (ONLY && !name.includes(ONLY)) continue;
      const t0 = Date.now();
      try {
        await fn(page, vp);
        passed++;
        console.log(`ok   [${vp.name}] ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
      } catch (e) {
        failed++;
        console.log(`FAIL [${vp.name}] ${name}: ${e instanceof Failure ? e.message : e.stack}`);
        await shot(page, vp, `failed-${name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => {});
      }
    }
    await context.close();
  }
  for (const d of browserDirs) rmSync(d, { recursive: true, force: true });
  console.log(`screenshots: ${shots}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
}
