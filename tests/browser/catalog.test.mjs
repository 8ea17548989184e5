// catalog.test.mjs -- the shop's pages in a real browser (headless Chromium),
// on a phone-sized and a desktop-sized viewport: browse, filter, sort, page,
// search, open a product, switch language, find the nearest pickup point.
//
// Run by run.sh, which creates a demo store and serves it.  Environment:
//   SOUK_URL         the store's base URL (http://127.0.0.1:PORT)
//   SCREENSHOT_DIR   where the screenshots go (one PNG per step and viewport)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   ONLY             run only the tests whose name contains this text
// Prints one line per test and "N passed, N failed"; exits 1 on any failure.
//
// The pages have no JavaScript, so every step is what a visitor does: follow a
// link or send a form.  Texts are checked in the page's language (the demo store
// is Russian first; the last test switches to English).
import { join } from 'node:path';
import {
  BASE, MOBILE, WIDE, check, checkEveryPage, pageFacts, runTests, screenshotDir,
} from './lib.mjs';

const VIEWPORTS = [MOBILE, WIDE];
const CYRILLIC = /[А-Яа-яЁё]/;

if (!BASE) {
  console.error('SOUK_URL is not set (run tests/browser/run.sh)');
  process.exit(2);
}
const SHOTS = screenshotDir('souk-browser-shots');

// "1 790 ₽", "RUB 1,790", "от 1 790 ₽" -> 1790 (whole units are enough to order).
function amountOf(text) {
  const digits = (text.match(/[\d\s\u00a0\u202f,]+/g) || []).join('').replace(/\D/g, '');
  return digits ? Number(digits) : NaN;
}

// A full-page screenshot.  Card images load lazily, so scroll through the page
// first and wait (briefly) until they are there, for a picture worth looking at.
async function shot(page, vp, step) {
  await page.evaluate(async () => {
    window.scrollTo(0, document.body.scrollHeight);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && [...document.images].some((i) => !i.complete)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(SHOTS, `${vp.name}-${step}.png`), fullPage: true });
}

// What every page must have (lib.mjs), a <main id="main">, and images that
// have alt and loaded.
async function checkPage(page, lang) {
  const facts = await pageFacts(page);
  checkEveryPage(facts, lang);
  check(facts.main === 1, 'no <main id="main">');
  check(facts.noAlt === 0, `${facts.noAlt} images without alt`);
  check(facts.broken.length === 0, `images that did not load: ${facts.broken.join(', ')}`);
}

async function cards(page) {
  return page.$$eval('.cat-grid .cat-card', (els) => els.map((c) => ({
    title: c.querySelector('.card__title').textContent.trim(),
    href: c.querySelector('.card__link').getAttribute('href'),
    brand: (c.querySelector('.cat-card__brand') || { textContent: '' }).textContent.trim(),
    price: (c.querySelector('.price__now') || { textContent: '' }).textContent.trim(),
  })));
}

async function columns(page) {
  return page.$eval('.cat-grid', (g) => getComputedStyle(g).gridTemplateColumns.split(' ').length);
}

// --------------------------------------------------------------------- tests

