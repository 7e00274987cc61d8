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

-- Takes a task out of the scheduled set (its runAt is null now), and out of the low
-- set of low-priority tasks waiting for the task log.
local function unschedule(prefix, id)
  redis.call('ZREM', prefix .. 'scheduled', id)
  redis.call('ZREM', prefix .. 'low', id)
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

-- Ordering lanes (the README's "Ordering lanes" says what they promise). P lane:<key> holds the
-- lane's tasks that have not ended, scored by their create sequence (P laneseq, one
-- counter for every lane): the first one's turn it is. A task that came before its turn
-- is parked: its record's parkedOn names the group it waits on ('lane:<key>'), and the
-- P parked hash counts the parked tasks of each group.
local function laneKey(prefix, orderingKey)
  return prefix .. 'lane:' .. orderingKey
end

-- Puts a task at the end of its lane unless it is in it already (the same create sent
-- again keeps its place); writes its laneSeq. Call it once the record has its TTL: the
-- lane lives as long as its longest-lived member's record may.
local function joinLane(taskKey, prefix, id, orderingKey)
  local lane = laneKey(prefix, orderingKey)
  local seq = redis.call('ZSCORE', lane, id)
  if not seq then
    seq = redis.call('INCR', prefix .. 'laneseq')
    redis.call('ZADD', lane, seq, id)
  end
  redis.call('HSET', taskKey, 'laneSeq', seq)
  local ttl = redis.call('PTTL', taskKey)
  if ttl > redis.call('PTTL', lane) then
    redis.call('PEXPIRE', lane, ttl)
  end
end

local function unpark(taskKey, prefix, group)
  redis.call('HDEL', taskKey, 'parkedOn')
  if redis.call('HINCRBY', prefix .. 'parked', group, -1) <= 0 then
    redis.call('HDEL', prefix .. 'parked', group)
  end
end

-- Parks a task on `group` (out of the count of a group it was parked on before: its
-- queue there drops it lazily), and keeps its record at least `ttl` ms from now: its
-- delivery is settled, so the record is all that is left of it until its turn.
local function park(taskKey, prefix, group, ttl)
  local before = redis.call('HGET', taskKey, 'parkedOn')
  if before == group then
    return
  end
  if before then
    unpark(taskKey, prefix, before)
  end
  redis.call('HSET', taskKey, 'parkedOn', group)
  redis.call('HINCRBY', prefix .. 'parked', group, 1)
  if redis.call('PTTL', taskKey) < tonumber(ttl) then
    redis.call('PEXPIRE', taskKey, ttl)
  end
end

-- A parked task's turn came: offered to any worker with free slots at once (the
-- recovering set, score 0), and the workers woken (the turn channel; a wake-up lost is
-- made up by their poll of that set).
local function offer(prefix, id)
  redis.call('ZADD', prefix .. 'recovering', 0, id)
  redis.call('PUBLISH', prefix .. 'turn', id)
end

-- If the lane's first task is parked on its lane, its turn has come.
local function offerTurn(prefix, orderingKey, head)
  local headKey = prefix .. 'task:' .. head
  local group = 'lane:' .. orderingKey
  if redis.call('HGET', headKey, 'parkedOn') == group then
    unpark(headKey, prefix, group)
    offer(prefix, head)
  end
end

