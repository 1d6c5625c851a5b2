-- redisx lock acquire (contract v2)
-- KEYS[1]  {prefix}:lock:{<tag>}        lease, value "<fencing>:<random hex>"
-- KEYS[2]  {prefix}:lock:{<tag>}:fence  fencing counter, never expires
-- ARGV[1]  random owner part (hex), chosen by the caller
-- ARGV[2]  lease in milliseconds
-- Returns  {1, fencing, token}        acquired; token = fencing .. ":" .. ARGV[1]
--          {0, holder_fencing, pttl}  held by someone else
local cur = redis.call('GET', KEYS[1])
if cur then
  local fence = tonumber(string.match(cur, '^(%d+):')) or 0
  return {0, fence, redis.call('PTTL', KEYS[1])}
end
local fence = redis.call('INCR', KEYS[2])
-- %d, not tostring: Lua 5.1 prints large numbers in exponent form
local token = string.format('%d:%s', fence, ARGV[1])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return {1, fence, token}
