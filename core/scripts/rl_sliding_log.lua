-- redisx rate limit: sliding window log (contract v2)
-- KEYS[1]  {prefix}:rl:<name>:{<tag>}:sl      sorted set, one member per unit spent,
--                                             score = server time in microseconds
-- KEYS[2]  {prefix}:rl:<name>:{<tag>}:sl:seq  counter naming the members
-- ARGV     limit, period ms, burst (unused), cost, peek (1: spend nothing)
-- A unit counts while its score > now - period.
-- Returns  {allowed, limit, remaining, reset ms, retry-after ms (-1 if allowed)}
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, peek = tonumber(ARGV[4]), ARGV[5] == '1'
local window = period * 1000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local floor = '(' .. string.format('%d', now - window)
local used
if peek then
  used = redis.call('ZCOUNT', KEYS[1], floor, '+inf')
else
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  used = redis.call('ZCARD', KEYS[1])
end
-- microseconds until the unit at rank i (0 = oldest live one) leaves the window
local function leaves(i)
  local e = redis.call('ZRANGEBYSCORE', KEYS[1], floor, '+inf', 'WITHSCORES', 'LIMIT', i, 1)
  if #e < 2 then return 0 end
  return tonumber(e[2]) + window - now
end
local function ms(us) return math.ceil(us / 1000) end
if used + cost <= limit and not peek then
  local last = redis.call('INCRBY', KEYS[2], cost)
  local batch = {}
  for i = last - cost + 1, last do
    batch[#batch + 1] = now
    batch[#batch + 1] = string.format('%d', i)
    if #batch >= 2000 then
      redis.call('ZADD', KEYS[1], unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('ZADD', KEYS[1], unpack(batch)) end
  redis.call('PEXPIRE', KEYS[1], period)
  redis.call('PEXPIRE', KEYS[2], period)
  return {1, limit, limit - used - cost, period, -1}
end
local reset = 0
if used > 0 then reset = ms(leaves(used - 1)) end
if used + cost <= limit then return {1, limit, limit - used, reset, -1} end
return {0, limit, limit - used, reset, ms(leaves(used + cost - limit - 1))}
