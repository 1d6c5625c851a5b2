-- redisx lock release of an unclaimed lease (contract v2)
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
  redis.pcall('PUBLISH', KEYS[1], 'released')
  return 1
end
return 0
