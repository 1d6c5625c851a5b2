-- redisx cache abandon and delete (contract v4, sharded twin of cache_release.lua)
-- Used by cluster clients only: the same as cache_release.lua but the wake-up
-- goes out with SPUBLISH on the key's own shard channel (the slot of KEYS[1],
-- where waiters SSUBSCRIBE), not as a PUBLISH broadcast to every node.
-- KEYS[1]  the entry, KEYS[2] its lease (see cache_fetch.lua)
-- ARGV[1]  "abandon": drop the lease if ARGV[2] holds it (a failed load);
--          "delete": drop the entry and any lease (a load in progress can
--          then no longer fill)
-- ARGV[2]  the loader's token (abandon)
-- Returns  1 done (and SPUBLISH <lease key> released); 0 abandon by a caller
--          that does not hold the lease
if ARGV[1] == 'delete' then
  redis.call('DEL', KEYS[1], KEYS[2])
elseif redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
else
  return 0
end
redis.pcall('SPUBLISH', KEYS[2], 'released')
return 1
