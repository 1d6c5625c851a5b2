-- redisx lock inspect (contract v2)
-- KEYS[1]  {prefix}:lock:{<tag>}
-- KEYS[2]  {prefix}:lock:{<tag>}:fence
-- Returns  {locked (0/1), holder_fencing (0 when free), pttl ms (0 when free),
--           last fencing token the server still remembers for the name: the
--           holder's or a later one, or one issued within the original lease
--           of its acquire; 0 when none is remembered}
local cur = redis.call('GET', KEYS[1])
local last = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if not cur then
  return {0, 0, 0, last}
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then pttl = 0 end
local holder = tonumber(string.match(cur, '^(%d+):')) or 0
if holder > last then last = holder end
return {1, holder, pttl, last}
