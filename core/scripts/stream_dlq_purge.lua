-- redisx stream DLQ purge: delete dead-lettered entries (contract v4)
-- KEYS[1]  {prefix}:stream:{<tag>}:dlq
-- ARGV[1]  "" for every entry, or the last id to delete (inclusive): every
--          entry up to it goes
-- Returns  the number of entries deleted. The key itself stays (XTRIM, not
--          DEL), so groups made on the DLQ by hand survive.
if ARGV[1] == '' then
  return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
end
local n = 0
while true do
  local e = redis.call('XRANGE', KEYS[1], '-', ARGV[1], 'COUNT', 500)
  if #e == 0 then return n end
  local ids = {}
  for i, x in ipairs(e) do ids[i] = x[1] end
  n = n + redis.call('XDEL', KEYS[1], unpack(ids))
end
