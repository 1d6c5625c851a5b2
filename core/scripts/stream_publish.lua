-- redisx stream publish, one message or a batch in one round trip (contract v3)
-- KEYS[1]  {prefix}:stream:{<tag>}
-- ARGV[1]  trim: 'none' | 'maxlen' (MAXLEN ~ ARGV[2]) | 'minid' (MINID ~ of
--          the server's time in ms minus ARGV[2]: entries older than that)
-- ARGV[2]  trim threshold (entries, or an age in ms)
-- ARGV[3]  number of messages, then per message: its field count n, then n
--          name/value pairs (binary-safe)
-- Returns  the new entry ids, in the order of the messages
local trim = {}
if ARGV[1] == 'maxlen' then
  trim = {'MAXLEN', '~', ARGV[2]}
elseif ARGV[1] == 'minid' then
  local t = redis.call('TIME')
  local minid = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
  if minid < 0 then minid = 0 end
  trim = {'MINID', '~', string.format('%d', minid)}
end
local ids = {}
local i = 4
for m = 1, tonumber(ARGV[3]) do
  local n = tonumber(ARGV[i])
  i = i + 1
  local args = {KEYS[1]}
  for _, a in ipairs(trim) do args[#args + 1] = a end
  args[#args + 1] = '*'
  for j = 0, 2 * n - 1 do args[#args + 1] = ARGV[i + j] end
  i = i + 2 * n
  ids[m] = redis.call('XADD', unpack(args))
end
return ids
