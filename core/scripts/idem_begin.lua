-- redisx idempotency begin (contract v2)
-- KEYS[1]  {prefix}:idem:{<tag>}  hash: st ("p" in progress | "c" completed),
--          fp (sha1 hex of the fingerprint), tok (owner token while "p"),
--          exp (lease end, server ms, while "p"), att (attempts), resp, meta
-- ARGV[1]  fingerprint (bytes; hashed here)
-- ARGV[2]  owner token chosen by the caller (random hex)
-- ARGV[3]  in-progress lease in ms; the record lives 2 x lease while "p"
-- Returns  {0, lease ms, taken_over}         NEW: the caller owns the record
--          {1, lease ms left}                IN_PROGRESS
--          {2, ttl ms left, resp, meta}      COMPLETED
--          {3, ttl ms left}                  MISMATCH (another fingerprint)
local fp = redis.sha1hex(ARGV[1])
local lease = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('HMGET', KEYS[1], 'st', 'fp', 'exp', 'resp', 'meta')
if not r[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'st', 'p', 'fp', fp, 'tok', ARGV[2], 'exp', string.format('%d', now + lease), 'att', 1)
  redis.call('PEXPIRE', KEYS[1], 2 * lease)
  return {0, lease, 0}
end
if r[2] ~= fp then return {3, redis.call('PTTL', KEYS[1])} end
if r[1] == 'c' then return {2, redis.call('PTTL', KEYS[1]), r[4] or '', r[5] or ''} end
local exp = tonumber(r[3]) or 0
if exp > now then return {1, exp - now} end
-- the lease passed: the worker crashed or hangs; take the record over
redis.call('HSET', KEYS[1], 'tok', ARGV[2], 'exp', string.format('%d', now + lease))
redis.call('HINCRBY', KEYS[1], 'att', 1)
redis.call('PEXPIRE', KEYS[1], 2 * lease)
return {0, lease, 1}
