-- redisx stream dead letter: move one pending entry to the dead-letter
-- stream and acknowledge it, atomically (contract v3)
-- KEYS[1]  {prefix}:stream:{<tag>}       the source stream
-- KEYS[2]  {prefix}:stream:{<tag>}:dlq   its dead-letter stream (same slot)
-- ARGV[1]  group   ARGV[2] entry id   ARGV[3] consumer   ARGV[4] error text
-- ARGV[5]  stream name (as the caller gave it)   ARGV[6] DLQ MAXLEN ~ (0: none)
-- Returns  {1, dlq id, delivery count} moved and acked;
--          {0} the entry is not pending (acked already);
--          {-1, owner} another consumer owns it now (reclaimed): untouched
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 then return {0} end
if p[1][2] ~= ARGV[3] then return {-1, p[1][2]} end
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local args = {KEYS[2]}
if tonumber(ARGV[6]) > 0 then
  args[#args + 1] = 'MAXLEN'
  args[#args + 1] = '~'
  args[#args + 1] = ARGV[6]
end
local meta = {'*', 'rx-dlq-stream', ARGV[5], 'rx-dlq-id', ARGV[2], 'rx-dlq-group', ARGV[1],
              'rx-dlq-consumer', ARGV[3], 'rx-dlq-deliveries', tostring(p[1][4]), 'rx-dlq-error', ARGV[4]}
if #e == 0 then
  meta[#meta + 1] = 'rx-dlq-deleted'
  meta[#meta + 1] = '1'
end
for _, a in ipairs(meta) do args[#args + 1] = a end
if #e > 0 then
  for _, a in ipairs(e[1][2]) do args[#args + 1] = a end
end
local id = redis.call('XADD', unpack(args))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return {1, id, p[1][4]}
