-- AckDecisions: unacknowledged → acknowledged (kept until the retention purge).
-- ARGV: prefix, now, decision ids... Returns how many were unacknowledged.
local n = 0
for i = 3, #ARGV do
  if redis.call('ZREM', K.unacked(), ARGV[i]) == 1 then
    redis.call('ZADD', K.acked(), ARGV[2], ARGV[i])
    n = n + 1
  end
end
return n
