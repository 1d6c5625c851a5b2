-- redisx stream claim extension: reset the idle time of entries this
-- consumer still owns, so a slow handler is not reclaimed (contract v3)
-- KEYS[1]  {prefix}:stream:{<tag>}
-- ARGV[1]  group   ARGV[2] consumer   ARGV[3..] entry ids
-- Returns  the ids that are still pending on this consumer (extended);
--          an id missing from the reply was acked or reclaimed by another
--          consumer and is left alone (no XCLAIM stealing it back)
local mine = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p > 0 and p[1][2] == ARGV[2] then mine[#mine + 1] = ARGV[i] end
end
if #mine == 0 then return {} end
mine[#mine + 1] = 'JUSTID'
return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(mine))
