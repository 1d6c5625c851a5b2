-- redisx rate limit: token bucket (contract v2)
-- KEYS[1]  {prefix}:rl:<name>:{<tag>}:tb  hash {t = tokens, ts = server time us of t}
-- ARGV     limit (tokens added per period), period ms, burst (bucket size),
--          cost, peek (1: spend nothing)
-- A missing key is a full bucket; the key expires when the bucket is full.
-- burst * period / limit <= 100 x 366 days (checked by the client) keeps
-- every time and expiry here exact in a double; %d, not %.17g, for expiries.
-- Returns  {allowed, burst, remaining, reset ms, retry-after ms (-1 if allowed)}
local limit, period, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost, peek = tonumber(ARGV[4]), ARGV[5] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = limit / (period * 1000) -- tokens per microsecond
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = burst
if v[1] then
  tokens = math.min(burst, tonumber(v[1]) + math.max(0, now - tonumber(v[2])) * rate)
end
local eps = 1e-9
local function ms(us) return math.ceil(us / 1000 - eps) end
if tokens + eps >= cost then
  if not peek then
    tokens = math.max(0, tokens - cost)
    local full = (burst - tokens) / rate
    redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%d', now))
    redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(1, ms(full))))
  end
  return {1, burst, math.floor(tokens + eps), math.max(0, ms((burst - tokens) / rate)), -1}
end
return {0, burst, math.floor(tokens + eps), ms((burst - tokens) / rate), math.max(1, ms((cost - tokens) / rate))}
