-- redisx rate limit: fixed window (contract v2)
-- KEYS[1]  {prefix}:rl:<name>:{<tag>}:fw  hash {w = window start ms, n = units spent}
-- ARGV     limit, period ms, burst (unused), cost, peek (1: spend nothing)
-- Windows are aligned to the Unix epoch on the server's clock.
-- Returns  {allowed, limit, remaining, reset ms, retry-after ms (-1 if allowed)}
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, peek = tonumber(ARGV[4]), ARGV[5] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = now - now % period
local left = start + period - now
local v = redis.call('HMGET', KEYS[1], 'w', 'n')
local used = 0
if tonumber(v[1]) == start then used = tonumber(v[2]) or 0 end
if used + cost > limit then
  local reset = 0
  if used > 0 then reset = left end
  return {0, limit, limit - used, reset, left}
end
if peek then
  local reset = 0
  if used > 0 then reset = left end
  return {1, limit, limit - used, reset, -1}
end
used = used + cost
redis.call('HSET', KEYS[1], 'w', start, 'n', used)
redis.call('PEXPIRE', KEYS[1], left)
return {1, limit, limit - used, left, -1}