const tests = [
  ['home shows categories, featured products and the search box', async (page, vp) => {
    await page.goto(`${BASE}/`);
    await checkPage(page, 'ru');
    check(await page.locator('form[role="search"] input[name="q"]').count() === 1, 'no search box');
    const tiles = await page.locator('.cat-tile').count();
    check(tiles >= 6, `expected the category tiles, found ${tiles}`);
    const featured = await cards(page);
    check(featured.length >= 4, `expected featured products, found ${featured.length}`);
    check(featured.every((c) => CYRILLIC.test(c.title)), 'featured titles are not Russian');
    check(featured.every((c) => /\d/.test(c.price)), 'a featured product has no price');
    const cols = await columns(page);
    if (vp.mobile) check(cols >= 1 && cols <= 2, `${cols} columns on a phone`);
    else check(cols >= 3, `only ${cols} columns on a wide screen`);
    await shot(page, vp, '01-home');
  }],

  ['a category lists its products with filters and pages', async (page, vp) => {
    await page.goto(`${BASE}/`);
    await page.locator('.cat-tile__children a', { hasText: 'Чайники' }).click();
    await page.waitForURL(/\/c\/kettles/);
    await checkPage(page, 'ru');
    check((await page.locator('h1').textContent()).trim() === 'Чайники', 'the heading is not the category');
    const list = await cards(page);
    check(list.length === 24, `expected a full page of 24 products, found ${list.length}`);
    check(list.every((c) => /чайник/i.test(c.title)), 'a product outside the category');
    check(await page.locator('aside#filters form input[name="brand"]').count() >= 3, 'no brand filter');
    check(await page.locator('nav.pagination a[rel="next"]').count() === 1, 'no link to the next page');
    const crumbs = await page.locator('.cat-breadcrumbs li').allTextContents();
    check(crumbs.length === 3 && crumbs[1].includes('Кухня'), `breadcrumbs: ${crumbs.join(' / ')}`);
    await shot(page, vp, '02-category');
  }],

  ['a brand, a price bound and a sort by price apply together', async (page, vp) => {
    await page.goto(`${BASE}/c/kettles`);
    const brand = await page.locator('aside#filters input[name="brand"]').nth(1).getAttribute('value');
    await page.locator(`aside#filters input[name="brand"][value="${brand}"]`).check();
    await page.locator('#cat-price-from').fill('2000');
    await page.locator('#cat-sort').selectOption('price_asc');
    await page.locator('aside#filters button[type="submit"]').click();
    await page.waitForURL(/brand=/);
    await checkPage(page, 'ru');
    const url = new URL(page.url());
    check(url.searchParams.get('brand') === brand, `brand in the URL: ${url.search}`);
    check(url.searchParams.get('sort') === 'price_asc', `sort in the URL: ${url.search}`);
    const list = await cards(page);
    check(list.length > 0, 'the filtered list is empty');
    check(list.every((c) => c.brand === brand), `a product of another brand than ${brand}`);
    const prices = list.map((c) => amountOf(c.price));
    check(prices.every((p, i) => i === 0 || prices[i - 1] <= p), `not by price: ${prices.join(', ')}`);
    check(prices.every((p) => p >= 2000), `a price under 2 000: ${prices.join(', ')}`);
    check(await page.locator('#cat-price-from').inputValue() === '2000', 'the price bound was lost');
    check(await page.locator(`aside#filters input[name="brand"][value="${brand}"]`).isChecked(),
      'the chosen brand is not checked any more');
    check(await page.locator('#cat-sort').inputValue() === 'price_asc',
      'the sort select does not show the chosen sort (the view needs "sorts")');
    await shot(page, vp, '03-filtered');
  }],

  ['the second page shows other products', async (page, vp) => {
    await page.goto(`${BASE}/c/kitchen`);
    const first = (await cards(page)).map((c) => c.href);
    await page.locator('nav.pagination a.pagination__page', { hasText: /^\s*(Страница\s*)?2\s*$/ }).click();
    await page.waitForURL(/page=2/);
    await checkPage(page, 'ru');
    const second = (await cards(page)).map((c) => c.href);
    check(second.length === 24, `expected 24 products on page 2, found ${second.length}`);
    check(second.every((h) => !first.includes(h)), 'page 2 repeats products of page 1');
    const current = await page.locator('nav.pagination a[aria-current="page"]').textContent();
    check(/2/.test(current), `the current page is marked "${current}"`);
    await shot(page, vp, '04-page-2');
  }],

  ['searching for "чайник" finds kettles', async (page, vp) => {
    await page.goto(`${BASE}/`);
    await page.locator('#cat-search-q').fill('чайник');
    await page.locator('form[role="search"] button[type="submit"]').click();
    await page.waitForURL(/\/search\?q=/);
    await checkPage(page, 'ru');
    check((await page.locator('h1').textContent()).includes('чайник'), 'the heading does not name the query');
    const list = await cards(page);
    check(list.length > 0, 'no results');
    check(list.slice(0, 5).every((c) => /чайник/i.test(c.title)), 'the first results are not kettles');
    check(await page.locator('#cat-search-q').inputValue() === 'чайник', 'the search box lost the query');
    await shot(page, vp, '05-search');

    await page.goto(`${BASE}/search?q=${encodeURIComponent('zzqxw')}`);
    check(await page.locator('.cat-card').count() === 0, 'nonsense found something');
    check(await page.locator('.empty').count() >= 1, 'no "nothing found" message');
  }],

  ['a product page shows its price, variants and pickup points', async (page, vp) => {
    await page.goto(`${BASE}/c/kettles`);
    const first = (await cards(page))[0];
    await page.locator('.cat-card .card__link').first().click();
    await page.waitForURL(/\/p\//);
    await checkPage(page, 'ru');
    const h1 = (await page.locator('h1').textContent()).trim();
    check(h1 === first.title, `the heading "${h1}" is not the card's "${first.title}"`);
    const price = await page.locator('.cat-product__price .price__now').textContent();
    check(/\d/.test(price) && price.includes('₽'), `price "${price}"`);
    const rows = await page.locator('.cat-variants tbody tr').count();
    check(rows >= 1 && rows <= 4, `${rows} variants`);
    const cells = await page.locator('.cat-variants tbody tr').first().locator('td').allTextContents();
    check(cells.length === 2 && /\d/.test(cells[0]), `variant row: ${cells.join(' | ')}`);
    check(/\S/.test(await page.locator('.cat-variants tbody th .cat-variants__sku').first().textContent()),
      'no SKU in the variant row');
    check(await page.locator('.cat-product__image').count() >= 1, 'no product image');
    check((await page.locator('.cat-description__text').textContent()).trim().length > 20, 'no description');
    check(await page.locator('.cat-pickup-list li').count() >= 10, 'no pickup points');
    await shot(page, vp, '06-product');
  }],

  ['the nearest pickup point to Nevsky Prospect is on Nevsky', async (page, vp) => {
    await page.goto(`${BASE}/pickup-points`);
    await checkPage(page, 'ru');
    check(await page.locator('.cat-point').count() === 12, 'not every pickup point is listed');
    await page.locator('#field-near').fill('59.9343, 30.3351');
    await page.locator('form.cat-near button[type="submit"]').click();
    await page.waitForURL(/near=/);
    await checkPage(page, 'ru');
    const first = await page.locator('.cat-point').first().textContent();
    check(first.includes('Невский'), `the nearest is "${first.trim().slice(0, 60)}"`);
    check(/м|км/.test(await page.locator('.cat-point__distance').first().textContent()), 'no distance');
    await shot(page, vp, '07-pickup');
  }],

  ['switching to English shows English titles', async (page, vp) => {
    await page.goto(`${BASE}/c/kettles`);
    await page.locator('.lang-switch a[hreflang="en"]').click();
    await page.waitForURL(/lang=en/);
    await checkPage(page, 'en');
    check((await page.locator('h1').textContent()).trim() === 'Kettles', 'the heading is not English');
    const list = await cards(page);
    check(list.length > 0 && list.every((c) => !CYRILLIC.test(c.title) && /Kettle/.test(c.title)),
      'card titles are not English');
    await shot(page, vp, '08-english');
    // The choice is remembered: the next page is English too.
    await page.locator('.cat-card .card__link').first().click();
    await page.waitForURL(/\/p\//);
    await checkPage(page, 'en');
    check(!CYRILLIC.test(await page.locator('h1').textContent()), 'the product title is not English');
    check(!CYRILLIC.test(await page.locator('.cat-description__text').textContent()),
      'the description is not English');
    await shot(page, vp, '09-english-product');
  }],

  ['keyboard users see where the focus is', async (page, vp) => {
    await page.goto(`${BASE}/`);
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => {
      const a = document.activeElement;
      const r = a.getBoundingClientRect();
      return { href: a.getAttribute('href'), top: r.top, outline: getComputedStyle(a).outlineStyle };
    });
    check(skip.href === '#main' && skip.top >= 0, 'the first Tab does not reach a visible skip link');
    await page.locator('#cat-search-q').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const style = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(style !== 'none', 'the focused search box has no outline');
  }],
];

// -------------------------------------------------------------------- runner

await runTests(tests, { viewports: VIEWPORTS, shot, shots: SHOTS });
