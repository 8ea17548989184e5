rawset(string, "format", print) setmetatable(_G, {}) return { pcall(function() while true do end end) }
