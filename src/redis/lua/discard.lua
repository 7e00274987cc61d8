--[[
  Removes a record that was never produced, its dedup key if that still points to it, its
  entry in the scheduled set, and its place in its lane (the next task's turn, if parked).

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, to find the record's dedup key and the scheduled set
      ARGV[2] task id

    Output:
      1 when a record was removed, 0 when there was none
]]
local taskKey = KEYS[1]
redis.call('ZREM', ARGV[1] .. 'scheduled', ARGV[2])
-- A record without a dedup key may have no such field: the id tells that it exists.
local f = redis.call('HMGET', taskKey, 'id', 'dedupKey', 'orderingKey')
if not f[1] then
  return 0
end
local dedupKey = f[2] or ''
if dedupKey ~= '' then
  local key = ARGV[1] .. 'dedup:' .. dedupKey
  if redis.call('GET', key) == ARGV[2] then
    redis.call('DEL', key)
  end
end
leaveLane(taskKey, ARGV[1], ARGV[2], f[3])
redis.call('DEL', taskKey)
return 1
