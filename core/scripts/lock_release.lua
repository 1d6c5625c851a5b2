-- redisx lock release (contract v1)
-- KEYS[1]  {prefix}:lock:{name}
-- ARGV[1]  owner token "<fencing>:<random hex>"
-- Returns  1 released; 0 not the owner (expired, or held by another token)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
