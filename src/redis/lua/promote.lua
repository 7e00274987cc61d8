--[[
  After the scheduler produced a waiting attempt (the promote rule of decide() in
  src/core/state-machine.ts): a `retrying` or delayed `queued` task becomes `queued` with
  no runAt. The task leaves the scheduled set unless it is still waiting with a runAt
  (a refusal for another attempt of a task that is scheduled again).

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, for the scheduled set
      ARGV[2] task id
      ARGV[3] attempt that was produced
      ARGV[4] now (ms since the epoch)
      ARGV[5] pending TTL (ms) of the queued record

    Output:
      {'refused', reason}            reason: 'missing', 'terminal', 'stale-attempt' or
                                     'not-waiting'
      {'ok', field, value, ...}      the new record
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]
local id = ARGV[2]

local f = redis.call('HMGET', taskKey, 'status', 'attempt', 'runAt')
local status = f[1]
local waiting = status == 'queued' or status == 'retrying'
local reason = nil
if not status then
  reason = 'missing'
elseif isTerminal(status) then
  reason = 'terminal'
elseif tonumber(f[2]) ~= tonumber(ARGV[3]) then
  reason = 'stale-attempt'
elseif not waiting then
  reason = 'not-waiting'
end

if reason then
  if not (waiting and f[3] and f[3] ~= '') then
    unschedule(prefix, id)
  end
  return refused(reason)
end

redis.call('HSET', taskKey, 'status', 'queued', 'runAt', '')
redis.call('PEXPIRE', taskKey, ARGV[5])
unschedule(prefix, id)
return transitioned(taskKey)
