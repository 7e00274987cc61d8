--[[
  Writes the outcome of an attempt if the worker still holds its claim (the finish rule
  of decide() in src/core/state-machine.ts), then releases the dedup key, fills the result
  cache and tells waiters.

    Input:
      KEYS[1] task key             P task:<id>

      ARGV[1] key prefix P, to find the record's dedup and cache keys
      ARGV[2] task id
      ARGV[3] finishing worker id
      ARGV[4] attempt being finished
      ARGV[5] now (ms since the epoch)
      ARGV[6] outcome status: 'success' or 'failed'
      ARGV[7] result JSON ('' unless success)
      ARGV[8] error JSON ('' unless failed)
      ARGV[9] '1' when the result came from the cache, else '0'
      ARGV[10] retention (ms) of the finished record
      ARGV[11] result cache TTL (ms); 0 writes no cache entry
      ARGV[12] result cache entry: {"id":…,"finishedAt":…,"result":…}
      ARGV[13] events channel, told the task id

    Output:
      1 when the outcome was written; 0 when refused (missing, terminal, another attempt,
      or not held by this worker)
]]
local taskKey = KEYS[1]
local prefix = ARGV[1]
local id = ARGV[2]

local f = redis.call('HMGET', taskKey, 'status', 'attempt', 'worker', 'startedAt', 'dedupKey')
if f[1] ~= 'processing' or tonumber(f[2]) ~= tonumber(ARGV[4]) or f[3] ~= ARGV[3] then
  return 0
end

local now = tonumber(ARGV[5])
local startedAt = tonumber(f[4]) or now
redis.call('HSET', taskKey,
  'status', ARGV[6], 'finishedAt', ARGV[5], 'durationMs', string.format('%.17g', now - startedAt),
  'result', ARGV[7], 'error', ARGV[8], 'cached', ARGV[9])
redis.call('PEXPIRE', taskKey, ARGV[10])

if f[5] ~= '' then
  local dedupKey = prefix .. 'dedup:' .. f[5]
  if redis.call('GET', dedupKey) == id then
    redis.call('DEL', dedupKey)
  end
  if ARGV[6] == 'success' and ARGV[9] ~= '1' and tonumber(ARGV[11]) > 0 then
    redis.call('SET', prefix .. 'cache:' .. f[5], ARGV[12], 'PX', ARGV[11])
  end
end

redis.call('PUBLISH', ARGV[13], id)
return 1
