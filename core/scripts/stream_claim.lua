-- redisx stream claim: take entries with their delivery counts (contract v3)
-- KEYS[1]  {prefix}:stream:{<tag>}
-- ARGV[1]  group   ARGV[2] consumer   ARGV[3] min idle ms
-- ARGV[4]  mode: 'ids' (ARGV[5..] are the ids, XCLAIM) or 'auto'
--          (XAUTOCLAIM from cursor ARGV[5], COUNT ARGV[6])
-- Returns  {next cursor ('0' for 'ids'), {{id, delivery count, {f, v, ...}}, ...},
--          {ids that were pending but deleted from the stream}}
-- Claiming increments each entry's delivery count; deleted entries are
-- dropped from the pending list by Redis 7 and acknowledged here as well,
-- so no ghost stays pending.
local cursor, entries, deleted = '0', {}, {}
if ARGV[4] == 'auto' then
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[5], 'COUNT', ARGV[6])
  cursor, entries = r[1], r[2]
  deleted = r[3] or {}
else
  local ids = {}
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
  local r = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], unpack(ids))
  local seen = {}
  for _, e in ipairs(r) do
    if e then
      entries[#entries + 1] = e
      seen[e[1]] = true
    end
  end
  for _, id in ipairs(ids) do
    if not seen[id] and #redis.call('XRANGE', KEYS[1], id, id) == 0 then deleted[#deleted + 1] = id end
  end
end
local out = {}
for _, e in ipairs(entries) do
  if e and e[2] then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    local n = 1
    if #p > 0 then n = p[1][4] end
    out[#out + 1] = {e[1], n, e[2]}
  end
end
if #deleted > 0 then redis.call('XACK', KEYS[1], ARGV[1], unpack(deleted)) end
return {cursor, out, deleted}
