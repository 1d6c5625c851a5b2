-- redisx rate limit: GCRA, generic cell rate algorithm (contract v2)
-- KEYS[1]  {prefix}:rl:<name>:{<tag>}:gcra  string: theoretical arrival time,
--                                           server time in microseconds
-- ARGV     limit (units per period), period ms, burst (units at once), cost,
--          peek (1: spend nothing)
-- Emission interval T = period / limit; a request of cost n is allowed when
-- max(tat, now) + n*T - burst*T <= now. The key expires when the budget is whole.
-- burst * period / limit <= 100 x 366 days (checked by the client) keeps
-- every time and expiry here exact in a double; %d, not %.17g, for expiries.
-- Returns  {allowed, burst, remaining, reset ms, retry-after ms (-1 if allowed)}
local limit, period, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost, peek = tonumber(ARGV[4]), ARGV[5] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = period * 1000 / limit
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local eps = 1e-6
local function ms(us) return math.ceil(us / 1000 - eps) end
local function available(at) return math.max(0, math.floor((now - at + tolerance) / interval + eps)) end
local new_tat = tat + cost * interval
local allow_at = new_tat - tolerance
if allow_at <= now + eps * interval then
  if peek then return {1, burst, available(tat), ms(tat - now), -1} end
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', string.format('%d', math.max(1, ms(new_tat - now))))
  return {1, burst, available(new_tat), ms(new_tat - now), -1}
end
return {0, burst, available(tat), ms(tat - now), math.max(1, ms(allow_at - now))}
