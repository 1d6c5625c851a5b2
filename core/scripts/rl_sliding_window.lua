-- redisx rate limit: sliding window counter (contract v2)
-- KEYS[1]  {prefix}:rl:<name>:{<tag>}:sw  hash {w = current window start ms,
--                                          c = units in it, p = units in the one before}
-- ARGV     limit, period ms, burst (unused), cost, peek (1: spend nothing)
-- Estimate = p * (share of the previous window still inside the sliding
-- window) + c. Windows are aligned to the Unix epoch on the server's clock.
-- Returns  {allowed, limit, remaining, reset ms, retry-after ms (-1 if allowed)}
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, peek = tonumber(ARGV[4]), ARGV[5] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local start = now - now % period
local elapsed = now - start
local v = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w, c, p = tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3]) or 0
if w == start - period then
  p, c = c, 0
elseif w ~= start then
  p, c = 0, 0
end
local eps = 1e-9
local function estimate() return p * (period - elapsed) / period + c end
local function reset_ms()
  if c > 0 then return math.ceil(2 * period - elapsed) end
  if p > 0 then return math.ceil(period - elapsed) end
  return 0
end
local function remaining() return math.max(0, math.floor(limit - estimate() + eps)) end
if estimate() + cost <= limit + eps then
  if not peek then
    c = c + cost
    redis.call('HSET', KEYS[1], 'w', start, 'c', c, 'p', p)
    redis.call('PEXPIRE', KEYS[1], math.ceil(2 * period - elapsed))
  end
  return {1, limit, remaining(), reset_ms(), -1}
end
local wait
if c + cost <= limit and p > 0 then
  -- the previous window's weight decays enough within this window
  wait = (period - elapsed) - (limit - c - cost) * period / p
else
  -- this window becomes the previous one and must decay in the next
  wait = (period - elapsed) + math.max(0, period - (limit - cost) * period / c)
end
return {0, limit, remaining(), reset_ms(), math.max(1, math.ceil(wait - eps))}
