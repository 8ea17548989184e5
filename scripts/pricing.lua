-- pricing.lua -- the displayed price of every product variant of this store.
--
-- souk calls M.price(items, customer, context) once for a whole page of items
-- (a category page, a search result, a product with its variants) and shows
-- what it returns: for each item the price and, for each change to the base
-- price, an adjustment with
--   label   the text shoppers see next to the price ("Чёрная пятница −10%"),
--   amount  the change in kopecks: negative for a discount, positive for a
--           surcharge or a limit,
--   rule    the rule's name, for you: it shows in `souk price` and in the API.
-- The store checks every answer: prices are whole kopecks (integers, never
-- floats), and price = base price + the sum of the amounts, always.  Anything
-- else fails the page (503) instead of showing a wrong price.
--
-- The whole contract is in docs/pricing.md.  Before a change goes live:
--   souk price STORE --product SLUG [--at 2026-11-28] [--customer-json FILE]
--   souk script test STORE          (runs pricing_test.lua)
--
-- The rules of this example, in the order they apply:
--   1. sales         store-wide sales by date (Moscow time), percent off
--   2. brand         a standing discount on some brands
--   3. club card     a lower price for signed-in members
--   4. floor         the discounts together never exceed MAX_DISCOUNT_PERCENT
--   5. price ending  a discounted price ends in 90 roubles (2 241 ₽ -> 2 190 ₽)
-- Every percentage is taken from the base price, so they simply add up
-- (10% sale + 7% brand + 5% club card = 22%), and each is rounded to whole
-- roubles.
--
-- Money is integer kopecks (1 ₽ = 100 kopecks).  Use // (floor division) and
-- never / : 10 / 2 is the float 5.0, and the store refuses float prices.

local M = {}

local KOPECKS = 100                 -- kopecks in a rouble
local MINUTE_MS = 60 * 1000
local DAY_MS = 24 * 60 * MINUTE_MS
local MSK_OFFSET_MS = 3 * 60 * MINUTE_MS   -- Moscow: UTC+3 all year since 2014

-- ------------------------------------------------------------------ dates

-- Days since 1970-01-01 of a date in the Gregorian calendar.  The sandbox has
-- no os.time, and the store's clock arrives as context.now (unix ms), so dates
-- are turned into milliseconds here, with integer arithmetic only.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400                          -- [0, 399]
  local doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1  -- [0, 365], March first
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- Unix milliseconds of a Moscow wall-clock time: M.msk(2026, 11, 27) is
-- midnight at the start of 27 November 2026 in Moscow.
function M.msk(year, month, day, hour, minute)
  local minutes = (hour or 0) * 60 + (minute or 0)
  return days_from_civil(year, month, day) * DAY_MS + minutes * MINUTE_MS - MSK_OFFSET_MS
end

-- ---------------------------------------------------------------- settings

-- Store-wide sales: [from, to) in Moscow time.  The first window that contains
-- the current moment applies; add, remove or move windows freely.
M.SALES = {
  { rule = "black-friday", percent = 10,
    from = M.msk(2026, 11, 27), to = M.msk(2026, 12, 1),
    label = { ru = "Чёрная пятница", en = "Black Friday" } },
  { rule = "new-year-sale", percent = 15,
    from = M.msk(2026, 12, 25), to = M.msk(2027, 1, 9),
    label = { ru = "Новогодняя распродажа", en = "New Year sale" } },
}

