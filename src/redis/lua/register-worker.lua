--[[
  Claims a worker id: sets its heartbeat key unless a live one holds it, and lists it.

    Input:
      KEYS[1] heartbeat key        P worker:<id>
      KEYS[2] workers hash         P workers

      ARGV[1] worker id
      ARGV[2] WorkerInfo JSON
      ARGV[3] heartbeat TTL (ms)

    Output:
      {1, 0}       registered
      {0, pttl}    refused: the id's heartbeat is alive and expires in pttl ms (-1: never)
]]
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {1, 0}
