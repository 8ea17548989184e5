local M = {}
function M.price(item) return item.price * 9 // 10 end
return { items = { { price = M.price({ price = 1000 }) } }, name = ("x"):upper() }
