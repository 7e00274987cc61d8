--[[
  Records one task outcome in the bounded stats structures: counters by outcome (total,
  per task name, per worker), a run-time histogram and a capped list of recent run times
  per name, capped lists of recent outcomes and failures, and a 10 s throughput bucket
  that expires on its own. Nothing here grows with the number of tasks.

    Input:
      KEYS[1]  totals hash          P stats:totals
      KEYS[2]  name hash            P stats:name:<name>
      KEYS[3]  other-name hash      P stats:name:(other)
      KEYS[4]  names set            P stats:names
      KEYS[5]  durations list       P stats:durations:<name>
      KEYS[6]  other durations list P stats:durations:(other)
      KEYS[7]  worker hash          P stats:worker:<workerId>
      KEYS[8]  workers zset         P stats:workers (score: last outcome time)
      KEYS[9]  recent list          P stats:recent
      KEYS[10] failures list        P stats:failures
      KEYS[11] throughput hash      P stats:tp:<bucket start>

      ARGV[1]  task name
      ARGV[2]  worker id
      ARGV[3]  outcome: success | failed | retrying | cancelled
      ARGV[4]  '1' when answered from the result cache, else '0'
      ARGV[5]  run time (ms)
      ARGV[6]  finished at (ms since the epoch)
      ARGV[7]  the recent-outcome entry (JSON)
      ARGV[8]  histogram bucket index of the run time (0-based)
      ARGV[9]  run times kept per name
      ARGV[10] failures kept
      ARGV[11] recent outcomes kept
      ARGV[12] task names tracked (beyond: counted under the other-name keys)
      ARGV[13] workers tracked
      ARGV[14] how long a worker's stats stay after its last outcome (ms)
      ARGV[15] when the throughput bucket expires (ms since the epoch)
      ARGV[16] key prefix of worker hashes (P stats:worker:), to drop evicted workers

    Output:
      1
]]
local status = ARGV[3]
local cached = ARGV[4] == '1'
local duration = tonumber(ARGV[5])
local finishedAt = tonumber(ARGV[6])

local nameKey, durationsKey = KEYS[2], KEYS[5]
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
  if redis.call('SCARD', KEYS[4]) < tonumber(ARGV[12]) then
    redis.call('SADD', KEYS[4], ARGV[1])
  else
    nameKey, durationsKey = KEYS[3], KEYS[6]
    redis.call('SADD', KEYS[4], '(other)')
  end
end

for _, key in ipairs({ KEYS[1], nameKey }) do
  redis.call('HINCRBY', key, status, 1)
  if cached then redis.call('HINCRBY', key, 'cached', 1) end
end

if (status == 'success' or status == 'failed') and not cached then
  redis.call('LPUSH', durationsKey, duration)
  redis.call('LTRIM', durationsKey, 0, tonumber(ARGV[9]) - 1)
  redis.call('HINCRBY', nameKey, 'b' .. ARGV[8], 1)
  redis.call('HINCRBY', nameKey, 'sumMs', duration)
  redis.call('HINCRBY', nameKey, 'count', 1)
end

local workerKey = KEYS[7]
if status == 'success' then redis.call('HINCRBY', workerKey, 'processed', 1) end
if status == 'failed' then redis.call('HINCRBY', workerKey, 'failed', 1) end
redis.call('HINCRBY', workerKey, 'busyMs', duration)
redis.call('HSET', workerKey, 'lastOutcomeAt', ARGV[6])
redis.call('PEXPIRE', workerKey, ARGV[14])
redis.call('ZADD', KEYS[8], finishedAt, ARGV[2])
local evicted = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', '(' .. (finishedAt - tonumber(ARGV[14])))
local over = redis.call('ZCARD', KEYS[8]) - #evicted - tonumber(ARGV[13])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[8], #evicted, #evicted + over - 1)) do
    evicted[#evicted + 1] = id
  end
end
for _, id in ipairs(evicted) do
  redis.call('ZREM', KEYS[8], id)
  redis.call('DEL', ARGV[16] .. id)
end

redis.call('LPUSH', KEYS[9], ARGV[7])
redis.call('LTRIM', KEYS[9], 0, tonumber(ARGV[11]) - 1)
if status == 'failed' then
  redis.call('LPUSH', KEYS[10], ARGV[7])
  redis.call('LTRIM', KEYS[10], 0, tonumber(ARGV[10]) - 1)
end

redis.call('HINCRBY', KEYS[11], status, 1)
redis.call('PEXPIREAT', KEYS[11], ARGV[15])
return 1