-- The task whose turn it is in the lane, nil when it is empty. Members whose record
-- expired or ended are dropped on the way (then the new first one's turn is offered).
local function laneHead(prefix, orderingKey)
  local lane = laneKey(prefix, orderingKey)
  local dropped = false
  while true do
    local head = redis.call('ZRANGE', lane, 0, 0)[1]
    if not head then
      return nil
    end
    local status = redis.call('HGET', prefix .. 'task:' .. head, 'status')
    if status and not isTerminal(status) then
      if dropped then
        offerTurn(prefix, orderingKey, head)
      end
      return head
    end
    redis.call('ZREM', lane, head)
    dropped = true
  end
end

-- A task of a lane ended (or was discarded): out of its lane, and the next one's turn.
local function leaveLane(taskKey, prefix, id, orderingKey)
  if not orderingKey or orderingKey == '' then
    return
  end
  local group = 'lane:' .. orderingKey
  if redis.call('HGET', taskKey, 'parkedOn') == group then
    unpark(taskKey, prefix, group)
  end
  if redis.call('ZREM', laneKey(prefix, orderingKey), id) == 1 then
    local head = laneHead(prefix, orderingKey)
    if head then
      offerTurn(prefix, orderingKey, head)
    end
  end
end

-- Concurrency limits (src/core/concurrency.ts). P slots:<group> holds the ids of the
-- group's tasks holding a slot: running, or parked and handed a freed slot, until their
-- claim (the record's slot field names the group). P waiting:<group> holds its parked
-- tasks in the order they parked (scored by P laneseq).

-- Hands a free slot of `group` to its longest-parked task (reserved for its claim, then
-- offered); false when none waits. The slots set has no TTL: it goes when it empties, and
-- holders whose record is gone are dropped when the group is full (claim.lua).
local function handSlot(prefix, group)
  local waiting = prefix .. 'waiting:' .. group
  while true do
    local nextId = redis.call('ZRANGE', waiting, 0, 0)[1]
    if not nextId then
      return false
    end
    redis.call('ZREM', waiting, nextId)
    local nextKey = prefix .. 'task:' .. nextId
    if redis.call('HGET', nextKey, 'parkedOn') == group then
      unpark(nextKey, prefix, group)
      redis.call('SADD', prefix .. 'slots:' .. group, nextId)
      redis.call('HSET', nextKey, 'slot', group)
      offer(prefix, nextId)
      return true
    end
  end
end

-- A task stopped running (finished, or its worker was lost): its slot is free, and the
-- group's longest-parked task is handed it.
local function releaseSlot(taskKey, prefix, id, group)
  if not group or group == '' then
    return
  end
  redis.call('HDEL', taskKey, 'slot')
  redis.call('SREM', prefix .. 'slots:' .. group, id)
  handSlot(prefix, group)
end

-- A waiting task ended (cancelled): out of its concurrency, rate or pause group's queue, and a
-- slot it was handed handed on. The next task of a rate group is offered at once: its
-- claim checks the window (this script does not know the limit) and waits again if full.
local function leaveLimit(taskKey, prefix, id)
  local f = redis.call('HMGET', taskKey, 'parkedOn', 'slot')
  local group = f[1]
  local kind = group and string.match(group, '^(%a+):')
  if kind == 'limit' or kind == 'rate' or kind == 'pause' then
    local waiting = prefix .. 'waiting:' .. group
    local wasFirst = redis.call('ZRANGE', waiting, 0, 0)[1] == id
    redis.call('ZREM', waiting, id)
    unpark(taskKey, prefix, group)
    local nextId = redis.call('ZRANGE', waiting, 0, 0)[1]
    if kind == 'rate' and wasFirst and nextId then
      offer(prefix, nextId)
    end
  end
  releaseSlot(taskKey, prefix, id, f[2])
end

-- Rate limits (src/core/concurrency.ts): a sliding log. P rate:<group> holds the start
-- times of the last window (score ms, member task id#attempt), at most n of them in any
-- window of `interval` ms; P waiting:<group> holds the parked tasks in order, and only the
-- first is offered, at the time the window has room for it.

-- The time (ms) from which the window has room for one more start.
local function rateRoomAt(log, n, interval, now)
  local count = redis.call('ZCARD', log)
  if count < n then
    return now
  end
  return tonumber(redis.call('ZRANGE', log, count - n, count - n, 'WITHSCORES')[2]) + interval
end

-- Offers the group's first parked task (dropping ones no longer parked on it) when the
-- window has room: at once (woken), or from that time on (taken by the workers' poll).
local function offerRateHead(prefix, group, n, interval, now)
  local waiting = prefix .. 'waiting:' .. group
  while true do
    local head = redis.call('ZRANGE', waiting, 0, 0)[1]
    if not head then
      return
    end
    if redis.call('HGET', prefix .. 'task:' .. head, 'parkedOn') == group then
      local at = rateRoomAt(prefix .. 'rate:' .. group, n, interval, now)
      redis.call('ZADD', prefix .. 'recovering', num(at), head)
      if at <= now then
        redis.call('PUBLISH', prefix .. 'turn', head)
      end
      return
    end
    redis.call('ZREM', waiting, head)
  end
end

-- Whether a claim may start now under the rate limit (the window has room and no task
-- parked before it waits); if not, it is parked behind those and the first one offered.
local function rateAllows(taskKey, prefix, id, group, n, interval, now, pendingTtl)
  local log = prefix .. 'rate:' .. group
  local waiting = prefix .. 'waiting:' .. group
  redis.call('ZREMRANGEBYSCORE', log, '-inf', num(now - interval))
  local first = redis.call('ZRANGE', waiting, 0, 0)[1]
  if (not first or first == id) and redis.call('ZCARD', log) < n then
    return true
  end
  if redis.call('HGET', taskKey, 'parkedOn') ~= group then
    park(taskKey, prefix, group, pendingTtl)
    redis.call('ZADD', waiting, redis.call('INCR', prefix .. 'laneseq'), id)
    redis.call('PEXPIRE', waiting, pendingTtl)
  end
  offerRateHead(prefix, group, n, interval, now)
  return false
end

-- A task past its rate check leaves the group's queue (the next one is offered).
local function rateDequeue(taskKey, prefix, id, group, n, interval, now)
  if redis.call('HGET', taskKey, 'parkedOn') == group then
    redis.call('ZREM', prefix .. 'waiting:' .. group, id)
    unpark(taskKey, prefix, group)
    offerRateHead(prefix, group, n, interval, now)
  end
end

-- A start under the rate limit: into the log, and the next parked one offered for later.
local function rateStart(prefix, id, attempt, group, n, interval, now)
  local log = prefix .. 'rate:' .. group
  -- One entry per start (a lost worker's attempt that starts again counts again).
  redis.call('ZADD', log, num(now), id .. '#' .. attempt .. '#' .. num(now))
  redis.call('PEXPIRE', log, num(interval))
  offerRateHead(prefix, group, n, interval, now)
end

-- After a task became terminal: keep the record for the retention, take it out of the
-- scheduled set when it may be there (`scheduled`: it was waiting, not processing: a
-- claim takes a task out), release its dedup key if that still points to it, tell
-- waiters, and hand its lane (`orderingKey`, when it has one) on to the next task.
local function settleTerminal(taskKey, prefix, id, dedupKey, retentionMs, channel, scheduled,
    orderingKey)
  redis.call('PEXPIRE', taskKey, retentionMs)
  leaveLane(taskKey, prefix, id, orderingKey)
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
