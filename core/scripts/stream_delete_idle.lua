-- redisx stream: delete consumers of a group that are idle and hold no
-- pending entries, checked and deleted atomically (contract v3)
-- KEYS[1]  {prefix}:stream:{<tag>}
-- ARGV[1]  group   ARGV[2] the calling consumer (never deleted)
-- ARGV[3]  minimum idle time in ms
-- Returns  the number of consumers deleted. A consumer with pending
--          entries is never deleted (DELCONSUMER would drop them).
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] ~= ARGV[2] and tonumber(f['pending']) == 0 and tonumber(f['idle']) >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    n = n + 1
  end
end
return n
