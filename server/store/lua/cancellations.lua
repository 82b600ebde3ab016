-- Bulk cancellations. ARGV[2] is the operation:
--   add <function key> <id> <json>    → 1, or 0 (nothing stored) if the function is unknown
--   count <id> <n>                    → runs cancelled, set if the cancellation still exists
--   list                              → {json, count, ...}
--   delete <id>                       → {json, count}, or false
local op = ARGV[2]
if op == 'add' then
  local fk = ARGV[3]
  if redis.call('HEXISTS', K.functions(), fk) == 0
      and redis.call('HEXISTS', K.function_runs(), fk) == 0 then
    return 0
  end
  redis.call('HSET', K.cancellations(), ARGV[4], ARGV[5])
  redis.call('SADD', K.cancellations_of(fk), ARGV[4])
  return 1
elseif op == 'count' then
  if redis.call('HEXISTS', K.cancellations(), ARGV[3]) == 1 then
    redis.call('HSET', K.cancelled_counts(), ARGV[3], ARGV[4])
  end
  return 1
elseif op == 'list' then
  local out = {}
  local all = redis.call('HGETALL', K.cancellations())
  for i = 1, #all, 2 do
    out[#out + 1] = all[i + 1]
    out[#out + 1] = redis.call('HGET', K.cancelled_counts(), all[i]) or '0'
  end
  return out
elseif op == 'delete' then
  local json = redis.call('HGET', K.cancellations(), ARGV[3])
  if not json then return false end
  local count = redis.call('HGET', K.cancelled_counts(), ARGV[3]) or '0'
  local c = cjson.decode(json)
  redis.call('HDEL', K.cancellations(), ARGV[3])
  redis.call('HDEL', K.cancelled_counts(), ARGV[3])
  redis.call('SREM', K.cancellations_of(K.function_key(c.app_id, c.function_id)), ARGV[3])
  return {json, count}
end
return redis.error_reply('unknown operation ' .. tostring(op))
