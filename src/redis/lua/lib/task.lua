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

-- Whether the events channel has listeners, asked once per script call: a script runs
-- alone, so nobody subscribes or leaves while it runs (a batch asks once for all tasks).
local listening = nil

-- Tells waiters that a task ended: the id, a newline and the record as a JSON array of
-- field, value, ... (what HGETALL gives), so a waiter needs no read. With no listener (the
-- usual worker-only case) nothing is sent: nobody subscribes by pattern, and a waiter
-- subscribes before it reads the record (src/redis/task-events.ts), so a waiter that
-- subscribes after this script finds the record terminal.
local function announce(taskKey, id, channel)
  if listening == nil then
    listening = redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0
  end
  if listening then
    redis.call('PUBLISH', channel, id .. '\n' .. cjson.encode(redis.call('HGETALL', taskKey)))
  end
end

-- After a task became terminal: keep the record for the retention, take it out of the
-- scheduled set when it may be there (`scheduled`: it was waiting, not processing: a
-- claim takes a task out), release its dedup key if that still points to it, and tell
-- waiters.
local function settleTerminal(taskKey, prefix, id, dedupKey, retentionMs, channel, scheduled)
  redis.call('PEXPIRE', taskKey, retentionMs)
  if scheduled then
    unschedule(prefix, id)
  end
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

-- Keys whose TTL this script call has set: a batch sets a shared key's TTL once (every
-- task of the call gives the same one).
local expired = {}
local function pexpireOnce(key, ttl)
  if not expired[key] then
    expired[key] = true
    redis.call('PEXPIRE', key, ttl)
  end
end

local function refused(reason)
  return {'refused', reason}
end
