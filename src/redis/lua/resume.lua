--[[
  Resumes a paused task name, a chunk at a time: the name leaves the paused set, and the
  first `limit` tasks parked on its pause are offered again (the recovering set, and the
  turn channel); their claim runs them, or parks them on their lane or limit.

    Input:
      KEYS[1] paused names         P paused
      KEYS[2] its parked tasks     P waiting:pause:<name> (score: park order)

      ARGV[1] key prefix P, to find the task records
      ARGV[2] name
      ARGV[3] limit: the most tasks taken from the queue in this call

    Output: {offered, left}: tasks offered, and how many are still queued (call again)
]]
local prefix = ARGV[1]
local group = 'pause:' .. ARGV[2]
redis.call('SREM', KEYS[1], ARGV[2])
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1)
local offered = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  local taskKey = prefix .. 'task:' .. id
  -- Parked here still (one that ended or expired meanwhile is dropped).
  if redis.call('HGET', taskKey, 'parkedOn') == group then
    unpark(taskKey, prefix, group)
    offer(prefix, id)
    offered = offered + 1
  end
end
return {offered, redis.call('ZCARD', KEYS[2])}
