--[[
  Creates a task record in one step: answers it from the result cache, or returns the
  identical task that is still in flight, or writes the record as given.

    Input:
      KEYS[1] task key             P task:<id>
      KEYS[2] dedup key            P dedup:<dedupKey> (read only when ARGV[2] is '1')
      KEYS[3] cache key            P cache:<dedupKey> (read only when ARGV[3] is '1')

      ARGV[1] key prefix P, to find the task a dedup key points to and the scheduled set
      ARGV[2] '1' to check and set the dedup key, else '0'
      ARGV[3] '1' to answer from the result cache, else '0'
      ARGV[4] pending TTL (ms) of a new record and of its dedup key
      ARGV[5] retention (ms) of a record answered from the cache
      ARGV[6] events channel, told the id of a task answered from the cache
      ARGV[7] task id
      ARGV[8...] the record's hash fields that hold a value, as field, value pairs

    A record with a runAt (a delayed task) is also added to the scheduled set P scheduled.

    Output:
      {'created'}
      {'duplicate', id}                 an identical task is queued, processing or retrying
      {'cached', field, value, ...}     the record as written, already `success`
]]
local taskKey = KEYS[1]
local id = ARGV[7]

-- Only the fields that hold a value are given (a missing field reads as empty). HSET
-- counts the fields it added: fewer than given means an earlier hash under this id (never
-- for a fresh id), whose other fields must not survive, so it is replaced whole.
local function writeRecord()
  if redis.call('HSET', taskKey, unpack(ARGV, 8)) < (#ARGV - 7) / 2 then
    redis.call('DEL', taskKey)
    redis.call('HSET', taskKey, unpack(ARGV, 8))
  end
end

if ARGV[3] == '1' then
  local entry = redis.call('GET', KEYS[3])
  -- The store writes the entry as {"id":…,"finishedAt":…,"result":…}; the id is a JSON
  -- string and cannot contain ,"result": unescaped, so the first match starts the result.
  -- Slicing keeps the result's exact text (cjson would round numbers and turn [] into {}).
  local at = entry and string.find(entry, ',"result":', 1, true)
  if at then
    writeRecord()
    local submittedAt = redis.call('HGET', taskKey, 'submittedAt')
    redis.call('HSET', taskKey,
      'status', 'success', 'cached', '1', 'result', string.sub(entry, at + 10, -2), 'error', '',
      'worker', '', 'startedAt', submittedAt, 'finishedAt', submittedAt, 'durationMs', '0',
      'runAt', '')
    redis.call('PEXPIRE', taskKey, ARGV[5])
    redis.call('PUBLISH', ARGV[6], id)
    return {'cached', unpack(redis.call('HGETALL', taskKey))}
  end
end

if ARGV[2] == '1' then
  local other = redis.call('GET', KEYS[2])
  if other then
    local status = redis.call('HGET', ARGV[1] .. 'task:' .. other, 'status')
    if status == 'queued' or status == 'processing' or status == 'retrying' then
      return {'duplicate', other}
    end
  end
end

writeRecord()
redis.call('PEXPIRE', taskKey, ARGV[4])
local runAt = redis.call('HGET', taskKey, 'runAt')
if runAt and runAt ~= '' then
  redis.call('ZADD', ARGV[1] .. 'scheduled', runAt, id)
end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
end
return {'created'}
