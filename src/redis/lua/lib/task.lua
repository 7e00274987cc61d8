--[[
  Shared by the scripts that change a task (claim, finish, cancel, resubmit, requeue,
  promote): prepended to each of them when the store loads it (see src/redis/scripts.ts),
  so what ends a task is written once. Every name here is a local of the script.
]]

-- The error a cancelled task ends with: CANCELLED in src/core/state-machine.ts.
local CANCELLED_ERROR = '{"name":"YadtqError","code":"TASK_CANCELLED","message":"cancelled"}'

local function isTerminal(status)
  return status == 'success' or status == 'failed' or status == 'cancelled'
end

-- A number as its exact decimal text (tostring would round to 14 digits).
local function num(n)
  return string.format('%.17g', n)
end

-- durationMs of a task ending at `now` (a string): '' when it never started.
local function durationSince(startedAt, now)
  if not startedAt or startedAt == '' then
    return ''
  end
  return num(tonumber(now) - tonumber(startedAt))
end

-- Takes a task out of the scheduled set (its runAt is null now).
local function unschedule(prefix, id)
  redis.call('ZREM', prefix .. 'scheduled', id)
end

-- Tells waiters that a task ended. While anyone listens, the message is the id, a
-- newline and the record as a JSON array of field, value, ... (what HGETALL gives), so a
-- waiter needs no read; with no listener (the usual worker-only case) just the id, which
-- is also what a waiter reads the record after (src/redis/task-events.ts).
local function announce(taskKey, id, channel)
  if redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0 then
    redis.call('PUBLISH', channel, id .. '\n' .. cjson.encode(redis.call('HGETALL', taskKey)))
  else
    redis.call('PUBLISH', channel, id)
  end
end

-- After a task became terminal: keep the record for the retention, take it out of the
-- scheduled set, release its dedup key if that still points to it, and tell waiters.
local function settleTerminal(taskKey, prefix, id, dedupKey, retentionMs, channel)
  redis.call('PEXPIRE', taskKey, retentionMs)
  unschedule(prefix, id)
  if dedupKey and dedupKey ~= '' then
    local key = prefix .. 'dedup:' .. dedupKey
    if redis.call('GET', key) == id then
      redis.call('DEL', key)
    end
  end
  announce(taskKey, id, channel)
end

-- The reply of an accepted transition: {'ok', field, value, ...} of the new record.
local function transitioned(taskKey)
  return {'ok', unpack(redis.call('HGETALL', taskKey))}
end

local function refused(reason)
  return {'refused', reason}
end
