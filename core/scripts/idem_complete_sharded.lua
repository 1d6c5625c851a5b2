-- redisx idempotency complete (contract v4, sharded twin of idem_complete.lua)
-- Used by cluster clients only: the same as idem_complete.lua but the wake-up
-- goes out with SPUBLISH on the key's own shard channel (the slot of KEYS[1],
-- where waiters SSUBSCRIBE), not as a PUBLISH broadcast to every node.
-- KEYS[1]  {prefix}:idem:{<tag>}  (see idem_begin.lua)
-- ARGV     owner token, response, metadata, ttl ms of the completed record
-- Returns  1 stored (and SPUBLISH <key> completed); 0 not the owner (taken
--          over, completed or gone)
local r = redis.call('HMGET', KEYS[1], 'st', 'tok')
if r[1] ~= 'p' or r[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', 'c', 'resp', ARGV[2], 'meta', ARGV[3])
redis.call('HDEL', KEYS[1], 'tok', 'exp')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
-- Best effort: the write above happened and waiters also poll, so a
-- refused SPUBLISH (an ACL user without channel rights) must not turn it
-- into an error.
redis.pcall('SPUBLISH', KEYS[1], 'completed')
return 1
