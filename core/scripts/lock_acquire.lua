-- redisx lock acquire (contract v2)
-- KEYS[1]  {prefix}:lock:{<tag>}        lease, value "<fencing>:<random hex>"
-- KEYS[2]  {prefix}:lock:{<tag>}:fence  last fencing token issued, kept as long
--                                      as the lease it came with (and at least
--                                      until the server's clock has passed it)
-- ARGV[1]  random owner part (hex), chosen by the caller
-- ARGV[2]  lease in milliseconds
-- Returns  {1, fencing, token}        acquired; token = fencing .. ":" .. ARGV[1]
--          {0, holder_fencing, pttl}  held by someone else
-- The fencing token is max(last + 1, server time in microseconds): larger
-- than every token issued before for the name, as long as the server's clock
-- does not go backwards, without a key per name that never expires. Lua
-- numbers are doubles: microseconds since 1970 (~1.8e15) are exact below
-- 2^53 (until the year 2255).
local cur = redis.call('GET', KEYS[1])
if cur then
  local fence = tonumber(string.match(cur, '^(%d+):')) or 0
  return {0, fence, redis.call('PTTL', KEYS[1])}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local fence = now
if last >= fence then fence = last + 1 end
-- %d, not tostring: Lua 5.1 prints large numbers in exponent form
local token = string.format('%d:%s', fence, ARGV[1])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
-- Once the clock has passed `fence`, `now` alone exceeds it: `last` matters
-- only until then, or while the lease lasts (lock_inspect reports it).
local keep = math.max(tonumber(ARGV[2]), math.floor((fence - now) / 1000) + 2)
redis.call('SET', KEYS[2], string.format('%d', fence), 'PX', string.format('%d', keep))
return {1, fence, token}
