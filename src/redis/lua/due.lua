--[[
  The waiting tasks whose runAt has come, earliest first: entries of the scheduled set up
  to now whose record is `queued` or `retrying`. Entries of records that expired or moved
  on are removed on the way and do not count against the limit.

    Input:
      KEYS[1] scheduled set        P scheduled (score runAt, member task id)

      ARGV[1] key prefix P, to find the task records
      ARGV[2] now (ms since the epoch)
      ARGV[3] limit: the most records returned

    Output:
      {{field, value, ...}, ...}     the due records, earliest runAt first
]]
local scheduled = KEYS[1]
local prefix = ARGV[1]
local limit = tonumber(ARGV[3])

local due = {}
local kept = 0
while kept < limit do
  local ids = redis.call('ZRANGEBYSCORE', scheduled, '-inf', ARGV[2], 'LIMIT', kept, limit - kept)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local taskKey = prefix .. 'task:' .. id
    local status = redis.call('HGET', taskKey, 'status')
    if status == 'queued' or status == 'retrying' then
      kept = kept + 1
      due[kept] = redis.call('HGETALL', taskKey)
    else
      redis.call('ZREM', scheduled, id)
    end
  end
end
return due
