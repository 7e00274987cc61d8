--[[
  Claims one attempt of a task for a worker (the claim rule of decide() in
  src/core/state-machine.ts), writing the record from the envelope first when missing.

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, to find the holder's heartbeat and the result cache
      ARGV[2] claiming worker id
      ARGV[3] attempt being claimed
      ARGV[4] now (ms since the epoch)
      ARGV[5] pending TTL (ms) of the record
      ARGV[6...] hash fields of the record to write when there is none, as field, value pairs

    Output:
      {'refused', reason}                  reason: 'terminal', 'stale-attempt' or
                                           'held-by-live-worker'
      {'claimed', cache, field, value, ...} the claimed record; cache is the raw result
                                           cache entry, or '' when there is none to use
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]

if redis.call('EXISTS', taskKey) == 0 then
  redis.call('HSET', taskKey, unpack(ARGV, 6))
end

local f = redis.call('HMGET', taskKey, 'status', 'attempt', 'worker', 'useCache', 'dedupKey')
local status = f[1]
if status == 'success' or status == 'failed' or status == 'cancelled' then
  return {'refused', 'terminal'}
end
if tonumber(f[2]) ~= tonumber(ARGV[3]) then
  return {'refused', 'stale-attempt'}
end
if status == 'processing' and f[3] ~= ''
    and redis.call('EXISTS', prefix .. 'worker:' .. f[3]) == 1 then
  return {'refused', 'held-by-live-worker'}
end

redis.call('HSET', taskKey, 'status', 'processing', 'worker', ARGV[2], 'startedAt', ARGV[4])
redis.call('PEXPIRE', taskKey, ARGV[5])

local cache = ''
if f[4] == '1' and f[5] ~= '' then
  cache = redis.call('GET', prefix .. 'cache:' .. f[5]) or ''
end
return {'claimed', cache, unpack(redis.call('HGETALL', taskKey))}
