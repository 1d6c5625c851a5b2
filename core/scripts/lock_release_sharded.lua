-- redisx lock release (contract v4, sharded twin of lock_release.lua)
-- Used by cluster clients only: the same as lock_release.lua but the wake-up
-- goes out with SPUBLISH on the key's own shard channel (the slot of KEYS[1],
-- where waiters SSUBSCRIBE), not as a PUBLISH broadcast to every node.
-- KEYS[1]  {prefix}:lock:{<tag>}
-- ARGV[1]  owner token "<fencing>:<random hex>"
-- Returns  1 released; 0 not the owner (expired, or held by another token)
-- Publishes "released" on the channel named like KEYS[1], which waiting
-- acquirers subscribe to (they also poll: a message can be missed).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  -- Best effort: the write above happened and waiters also poll, so a
  -- refused SPUBLISH (an ACL user without channel rights) must not turn it
  -- into an error.
  redis.pcall('SPUBLISH', KEYS[1], 'released')
  return 1
end
return 0
