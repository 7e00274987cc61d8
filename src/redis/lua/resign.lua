--[[
  Releases the monitor's leader lock if the candidate holds it (compare and delete).

    Input:
      KEYS[1] leader key           P leader

      ARGV[1] candidate id

    Output:
      1 when the lock was released, 0 when the candidate did not hold it
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
