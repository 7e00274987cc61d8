--[[
  Writes the outcome of an attempt if the worker still holds its claim (the finish rule
  of decide() in src/core/state-machine.ts) and takes the task out of the worker's held
  set. A failure with a retry time and attempts left waits as `retrying` with the next
  attempt, in the scheduled set (still in flight: its dedup key stays, nobody is told).
  Any other outcome is terminal: the dedup key is released, the result cache filled,
  waiters told, and the task's lane (see lib/task.lua) handed on to its next task.

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, for the dedup, cache, held and scheduled keys
      ARGV[2] task id
      ARGV[3] finishing worker id
      ARGV[4] attempt being finished
      ARGV[5] now (ms since the epoch)
      ARGV[6] outcome status: 'success', 'failed' or 'cancelled'
      ARGV[7] result JSON ('' unless success)
      ARGV[8] error JSON ('' unless failed)
      ARGV[9] '1' when the result came from the cache, else '0'
      ARGV[10] retry time (ms since the epoch) of a failure, '' for none
      ARGV[11] retention (ms) of the finished record
      ARGV[12] pending TTL (ms) of a retrying record, counted from its retry time
      ARGV[13] result cache TTL (ms); 0 writes no cache entry
      ARGV[14] result cache entry: {"id":…,"finishedAt":…,"result":…}
      ARGV[15] events channel, told the task id

    Output:
      1 when the outcome was written, or already was (the same finish sent again); 0 when
      refused (missing, terminal, another attempt, or not held by this worker), or when a
      requested cancel ended the task instead of the outcome given
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]
local id = ARGV[2]
local now = ARGV[5]
local outcome = ARGV[6]

local f = redis.call('HMGET', taskKey,
  'status', 'attempt', 'worker', 'startedAt', 'dedupKey', 'maxAttempts', 'finishedAt',
  'cancelRequested', 'orderingKey', 'slot')
if f[1] ~= 'processing' or tonumber(f[2]) ~= tonumber(ARGV[4]) or f[3] ~= ARGV[3] then
  -- This very finish, sent again after its reply was lost (holdsFinish() in
  -- src/core/state-machine.ts): the worker's outcome of this attempt, stored at this time.
  local attempt = tonumber(ARGV[4])
  if f[1] == 'retrying' and outcome == 'failed' then
    attempt = attempt + 1
  elseif f[1] ~= outcome then
    return 0
  end
  if f[3] == ARGV[3] and f[7] == now and tonumber(f[2]) == attempt then
    return 1
  end
  return 0
end
local heldKey = prefix .. 'held:' .. ARGV[3]
-- No longer running: a concurrency slot it held goes to its group's next parked task.
releaseSlot(taskKey, prefix, id, f[10])
-- A cancel answered true is never lost, even when its message missed the worker.
local overridden = f[8] == '1' and outcome ~= 'cancelled'
if overridden then
  outcome = 'cancelled'
end

local startedAt = f[4]
if not startedAt or startedAt == '' then
  startedAt = now
end
local durationMs = durationSince(startedAt, now)
local attempt = tonumber(f[2])
local dedupKey = f[5] or ''

if outcome == 'failed' and ARGV[10] ~= '' and attempt < (tonumber(f[6]) or 0) then
  -- ZADD first: a retry time that is not a number fails the script before any write.
  redis.call('ZADD', prefix .. 'scheduled', ARGV[10], id)
  redis.call('SREM', heldKey, id)
  redis.call('HSET', taskKey,
    'status', 'retrying', 'attempt', num(attempt + 1), 'runAt', ARGV[10],
    'finishedAt', now, 'durationMs', durationMs, 'result', '', 'error', ARGV[8], 'cached', '0')
  -- Kept until the retry is due plus the pending TTL, however long the backoff.
  local wait = math.max(0, tonumber(ARGV[10]) - tonumber(now))
  redis.call('PEXPIRE', taskKey, string.format('%.0f', tonumber(ARGV[12]) + wait))
  return 1
end

local result, err, cached = '', ARGV[8], '0'
if outcome == 'success' then
  result, err, cached = ARGV[7], '', ARGV[9]
elseif outcome == 'cancelled' then
  err = CANCELLED_ERROR
end
redis.call('SREM', heldKey, id)
-- Empty fields are left out (they read as empty). A running task has no result and is
-- not cached; only an earlier attempt's error (kept while retrying) may need clearing.
local fields = {'status', outcome, 'finishedAt', now, 'durationMs', durationMs}
if result ~= '' then
  fields[#fields + 1], fields[#fields + 2] = 'result', result
end
if err ~= '' then
  fields[#fields + 1], fields[#fields + 2] = 'error', err
elseif attempt > 1 then
  redis.call('HDEL', taskKey, 'error')
end
if cached == '1' then
  fields[#fields + 1], fields[#fields + 2] = 'cached', cached
end
redis.call('HSET', taskKey, unpack(fields))

if dedupKey ~= '' and outcome == 'success' and cached ~= '1' and tonumber(ARGV[13]) > 0 then
  redis.call('SET', prefix .. 'cache:' .. dedupKey, ARGV[14], 'PX', ARGV[13])
end
settleTerminal(taskKey, prefix, id, dedupKey, ARGV[11], ARGV[15], false, f[9])
if overridden then
  return 0
end
return 1
