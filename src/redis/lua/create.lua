--[[
  Creates task records, each in one step: answers it from the result cache, or returns
  the identical task that is still in flight, or writes the record as given. A batch of
  tasks is created in order, so a later task of the batch sees the earlier ones.

    Input, for tasks 1..n:
      KEYS[3i-2] task key          P task:<id>
      KEYS[3i-1] dedup key         P dedup:<dedupKey> (read only when its dedup flag is '1')
      KEYS[3i]   cache key         P cache:<dedupKey> (read only when its cache flag is '1')

      ARGV[1] key prefix P, to find the task a dedup key points to, the scheduled set
              and the lanes
      ARGV[2] pending TTL (ms) of a new record and of its dedup key
      ARGV[3] retention (ms) of a record answered from the cache
      ARGV[4] events channel, told the id of a task answered from the cache
      ARGV[5...] per task: its id; '1' to check and set its dedup key, else '0'; '1' to
              answer it from the result cache, else '0'; the number k of items that
              follow; then k items: the record's hash fields that hold a value, as
              field, value pairs

    A record with a runAt (a delayed task) is also added to the scheduled set P scheduled,
    and it and its dedup key live until runAt plus the pending TTL. A record with an
    orderingKey joins the end of its lane (lib/task.lua), its laneSeq written.

    A record under the id that exists is never written over: from another submission (its
    submittedAt differs) the create answers {'exists', id}; the same create sent again (the
    client resending a command whose reply was lost) answers as the first did.

    Output: one reply per task, in order:
      {'created'}
      {'duplicate', id}                 an identical task is queued, processing or retrying
      {'cached', field, value, ...}     the record as written, already `success`
      {'exists', id}                    another submission's record has this id
]]
local prefix = ARGV[1]
local pendingTtl = ARGV[2]

-- The value of `name` in a field, value, ... list; nil when it is not there.
local function field(fields, name)
  for i = 1, #fields - 1, 2 do
    if fields[i] == name then
      return fields[i + 1]
    end
  end
  return nil
end

-- Only the fields that hold a value are given (a missing field reads as empty). HSET
-- counts the fields it added: fewer than given means a fragment under this id (a hash
-- without a submittedAt, never a record: those answered above), whose other fields must
-- not survive, so it is replaced whole.
local function writeRecord(taskKey, fields)
  if redis.call('HSET', taskKey, unpack(fields)) < #fields / 2 then
    redis.call('DEL', taskKey)
    redis.call('HSET', taskKey, unpack(fields))
  end
end

local function createOne(taskKey, dedupKey, cacheKey, id, dedup, useCache, fields)
  local existing = redis.call('HMGET', taskKey, 'submittedAt', 'cached')
  if existing[1] then
    if existing[1] ~= field(fields, 'submittedAt') then
      return {'exists', id}
    end
    if existing[2] == '1' then
      return {'cached', unpack(redis.call('HGETALL', taskKey))}
    end
    return {'created'}
  end

  if useCache then
    local entry = redis.call('GET', cacheKey)
    -- The store writes the entry as {"id":…,"finishedAt":…,"result":…}; the id is a JSON
    -- string and cannot contain ,"result": unescaped, so the first match starts the
    -- result. Slicing keeps the result's exact text (cjson would round numbers and turn []
    -- into {}).
    local at = entry and string.find(entry, ',"result":', 1, true)
    if at then
      writeRecord(taskKey, fields)
      local submittedAt = redis.call('HGET', taskKey, 'submittedAt')
      redis.call('HSET', taskKey,
        'status', 'success', 'cached', '1', 'result', string.sub(entry, at + 10, -2),
        'error', '', 'worker', '', 'startedAt', submittedAt, 'finishedAt', submittedAt,
        'durationMs', '0', 'runAt', '')
      redis.call('PEXPIRE', taskKey, ARGV[3])
      redis.call('PUBLISH', ARGV[4], id)
      return {'cached', unpack(redis.call('HGETALL', taskKey))}
    end
  end

  if dedup then
    local other = redis.call('GET', dedupKey)
    -- Its own id: this very create sent again (the client resends a command whose reply
    -- a dropped connection lost), created as the first one was, not a duplicate of itself.
    if other and other ~= id then
      local status = redis.call('HGET', prefix .. 'task:' .. other, 'status')
      if status == 'queued' or status == 'processing' or status == 'retrying' then
        return {'duplicate', other}
      end
    end
  end

  writeRecord(taskKey, fields)
  local ttl = pendingTtl
  local runAt = field(fields, 'runAt')
  if runAt and runAt ~= '' then
    -- A delayed task lives until it is due plus the pending TTL, however far off that is
    -- (the delay counted on the submitter's clock, as runAt and submittedAt both are).
    local delay = tonumber(runAt) - (tonumber(field(fields, 'submittedAt')) or 0)
    ttl = string.format('%.0f', tonumber(pendingTtl) + math.max(0, delay))
    redis.call('ZADD', prefix .. 'scheduled', runAt, id)
    -- Low priority: produced early once the log's backlog is small (lua/low.lua), else at
    -- its runAt, the longest it gives way.
    if field(fields, 'priority') == 'low' then
      redis.call('ZADD', prefix .. 'low', redis.call('INCR', prefix .. 'laneseq'), id)
    end
  end
  redis.call('PEXPIRE', taskKey, ttl)
  if dedup then
    redis.call('SET', dedupKey, id, 'PX', ttl)
  end
  local orderingKey = field(fields, 'orderingKey')
  if orderingKey and orderingKey ~= '' then
    joinLane(taskKey, prefix, id, orderingKey)
  end
  return {'created'}
end

local replies = {}
local at = 5
for i = 1, #KEYS / 3 do
  local count = tonumber(ARGV[at + 3])
  local fields = {unpack(ARGV, at + 4, at + 3 + count)}
  replies[i] = createOne(KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[at],
    ARGV[at + 1] == '1', ARGV[at + 2] == '1', fields)
  at = at + 4 + count
end
return replies
