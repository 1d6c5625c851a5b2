-- redisx idempotency fail (contract v4, sharded twin of idem_fail.lua)
-- Used by cluster clients only: the same as idem_fail.lua but the wake-up
-- goes out with SPUBLISH on the key's own shard channel (the slot of KEYS[1],
-- where waiters SSUBSCRIBE), not as a PUBLISH broadcast to every node.
-- KEYS[1]  {prefix}:idem:{<tag>}  (see idem_begin.lua)
-- ARGV[1]  owner token
-- Returns  1 deleted, so a retry runs the work (and SPUBLISH <key> failed);
--          0 not the owner (taken over, completed or gone)
local r = redis.call('HMGET', KEYS[1], 'st', 'tok')
if r[1] ~= 'p' or r[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
-- Best effort: the write above happened and waiters also poll, so a
-- refused SPUBLISH (an ACL user without channel rights) must not turn it
-- into an error.
redis.pcall('SPUBLISH', KEYS[1], 'failed')
return 1
