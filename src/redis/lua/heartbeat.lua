--[[
  Refreshes a worker's heartbeat key and its entry in the workers hash.

    Input:
      KEYS[1] heartbeat key        P worker:<id>
      KEYS[2] workers hash         P workers

      ARGV[1] worker id
      ARGV[2] WorkerInfo JSON
      ARGV[3] heartbeat TTL (ms)

    Output:
      1
]]
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
