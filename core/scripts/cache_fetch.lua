-- redisx cache fetch (contract v5: the tag snapshot t, ARGV[7], the 9th result)
-- KEYS[1]  {prefix}:cache:<cache>:{<tag>}        hash: v (the value, bytes),
--          n ("1": a cached "not found"), s (fresh until, server ms),
--          d (how long the loader took, ms: XFetch's delta), t (since v5,
--          only on a tagged entry: the versions of its tags when its value
--          was loaded, checked by the client against the tags' keys). The key lives
--          until s + the cache's stale window (PEXPIRE).
-- KEYS[2]  {prefix}:cache:<cache>:{<tag>}:lease  string: the token of the one
--          caller loading or refreshing the entry, PX the lease; fill and
--          abandon PUBLISH on this key's name to wake waiters.
-- ARGV[1]  mode: "get" (never takes the lease) | "fetch"
-- ARGV[2]  the caller's token (random hex)
-- ARGV[3]  lease ms
-- ARGV[4]  stale-while-revalidate window of this call, ms (0: none)
-- ARGV[5]  stale-if-error window of this call, ms (0: none)
-- ARGV[6]  XFetch gap factor of this call: -beta * ln(u), u uniform in
--          (0, 1] drawn by the caller (0: no early refresh)
-- ARGV[7]  (v5; optional) a tag snapshot the caller found dead (a tag's
--          version moved on): an entry carrying exactly it is deleted and
--          treated as absent ('' or missing: none)
-- Returns  {code, value, negative, fresh_left_ms, ttl_left_ms, delta_ms,
--           lease_left_ms, has_value, tag_snapshot ('' when untagged)}
--   code 0  HIT: fresh
--        1  HIT and the caller now holds the lease: refresh early (XFetch)
--        2  STALE within the SWR window and the caller holds the lease:
--           serve it and refresh
--        3  STALE within the SWR window, another caller refreshes: serve it
--        4  LOAD: the caller holds the lease (value: a stale fallback
--           within the stale-if-error window, has_value 1)
--        5  WAIT: another caller loads (lease_left_ms; stale fallback as 4)
--        6  MISS (mode "get": absent or not fresh)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'v', 'n', 's', 'd', 't')
if h[1] and h[5] and ARGV[7] and ARGV[7] ~= '' and h[5] == ARGV[7] then
  -- Versions only grow: an entry with this snapshot can never be valid again.
  redis.call('DEL', KEYS[1])
  h = {false, false, false, false, false}
end
local snap = h[5] or ''
local fetch = ARGV[1] == 'fetch'
local function take()
  if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return true end
  return redis.call('GET', KEYS[2]) == ARGV[2]
end
local function lease_left()
  local p = redis.call('PTTL', KEYS[2])
  if p < 0 then return 0 end
  return p
end
if h[1] then
  local fresh = (tonumber(h[3]) or 0) - now
  local delta = tonumber(h[4]) or 0
  local ttl = redis.call('PTTL', KEYS[1])
  local neg = 0
  if h[2] == '1' then neg = 1 end
  if fresh > 0 then
    local gap = tonumber(ARGV[6]) or 0
    if fetch and neg == 0 and delta > 0 and gap > 0 and delta * gap >= fresh and take() then
      return {1, h[1], neg, fresh, ttl, delta, 0, 1, snap}
    end
    return {0, h[1], neg, fresh, ttl, delta, 0, 1, snap}
  end
  if not fetch then return {6, '', 0, fresh, ttl, delta, 0, 0, snap} end
  if neg == 0 and -fresh <= tonumber(ARGV[4]) then
    if take() then return {2, h[1], 0, fresh, ttl, delta, 0, 1, snap} end
    return {3, h[1], 0, fresh, ttl, delta, lease_left(), 1, snap}
  end
  local v, has = '', 0
  if neg == 0 and -fresh <= tonumber(ARGV[5]) then v, has = h[1], 1 end
  if take() then return {4, v, 0, fresh, ttl, delta, 0, has, snap} end
  return {5, v, 0, fresh, ttl, delta, lease_left(), has, snap}
end
if not fetch then return {6, '', 0, 0, -2, 0, 0, 0, snap} end
if take() then return {4, '', 0, 0, -2, 0, 0, 0, snap} end
return {5, '', 0, 0, -2, 0, lease_left(), 0, snap}
