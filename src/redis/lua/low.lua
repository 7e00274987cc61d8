--[[
  Low-priority tasks still waiting for the task log, in the order they were created: the
  entries of P low whose record is `queued` with a runAt (not produced yet). Entries whose
  record moved on (produced, claimed, ended or gone) are removed on the way and do not
  count against the limit.

    Input:
      KEYS[1] low set              P low (score: create sequence, member task id)

      ARGV[1] key prefix P, to find the task records
      ARGV[2] limit: the most records returned

    Output:
      {{field, value, ...}, ...}     the waiting records, oldest first
]]
local low = KEYS[1]
local prefix = ARGV[1]
local limit = tonumber(ARGV[2])

local waiting = {}
local kept = 0
while kept < limit do
  local ids = redis.call('ZRANGE', low, kept, kept + (limit - kept) - 1)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local taskKey = prefix .. 'task:' .. id
    local f = redis.call('HMGET', taskKey, 'status', 'runAt')
    if f[1] == 'queued' and f[2] and f[2] ~= '' then
      kept = kept + 1
      waiting[kept] = redis.call('HGETALL', taskKey)
    else
      redis.call('ZREM', low, id)
    end
  end
end
return waiting
