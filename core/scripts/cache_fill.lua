-- redisx cache fill and set (contract v5: the tag snapshot, ARGV[8])
-- KEYS[1]  the entry, KEYS[2] its lease (see cache_fetch.lua)
-- ARGV[1]  the loader's token ('' for a set)
-- ARGV[2]  the value (bytes; '' for a negative entry)
-- ARGV[3]  "1": a cached "not found"; "0": a value
-- ARGV[4]  fresh TTL, ms (jittered by the caller)
-- ARGV[5]  how long the entry stays past it as stale, ms
-- ARGV[6]  how long the loader took, ms (XFetch's delta)
-- ARGV[7]  "1": a set, unconditional (it also ends any load in progress,
--          whose fill is then refused); "0": a fill by the lease's owner
-- ARGV[8]  (v5; optional) the tag snapshot of a tagged entry, stored as its
--          field t: the versions of its tags read before the value was
--          loaded or set ('' or missing: untagged)
-- Returns  1 stored (the lease is deleted and PUBLISH <lease key> filled);
--          0 the caller does not hold the lease (nothing stored)
if ARGV[7] ~= '1' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'n', ARGV[3], 's', string.format('%d', now + ttl), 'd', ARGV[6])
if ARGV[8] and ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 't', ARGV[8]) end
redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[5]))
redis.call('DEL', KEYS[2])
-- Best effort: waiters also poll.
redis.pcall('PUBLISH', KEYS[2], 'filled')
return 1
