--[[
  Gives a `failed` or `cancelled` task one more attempt (the resubmit rule of decide() in
  src/core/state-machine.ts): it is `queued` again with the next attempt, its run fields
  cleared; the caller produces it. The dedup key is not taken again. A task of a lane
  joins the end of its lane again (it waits for the tasks created before the resubmit).

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, for the scheduled set and the lanes
      ARGV[2] task id
      ARGV[3] now (ms since the epoch)
      ARGV[4] pending TTL (ms) of the queued record

    Output:
      {'refused', reason}            reason: 'missing' or 'not-retryable'
      {'ok', field, value, ...}      the new record (also for this very resubmit sent
                                     again: still queued, resubmittedAt = now)
]]
local taskKey = KEYS[1]

local f = redis.call('HMGET', taskKey, 'status', 'attempt', 'maxAttempts', 'resubmittedAt',
  'orderingKey')
local status = f[1]
if not status then
  return refused('missing')
end
-- This resubmit sent again (the client resends a command whose reply a dropped connection
-- lost): answered as the first was, so the caller still produces the attempt.
if status == 'queued' and f[4] == ARGV[3] then
  return transitioned(taskKey)
end
if status ~= 'failed' and status ~= 'cancelled' then
  return refused('not-retryable')
end

local attempt = tonumber(f[2]) + 1
redis.call('HSET', taskKey,
  'status', 'queued', 'attempt', num(attempt), 'maxAttempts', num(math.max(tonumber(f[3]), attempt)),
  'startedAt', '', 'finishedAt', '', 'durationMs', '', 'result', '', 'error', '', 'cached', '0',
  'runAt', '', 'losses', '0', 'cancelRequested', '0', 'resubmittedAt', ARGV[3])
redis.call('PEXPIRE', taskKey, ARGV[4])
unschedule(ARGV[1], ARGV[2])
if f[5] and f[5] ~= '' then
  joinLane(taskKey, ARGV[1], ARGV[2], f[5])
end
return transitioned(taskKey)
