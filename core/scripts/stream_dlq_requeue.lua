-- redisx stream DLQ requeue: put one dead-lettered entry back on its source
-- stream and delete it from the dead-letter stream, atomically (contract v4)
-- KEYS[1]  {prefix}:stream:{<tag>}       the source stream
-- KEYS[2]  {prefix}:stream:{<tag>}:dlq   its dead-letter stream (same slot)
-- ARGV[1]  the DLQ entry id
-- Returns  {1, new id} re-added (with rx-requeued-from = the original id,
--          then the original fields) and deleted from the DLQ;
--          {0} no such DLQ entry;
--          {-1} the entry holds no original fields (rx-dlq-deleted): left
local e = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #e == 0 then return {0} end
local f = e[1][2]
local orig, deleted, user = '', false, {}
for i = 1, #f, 2 do
  local n = f[i]
  if n == 'rx-dlq-id' then
    orig = f[i + 1]
  elseif n == 'rx-dlq-deleted' then
    deleted = true
  elseif n ~= 'rx-requeued-from' and string.sub(n, 1, 7) ~= 'rx-dlq-' then
    user[#user + 1] = n
    user[#user + 1] = f[i + 1]
  end
end
if deleted or #user == 0 then return {-1} end
local args = {KEYS[1], '*', 'rx-requeued-from', orig}
for _, a in ipairs(user) do args[#args + 1] = a end
local id = redis.call('XADD', unpack(args))
redis.call('XDEL', KEYS[2], ARGV[1])
return {1, id}
