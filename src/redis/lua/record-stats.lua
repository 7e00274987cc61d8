--[[
  Records a batch of task outcomes in the bounded stats structures: counters by outcome
  (total, per task name, per worker), a run-time histogram and a capped list of recent run
  times per name, capped lists of recent outcomes and failures, and 10 s throughput buckets
  that expire on their own. Nothing here grows with the number of tasks. A worker sends
  the outcomes of about a second in one call.

    Input, for outcomes i = 0..n-1 (11 keys each, at KEYS[11i + j]):
      j=1  totals hash          P stats:totals
      j=2  name hash            P stats:name:<name>
      j=3  other-name hash      P stats:name:(other)
      j=4  names set            P stats:names
      j=5  durations list       P stats:durations:<name>
      j=6  other durations list P stats:durations:(other)
      j=7  worker hash          P stats:worker:<workerId>
      j=8  workers zset         P stats:workers (score: last outcome time)
      j=9  recent list          P stats:recent
      j=10 failures list        P stats:failures
      j=11 throughput hash      P stats:tp:<bucket start>

      ARGV[1] run times kept per name
      ARGV[2] failures kept
      ARGV[3] recent outcomes kept
      ARGV[4] task names tracked (beyond: counted under the other-name keys)
      ARGV[5] workers tracked
      ARGV[6] how long a worker's stats stay after its last outcome (ms)
      ARGV[7] key prefix of worker hashes (P stats:worker:), to drop evicted workers
      then per outcome, 9 each (at ARGV[7 + 9i + j]):
      j=1 task name
      j=2 worker id
      j=3 outcome: success | failed | retrying | cancelled
      j=4 '1' when answered from the result cache, else '0'
      j=5 run time (ms)
      j=6 finished at (ms since the epoch)
      j=7 the recent-outcome entry (JSON)
      j=8 histogram bucket index of the run time (0-based)
      j=9 when the throughput bucket expires (ms since the epoch)

    Output:
      the number of outcomes recorded
]]
local function recordOne(keyAt, argAt)
  local function K(j) return KEYS[keyAt + j] end
  local function A(j) return ARGV[argAt + j] end
  local status = A(3)
  local cached = A(4) == '1'
  local duration = tonumber(A(5))
  local finishedAt = tonumber(A(6))

  local nameKey, durationsKey = K(2), K(5)
  if redis.call('SISMEMBER', K(4), A(1)) == 0 then
    if redis.call('SCARD', K(4)) < tonumber(ARGV[4]) then
      redis.call('SADD', K(4), A(1))
    else
      nameKey, durationsKey = K(3), K(6)
      redis.call('SADD', K(4), '(other)')
    end
  end

  for _, key in ipairs({ K(1), nameKey }) do
    redis.call('HINCRBY', key, status, 1)
    if cached then redis.call('HINCRBY', key, 'cached', 1) end
  end

  if (status == 'success' or status == 'failed') and not cached then
    redis.call('LPUSH', durationsKey, duration)
    redis.call('LTRIM', durationsKey, 0, tonumber(ARGV[1]) - 1)
    redis.call('HINCRBY', nameKey, 'b' .. A(8), 1)
    redis.call('HINCRBY', nameKey, 'sumMs', duration)
    redis.call('HINCRBY', nameKey, 'count', 1)
  end

  local workerKey = K(7)
  if status == 'success' then redis.call('HINCRBY', workerKey, 'processed', 1) end
  if status == 'failed' then redis.call('HINCRBY', workerKey, 'failed', 1) end
  redis.call('HINCRBY', workerKey, 'busyMs', duration)
  redis.call('HSET', workerKey, 'lastOutcomeAt', A(6))
  redis.call('PEXPIRE', workerKey, ARGV[6])
  redis.call('ZADD', K(8), finishedAt, A(2))
  local evicted = redis.call('ZRANGEBYSCORE', K(8), '-inf', '(' .. (finishedAt - tonumber(ARGV[6])))
  local over = redis.call('ZCARD', K(8)) - #evicted - tonumber(ARGV[5])
  if over > 0 then
    for _, id in ipairs(redis.call('ZRANGE', K(8), #evicted, #evicted + over - 1)) do
      evicted[#evicted + 1] = id
    end
  end
  for _, id in ipairs(evicted) do
    redis.call('ZREM', K(8), id)
    redis.call('DEL', ARGV[7] .. id)
  end

  redis.call('LPUSH', K(9), A(7))
  redis.call('LTRIM', K(9), 0, tonumber(ARGV[3]) - 1)
  if status == 'failed' then
    redis.call('LPUSH', K(10), A(7))
    redis.call('LTRIM', K(10), 0, tonumber(ARGV[2]) - 1)
  end

  redis.call('HINCRBY', K(11), status, 1)
  redis.call('PEXPIREAT', K(11), A(9))
end

local n = #KEYS / 11
for i = 0, n - 1 do
  recordOne(11 * i, 7 + 9 * i)
end
return n
