-- pricing_test.lua -- cases for pricing.lua; `souk script test STORE` runs them,
-- and a changed pricing.lua goes live only when they pass.  M is the module.
-- Amounts are kopecks: 249000 is 2 490 ₽.

local function item(price, brand, sku)
  return {
    product = { slug = "jacket", title = "Куртка", brand = brand or "Tundra",
                category = "jackets", category_path = { "clothing", "jackets" },
                attributes = { season = "winter" } },
    variant = { sku = sku or "JK-1", options = { size = "M" }, price = price,
                currency = "RUB", stock = 5 },
  }
end

local function context(now, locale)
  return { now = now, locale = locale or "ru", currency = "RUB" }
end

local ORDINARY_DAY = M.msk(2026, 10, 1, 12, 0)   -- no sale
local BLACK_FRIDAY = M.msk(2026, 11, 28, 12, 0)
local NEW_YEAR = M.msk(2027, 1, 2, 12, 0)
local MEMBER = { id = 7, member = true }

-- The single answer for one item.
local function one(it, customer, now, locale)
  local prices = M.price({ it }, customer, context(now, locale))
  expect_eq(#prices, 1, "one answer per item")
  return prices[1]
end

local function rules(answer)
  local names = {}
  for i, a in ipairs(answer.adjustments) do names[i] = a.rule end
  return names
end

return {
  ["moscow dates become unix milliseconds"] = function()
    expect_eq(M.msk(1970, 1, 1, 3, 0), 0)
    expect_eq(M.msk(2026, 11, 27), 1795726800000)
    expect_eq(M.msk(2000, 2, 29, 12, 30), 951816600000)   -- a leap day
    expect_eq(M.msk(2027, 1, 9), 1799442000000)
  end,

  ["an ordinary day leaves the base price alone"] = function()
    expect_eq(one(item(249000), nil, ORDINARY_DAY), { price = 249000, adjustments = {} })
    -- kopecks and all: the ending applies to discounted prices only
    expect_eq(one(item(249950), nil, ORDINARY_DAY).price, 249950)
  end,

  ["black friday takes 10% off and ends the price in 90"] = function()
    expect_eq(one(item(249000), nil, BLACK_FRIDAY), {
      price = 219000,
      adjustments = {
        { label = "Чёрная пятница −10%", amount = -24900, rule = "black-friday" },
        { label = "Округление цены", amount = -5100, rule = "price-ending" },
      },
    })
  end,

  ["a sale runs from its first moment to just before its end"] = function()
    local from, to = M.msk(2026, 11, 27), M.msk(2026, 12, 1)
    expect_eq(one(item(100000), nil, from - 1).price, 100000)
    expect_eq(rules(one(item(100000), nil, from)), { "black-friday", "price-ending" })
    expect_eq(rules(one(item(100000), nil, to - 1)), { "black-friday", "price-ending" })
    expect_eq(one(item(100000), nil, to).price, 100000)
    expect_eq(M.active_sale(NEW_YEAR).rule, "new-year-sale")
    expect(M.active_sale(ORDINARY_DAY) == nil, "no sale on an ordinary day")
  end,

  ["brand discount is rounded to whole roubles"] = function()
    -- 7% of 2 490 ₽ is 174.30 ₽: 174 ₽ off, then 2 316 ₽ ends in 90
    local answer = one(item(249000, "Altai"), nil, ORDINARY_DAY)
    expect_eq(answer.adjustments[1],
              { label = "Скидка на Altai −7%", amount = -17400, rule = "brand-discount" })
    expect_eq(answer.price, 229000)
    -- another brand gets nothing
    expect_eq(one(item(249000, "Tundra"), nil, ORDINARY_DAY).price, 249000)
  end,

  ["club card price is for signed-in members only"] = function()
    local it = item(249000)
    expect_eq(one(it, nil, ORDINARY_DAY).price, 249000)                      -- guest
    expect_eq(one(it, { id = 7 }, ORDINARY_DAY).price, 249000)                -- no field
    expect_eq(one(it, { id = 7, member = false }, ORDINARY_DAY).price, 249000)
    local answer = one(it, MEMBER, ORDINARY_DAY)
    -- 5% of 2 490 ₽ is 124.50 ₽, rounded to 125 ₽; 2 365 ₽ ends in 90
    expect_eq(answer.adjustments, {
      { label = "Цена по клубной карте −5%", amount = -12500, rule = "member-price" },
      { label = "Округление цены", amount = -7500, rule = "price-ending" },
    })
    expect_eq(answer.price, 229000)
  end,

  ["customer_key names who gets the same prices"] = function()
    local ctx = context(ORDINARY_DAY)
    expect_eq(M.customer_key(nil, ctx), "guest")
    expect_eq(M.customer_key(MEMBER, ctx), "member")
    expect_eq(M.customer_key({ id = 8, member = true, level = "gold" }, ctx), "member")
    expect_eq(M.customer_key({ id = 9 }, ctx), "customer")
    expect_eq(M.customer_key({ id = 9, member = false }, ctx), "customer")
  end,

  ["customers with the same key get the same prices"] = function()
    local same = {
      { nil, nil },
      { MEMBER, { id = 8, member = true, level = "gold" } },
      { { id = 9 }, { id = 10, member = false } },
    }
    for _, pair in ipairs(same) do
      expect_eq(M.customer_key(pair[1], context(BLACK_FRIDAY)),
                M.customer_key(pair[2], context(BLACK_FRIDAY)))
      expect_eq(one(item(249000, "Altai"), pair[1], BLACK_FRIDAY),
                one(item(249000, "Altai"), pair[2], BLACK_FRIDAY))
    end
    -- and different keys where the prices differ
    local ctx = context(BLACK_FRIDAY)
    expect(M.customer_key(MEMBER, ctx) ~= M.customer_key(nil, ctx), "members are not guests")
  end,

  ["discounts add up"] = function()
    -- 10% sale + 7% Altai + 5% club card, from the base price each
    local answer = one(item(249000, "Altai"), MEMBER, BLACK_FRIDAY)
    expect_eq(rules(answer), { "black-friday", "brand-discount", "member-price", "price-ending" })
    expect_eq(answer.price, 189000)
  end,

  ["discounts together stop at 25%"] = function()
    -- 15% New Year + 10% Nordika + 5% club card = 30% of 1 000 ₽; the cap gives
    -- 50 ₽ back, and 690 ₽ would be below the floor of 750 ₽: no ending
    local answer = one(item(100000, "Nordika"), MEMBER, NEW_YEAR)
    expect_eq(rules(answer), { "new-year-sale", "brand-discount", "member-price", "discount-cap" })
    expect_eq(answer.adjustments[4],
              { label = "Скидка не больше 25%", amount = 5000, rule = "discount-cap" })
    expect_eq(answer.price, 75000)
  end,

  ["cheap items keep a price without the ending"] = function()
    -- 50 ₽ - 10% = 45 ₽: there is no ...90 price at or below it
    expect_eq(one(item(5000), nil, BLACK_FRIDAY),
              { price = 4500, adjustments = { { label = "Чёрная пятница −10%", amount = -500,
                                                rule = "black-friday" } } })
  end,

  ["labels follow the shopper's language"] = function()
    local answer = one(item(249000, "Altai"), MEMBER, BLACK_FRIDAY, "en")
    local labels = {}
    for i, a in ipairs(answer.adjustments) do labels[i] = a.label end
    expect_eq(labels, { "Black Friday −10%", "Altai discount −7%", "Club card price −5%",
                        "Price rounding" })
    -- a language without texts falls back to Russian
    expect_eq(one(item(249000), nil, BLACK_FRIDAY, "de").adjustments[1].label,
              "Чёрная пятница −10%")
  end,

  ["one answer per item, in order"] = function()
    local items = { item(100000, nil, "A"), item(249000, "Altai", "B"), item(5000, nil, "C") }
    local prices = M.price(items, nil, context(ORDINARY_DAY))
    expect_eq(#prices, 3)
    expect_eq(prices[1].price, 100000)
    expect_eq(prices[2].price, 229000)
    expect_eq(prices[3].price, 5000)
    expect(souk.is_array(M.price({}, nil, context(ORDINARY_DAY))), "an empty page is a list")
  end,

  ["every price is whole kopecks and adds up"] = function()
    local bases = { 1, 99, 5000, 99990, 100000, 249000, 249950, 1234567, 99999900 }
    local brands = { "Tundra", "Altai", "Nordika" }
    local customers = { false, { id = 1 }, MEMBER }
    local moments = { ORDINARY_DAY, BLACK_FRIDAY, NEW_YEAR }
    for _, base in ipairs(bases) do
      for _, brand in ipairs(brands) do
        for _, customer in ipairs(customers) do
          for _, now in ipairs(moments) do
            local answer = one(item(base, brand), customer or nil, now)
            local sum = 0
            for _, a in ipairs(answer.adjustments) do
              expect(math.type(a.amount) == "integer", "amounts are integers")
              expect(a.label ~= "" and a.rule ~= "", "labels and rules are not empty")
              sum = sum + a.amount
            end
            expect(math.type(answer.price) == "integer", "prices are integers")
            expect_eq(answer.price, base + sum, "price = base + adjustments")
            expect(answer.price >= base - base * M.MAX_DISCOUNT_PERCENT // 100,
                   "never below the floor")
          end
        end
      end
    end
  end,

  ["an item without a variant is an error, not a price"] = function()
    expect_error(function()
      M.price({ { product = { brand = "Altai" } } }, nil, context(ORDINARY_DAY))
    end, "variant")
  end,
}
