--[[
  Claims one attempt of a task for a worker (the claim rule of decide() in
  src/core/state-machine.ts), writing the record from the envelope first when missing.
  The task moves into the claiming worker's held set. A processing task is never claimed,
  even from a dead holder: the reaper alone recovers those, counting the loss.

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, for the held sets, the scheduled set
              and the result cache
      ARGV[2] claiming worker id
      ARGV[3] attempt being claimed
      ARGV[4] now (ms since the epoch)
      ARGV[5] pending TTL (ms) of the record and of the worker's held set
      ARGV[6] task id
      ARGV[7] timeoutMs to write into the claimed record, '' to keep the record's
      ARGV[8] maxAttempts to write into the claimed record, '' to keep the record's
              (the definition's values of options the submitter left unset: with
              either one given, the record's 'unset' marks are removed)
      ARGV[9] lone losses: when not '', a task with at least this many losses is refused
              'run-alone' (the claimer holds other tasks; such a task must run alone)
      ARGV[10] lane stall (ms): a task parked behind a lane's first task that is queued
              (not delayed) offers that one in the recovering set from this long on, so
              a first task whose message never comes (its submitter died between create
              and produce) does not hold its lane for the pending TTL
      ARGV[11] the gates, '' for none (the usual claim, so it stays small), else a JSON
              array: concurrency group ('limit:<name>[:<key>]', '' for none), its
              limit (tasks holding a slot at once), rate group ('rate:<name>[:<key>]',
              '' for none), its limit (starts in any window), its window (ms)
      ARGV[12...] hash fields of the record to write when there is none, as field, value
              pairs; callers send them only after a {'missing'} reply, so the usual
              claim of an existing record stays small

    A task whose name is paused (in P paused) is parked on 'pause:<name>' (P waiting:pause:
    <name>, resume.lua offers them again), giving back a slot it was handed. A task with an
    orderingKey is claimed only when its turn has come in its lane (it is
    the lane's first task, lib/task.lua), a task with a rate group only when the group's
    window has room, and a task with a concurrency group only with a slot of the group
    (taken now, or handed to it); before that it is parked and refused 'parked' (the
    caller settles its delivery: it is handed on when its turn comes).

    Output:
      {'missing'}                          no record, and no fields were given to write one
      {'refused', reason}                  reason: 'terminal', 'stale-attempt', 'held',
                                           'run-alone' or 'parked'
      {'claimed', cache, error, result, cached, useCache, losses, cancelRequested, laneSeq}
              cache is the raw result cache entry, or '' when there is none to use; then
              the fields of the claimed record that neither the envelope nor the claim
              itself gives (a missing one as nil): the caller builds the record from them
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]
local workerId = ARGV[2]
local id = ARGV[6]

-- One read for the rules and the reply (a record always has a status: none, no record).
local FIELDS = {'status', 'attempt', 'worker', 'useCache', 'dedupKey', 'runAt', 'finishedAt',
  'losses', 'error', 'result', 'cached', 'cancelRequested', 'orderingKey', 'laneSeq', 'name'}
-- A field may be missing (false here): records leave out empty and default fields.
local f = redis.call('HMGET', taskKey, unpack(FIELDS))
if not f[1] then
  if #ARGV < 12 then
    return {'missing'}
  end
  redis.call('HSET', taskKey, unpack(ARGV, 12))
  redis.call('PEXPIRE', taskKey, ARGV[5])
  f = redis.call('HMGET', taskKey, unpack(FIELDS))
end
local status = f[1]
local holder = f[3] or ''
if isTerminal(status) then
  return refused('terminal')
end
if tonumber(f[2]) ~= tonumber(ARGV[3]) then
  return refused('stale-attempt')
end
if status == 'processing' then
  return refused('held')
end
if ARGV[9] ~= '' and tonumber(f[8] or '0') >= tonumber(ARGV[9]) then
  return refused('run-alone')
end
local pauseGroup = 'pause:' .. (f[15] or '')
if redis.call('SISMEMBER', prefix .. 'paused', f[15] or '') == 1 then
  redis.call('ZREM', prefix .. 'recovering', id)
  if redis.call('HGET', taskKey, 'parkedOn') ~= pauseGroup then
    -- Handed a slot while it waited: it goes to the next one of the group.
    releaseSlot(taskKey, prefix, id, redis.call('HGET', taskKey, 'slot'))
    park(taskKey, prefix, pauseGroup, ARGV[5])
    local waiting = prefix .. 'waiting:' .. pauseGroup
    redis.call('ZADD', waiting, redis.call('INCR', prefix .. 'laneseq'), id)
    redis.call('PEXPIRE', waiting, ARGV[5])
  end
  return refused('parked')
end
local orderingKey = f[13]
local laneSeq = f[14]
local gates = {'', 0, '', 0, 0}
if ARGV[11] ~= '' then
  gates = cjson.decode(ARGV[11])
end
local limitGroup, rateGroup = gates[1], gates[3]
if (orderingKey and orderingKey ~= '') or limitGroup ~= '' or rateGroup ~= '' then
  -- This claim answers whatever offered the task (its turn, a lost worker): it runs, or it
  -- parks and is offered again when its turn comes, not at every lease in between.
  redis.call('ZREM', prefix .. 'recovering', id)
end
if orderingKey and orderingKey ~= '' then
  if not redis.call('ZSCORE', laneKey(prefix, orderingKey), id) then
    -- Not in its lane: its record was made from the envelope (the stored one was lost), or
    -- the lane key itself went (evicted): it joins the end.
    joinLane(taskKey, prefix, id, orderingKey)
    laneSeq = redis.call('HGET', taskKey, 'laneSeq')
  end
  local head = laneHead(prefix, orderingKey)
  local group = 'lane:' .. orderingKey
  local parked = redis.call('HGET', taskKey, 'parkedOn') == group
  if head ~= id then
    if not parked then
      -- It lives at least as long as its lane may wait (a delayed first task included).
      park(taskKey, prefix, group,
        math.max(tonumber(ARGV[5]), redis.call('PTTL', laneKey(prefix, orderingKey))))
    end
    local first = redis.call('HMGET', prefix .. 'task:' .. head, 'status', 'runAt')
    if first[1] == 'queued' and (first[2] or '') == '' then
      redis.call('ZADD', prefix .. 'recovering', 'NX', num(tonumber(ARGV[4]) + tonumber(ARGV[10])),
        head)
    end
    return refused('parked')
  end
  if parked then
    unpark(taskKey, prefix, group)
  end
end
local now = tonumber(ARGV[4])
if rateGroup ~= '' then
  local n, interval = gates[4], gates[5]
  if not rateAllows(taskKey, prefix, id, rateGroup, n, interval, now, ARGV[5]) then
    -- It cannot start yet: a concurrency slot it was handed goes to the next one.
    if limitGroup ~= '' and redis.call('HGET', taskKey, 'slot') == limitGroup then
      releaseSlot(taskKey, prefix, id, limitGroup)
    end
    return refused('parked')
  end
  rateDequeue(taskKey, prefix, id, rateGroup, n, interval, now)
end
if limitGroup ~= '' then
  local slots = prefix .. 'slots:' .. limitGroup
  local limit = gates[2]
  local function holds()
    return redis.call('HGET', taskKey, 'slot') == limitGroup
      and redis.call('SISMEMBER', slots, id) == 1
  end
  if not holds() then
    if redis.call('SCARD', slots) >= limit then
      -- Members whose record ended, expired or holds no slot here give theirs back.
      for _, member in ipairs(redis.call('SMEMBERS', slots)) do
        local m = redis.call('HMGET', prefix .. 'task:' .. member, 'slot', 'status')
        if m[1] ~= limitGroup or not m[2] or isTerminal(m[2]) then
          redis.call('SREM', slots, member)
        end
      end
    end
    -- Free slots go to the tasks that waited longest first (this one too, if it waits).
    while redis.call('SCARD', slots) < limit and handSlot(prefix, limitGroup) do
    end
    if not holds() then
      local waiting = prefix .. 'waiting:' .. limitGroup
      if redis.call('SCARD', slots) >= limit then
        if redis.call('HGET', taskKey, 'parkedOn') ~= limitGroup then
          park(taskKey, prefix, limitGroup, ARGV[5])
          redis.call('ZADD', waiting, redis.call('INCR', prefix .. 'laneseq'), id)
          redis.call('PEXPIRE', waiting, ARGV[5])
        end
        return refused('parked')
      end
      redis.call('SADD', slots, id)
      redis.call('HSET', taskKey, 'slot', limitGroup)
    end
  end
end
if rateGroup ~= '' then
  rateStart(prefix, id, ARGV[3], rateGroup, gates[4], gates[5], now)
end

redis.call('HSET', taskKey, 'status', 'processing', 'worker', workerId, 'startedAt', ARGV[4])
-- The definition's options for a task submitted by name (filled() in the state machine).
if ARGV[7] ~= '' or ARGV[8] ~= '' then
  if ARGV[7] ~= '' then
    redis.call('HSET', taskKey, 'timeoutMs', ARGV[7])
  end
  if ARGV[8] ~= '' then
    redis.call('HSET', taskKey, 'maxAttempts', ARGV[8])
  end
  redis.call('HDEL', taskKey, 'unset')
end
-- Only a task that ran or waited before has these (a retry or a delayed task): a fresh
-- one has none, and is in no scheduled set (only a task with a runAt is).
if (f[6] or '') ~= '' or (f[7] or '') ~= '' then
  redis.call('HDEL', taskKey, 'runAt', 'finishedAt', 'durationMs')
  unschedule(prefix, id)
end
redis.call('PEXPIRE', taskKey, ARGV[5])
if holder ~= '' then
  redis.call('SREM', prefix .. 'held:' .. holder, id)
end
local heldKey = prefix .. 'held:' .. workerId
redis.call('SADD', heldKey, id)
pexpireOnce(heldKey, ARGV[5])

local cache = ''
-- useCache defaults to on: only '0' turns it off.
if f[4] ~= '0' and f[5] and f[5] ~= '' then
  cache = redis.call('GET', prefix .. 'cache:' .. f[5]) or ''
end
-- The claim wrote none of these: they are as read above.
return {'claimed', cache, f[9], f[10], f[11], f[4], f[8], f[12], laneSeq}
