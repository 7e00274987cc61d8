--[[
  The reaper's step for one task of a dead worker (the requeue rule of decide() in
  src/core/state-machine.ts). If the worker's heartbeat key exists again (it beat after
  the reaper listed it as dead), nothing changes: refused 'alive'. Otherwise the task
  always leaves the dead worker's held set. If that
  worker still holds it, the loss is counted and the task goes back to `queued` for the
  caller to produce again (and in the recovering set P recovering, score now, where live
  workers take it from without waiting for Kafka), or ends: `cancelled` when its cancel was requested, `failed`
  (WORKER_LOST) once it has been lost maxLosses times.

    Input:
      KEYS[1] task key             P task:<id>
      KEYS[2] heartbeat key        P worker:<dead worker id>

      ARGV[1] key prefix P, for the held set, the dedup key, the scheduled and recovering sets
      ARGV[2] task id
      ARGV[3] dead worker id
      ARGV[4] now (ms since the epoch)
      ARGV[5] maxLosses: the loss that ends the task
      ARGV[6] retention (ms) of an ended record
      ARGV[7] pending TTL (ms) of a queued record
      ARGV[8] events channel, told the id of a task that ended

    Output:
      {'refused', reason}            reason: 'alive', 'missing', 'terminal' or 'not-holder'
      {'ok', field, value, ...}      the new record
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]
local id = ARGV[2]
local workerId = ARGV[3]
local now = ARGV[4]

if redis.call('EXISTS', KEYS[2]) == 1 then
  return refused('alive')
end
redis.call('SREM', prefix .. 'held:' .. workerId, id)

local f = redis.call('HMGET', taskKey,
  'status', 'worker', 'losses', 'cancelRequested', 'startedAt', 'dedupKey', 'orderingKey', 'slot')
local status = f[1]
if not status then
  return refused('missing')
end
if isTerminal(status) then
  return refused('terminal')
end
if status ~= 'processing' or f[2] ~= workerId then
  return refused('not-holder')
end

-- Its run is over either way: the dead worker's concurrency slot is given back.
releaseSlot(taskKey, prefix, id, f[8])
local losses = (tonumber(f[3]) or 0) + 1
local ended = nil
if f[4] == '1' then
  ended = {'cancelled', CANCELLED_ERROR}
elseif losses >= tonumber(ARGV[5]) then
  -- workerLostError() in src/core/state-machine.ts
  ended = {'failed', cjson.encode({
    name = 'WorkerLostError',
    code = 'WORKER_LOST',
    message = 'worker lost: ' .. num(losses) .. ' worker(s) died while running this task (last: '
      .. workerId .. '); not recovered again',
  })}
end

if ended then
  redis.call('HSET', taskKey,
    'status', ended[1], 'error', ended[2], 'losses', num(losses),
    'finishedAt', now, 'durationMs', durationSince(f[5], now))
  settleTerminal(taskKey, prefix, id, f[6], ARGV[6], ARGV[8], false, f[7])
else
  redis.call('HSET', taskKey, 'status', 'queued', 'startedAt', '', 'losses', num(losses))
  redis.call('PEXPIRE', taskKey, ARGV[7])
  unschedule(prefix, id)
  redis.call('ZADD', prefix .. 'recovering', now, id)
end
return transitioned(taskKey)
