-- redisx lock extend / renew (contract v2)
-- KEYS[1]  {prefix}:lock:{<tag>}
-- ARGV[1]  owner token "<fencing>:<random hex>"
-- ARGV[2]  new remaining lease in milliseconds
-- Returns  1 extended; 0 not the owner (expired, or held by another token)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
