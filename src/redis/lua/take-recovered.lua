--[[
  Hands a live worker tasks the reaper took back from dead workers, without waiting for
  Kafka (which may be down, or may have the task on a partition whose owner just died):
  entries of the recovering set whose time has come and whose record is still `queued`.
  Each one handed out is leased: its score moves to now + lease, so a taker that dies
  before its claim does not strand it. Entries whose record moved on are removed on the
  way and do not count against the limit. The claim step still decides who runs a task.

    Input:
      KEYS[1] recovering set       P recovering (score: when it may be taken, member task id)

      ARGV[1] key prefix P, to find the task records
      ARGV[2] now (ms since the epoch)
      ARGV[3] limit: the most records returned
      ARGV[4] lease (ms)

    Output:
      {{field, value, ...}, ...}     the records handed out, longest waiting first
]]
local recovering = KEYS[1]
local prefix = ARGV[1]
local limit = tonumber(ARGV[3])
local leasedUntil = tonumber(ARGV[2]) + tonumber(ARGV[4])

local taken = {}
local kept = 0
while kept < limit do
  local ids = redis.call('ZRANGEBYSCORE', recovering, '-inf', ARGV[2], 'LIMIT', 0, limit - kept)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local taskKey = prefix .. 'task:' .. id
    if redis.call('HGET', taskKey, 'status') == 'queued' then
      kept = kept + 1
      redis.call('ZADD', recovering, leasedUntil, id)
      taken[kept] = redis.call('HGETALL', taskKey)
    else
      redis.call('ZREM', recovering, id)
    end
  end
end
return taken
