-- redisx lock release of an unclaimed lease (contract v4, sharded twin of lock_release_unclaimed.lua)
-- Used by cluster clients only: the same as lock_release_unclaimed.lua but the wake-up
-- goes out with SPUBLISH on the key's own shard channel (the slot of KEYS[1],
-- where waiters SSUBSCRIBE), not as a PUBLISH broadcast to every node.
-- KEYS[1]  {prefix}:lock:{<tag>}
-- ARGV[1]  the random owner part (32 lowercase hex) of an acquire whose
--          answer the caller never used: it timed out, its connection was
--          lost, or it was cancelled
-- Returns  1 released: that acquire did take the lease; 0 it did not (or the
--          lease has expired or moved on)
-- The client sends this itself; no caller ever owned the lease.
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, -(#ARGV[1] + 1)) == ':' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
  -- Best effort, as in lock_release.lua.
  redis.pcall('SPUBLISH', KEYS[1], 'released')
  return 1
end
return 0