-- Standing discounts by brand (the product's brand, exactly as in the catalog).
M.BRAND_PERCENT = {
  ["Altai"] = 7,
  ["Nordika"] = 10,
}

-- Signed-in members of the store's club get this much off.
M.MEMBER_PERCENT = 5

-- All discounts together never take more than this share of the base price.
M.MAX_DISCOUNT_PERCENT = 25

-- A discounted price is rounded down to the nearest whole rouble amount that
-- ends in this (2 241 ₽ -> 2 190 ₽), unless that would cross the floor.
M.PRICE_ENDING = 90
local ENDING_STEP = 100             -- roubles: ...90, ...190, ...290

local LABELS = {
  brand = { ru = "Скидка на %s −%d%%", en = "%s discount −%d%%" },
  member = { ru = "Цена по клубной карте −%d%%", en = "Club card price −%d%%" },
  floor = { ru = "Скидка не больше %d%%", en = "Discounts capped at %d%%" },
  ending = { ru = "Округление цены", en = "Price rounding" },
}

-- --------------------------------------------------------------- helpers

-- percent% of an amount in kopecks, rounded to the nearest whole rouble.
local function percent_of(amount, percent)
  local unit = 100 * KOPECKS
  return (amount * percent + unit // 2) // unit * KOPECKS
end

-- The label in the shopper's language (Russian when there is none for it).
local function text(t, locale)
  return t[locale] or t.ru
end

-- The sale running at the moment now (unix ms), or nil.
function M.active_sale(now)
  for _, sale in ipairs(M.SALES) do
    if now >= sale.from and now < sale.to then
      return sale
    end
  end
  return nil
end

-- ----------------------------------------------------------------- rules

local function price_item(item, customer, context)
  local base = item.variant.price
  local locale = context.locale
  local price = base
  local adjustments = souk.array()

  -- Every change goes through add(): the price and its explanation stay equal.
  local function add(amount, rule, label)
    if amount ~= 0 then
      adjustments[#adjustments + 1] = { label = label, amount = amount, rule = rule }
      price = price + amount
    end
  end

  -- 1. Store-wide sale.
  local sale = M.active_sale(context.now)
  if sale then
    add(-percent_of(base, sale.percent), sale.rule,
        ("%s −%d%%"):format(text(sale.label, locale), sale.percent))
  end

  -- 2. Brand discount.
  local brand = item.product.brand
  local brand_percent = brand and M.BRAND_PERCENT[brand]
  if brand_percent then
    add(-percent_of(base, brand_percent), "brand-discount",
        text(LABELS.brand, locale):format(brand, brand_percent))
  end

  -- 3. Club card price.  customer is nil for a guest; a signed-in customer may
  -- lack the member field, which means "not a member".
  if customer and customer.member == true then
    add(-percent_of(base, M.MEMBER_PERCENT), "member-price",
        text(LABELS.member, locale):format(M.MEMBER_PERCENT))
  end

  -- 4. The floor: the discounts together stop at MAX_DISCOUNT_PERCENT.
  local floor = base - base * M.MAX_DISCOUNT_PERCENT // 100
  if price < floor then
    add(floor - price, "discount-cap", text(LABELS.floor, locale):format(M.MAX_DISCOUNT_PERCENT))
  end

  -- 5. Price ending, for discounted prices only: the merchant's own base prices
  -- stay exactly as set.
  if price < base then
    local roubles = price // KOPECKS
    local ending = (roubles - (roubles - M.PRICE_ENDING) % ENDING_STEP) * KOPECKS
    if ending > 0 and ending >= floor then
      add(ending - price, "price-ending", text(LABELS.ending, locale))
    end
  end

  return { price = price, adjustments = adjustments }
end

-- Which customers get the same prices: the store remembers prices for a few
-- seconds (settings.catalog.cache_ms) per answer of this function, so that a
-- member's page does not run this file again for every member.  The rules above
-- look at customer.member only: guests, members and other customers.  A rule on
-- anything else of the customer (customer.level, ...) must be part of the key.
function M.customer_key(customer, context)
  if customer == nil then return "guest" end
  if customer.member == true then return "member" end
  return "customer"
end

-- The entry point: one answer per item, in the same order.
function M.price(items, customer, context)
  local prices = souk.array()
  for i, item in ipairs(items) do
    prices[i] = price_item(item, customer, context)
  end
  return prices
end

return M
