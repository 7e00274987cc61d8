--[[
  Takes or renews the monitor's leader lock for a candidate.

    Input:
      KEYS[1] leader key           P leader

      ARGV[1] candidate id
      ARGV[2] lock TTL (ms)

    Output:
      1 when the candidate holds the lock (renewed or taken), 0 when another does
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
