--[[
  Moves a schedule's next tick, only while it is still where the caller read it (another
  monitor that fired the same tick, or a replace or remove in between, wins).

    Input:
      KEYS[1] next ticks           P schedule-next (score: next tick, member: name)
      KEYS[2] last ticks fired     P schedule-fired (name -> the last tick it created a task for)

      ARGV[1] name
      ARGV[2] from: the next tick the caller read
      ARGV[3] to: the next tick after the ones it fired
      ARGV[4] fired: the last tick it created a task for, or ''

    Output: 1 moved, 0 not (nothing changed)
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
end
return 1
