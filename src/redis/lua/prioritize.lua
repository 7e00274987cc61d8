--[[
  Offers queued tasks to the workers ahead of the task log: each one still `queued` goes
  into the recovering set at once (score 0) and its id on the turn channel, so a worker
  with free slots takes it before its next delivery (src/core/worker/consume-loop.ts).
  For high-priority tasks, once they are produced.

    Input:
      KEYS[1] recovering set       P recovering

      ARGV[1] key prefix P, to find the task records
      ARGV[2] turn channel         P turn
      ARGV[3...] task ids

    Output:
      how many were offered
]]
local offered = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', ARGV[1] .. 'task:' .. id, 'status') == 'queued' then
    redis.call('ZADD', KEYS[1], 0, id)
    redis.call('PUBLISH', ARGV[2], id)
    offered = offered + 1
  end
end
return offered
