--[[
  Cancels a task (the cancel rule of decide() in src/core/state-machine.ts): a waiting
  (`queued` or `retrying`) task ends `cancelled` at once; a `processing` one is marked
  cancelRequested and its id published on the cancel channel, for the holder to stop it.
  A parked task (waiting for its turn in a lane) is waiting too: it ends at once.

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, for the dedup key and the scheduled set
      ARGV[2] task id
      ARGV[3] now (ms since the epoch)
      ARGV[4] retention (ms) of the cancelled record
      ARGV[5] pending TTL (ms) of a running record marked for cancel
      ARGV[6] events channel, told the id of a task that ended
      ARGV[7] cancel channel, told the id of a running task to stop

    Output:
      {'refused', reason}            reason: 'missing' or 'terminal'
      {'ok', field, value, ...}      the new record
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]
local id = ARGV[2]
local now = ARGV[3]

local f = redis.call('HMGET', taskKey, 'status', 'startedAt', 'dedupKey', 'orderingKey')
local status = f[1]
if not status then
  return refused('missing')
end
if isTerminal(status) then
  return refused('terminal')
end

if status == 'processing' then
  redis.call('HSET', taskKey, 'cancelRequested', '1')
  redis.call('PEXPIRE', taskKey, ARGV[5])
  unschedule(prefix, id)
  redis.call('PUBLISH', ARGV[7], id)
  return transitioned(taskKey)
end

leaveLimit(taskKey, prefix, id)
redis.call('HSET', taskKey,
  'status', 'cancelled', 'finishedAt', now, 'durationMs', durationSince(f[2], now),
  'error', CANCELLED_ERROR, 'runAt', '')
settleTerminal(taskKey, prefix, id, f[3], ARGV[4], ARGV[6], true, f[4])
return transitioned(taskKey)
