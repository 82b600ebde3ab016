-- One bounded sweep step of an environment: expired listeners, acknowledged decisions and
-- ended runs past the retention, late-window names idle past the window. Idempotent, so
-- every replica may run it at once.
-- ARGV: prefix, now, purge before, limit, window ms, and the window's caps for this
-- environment (events, bytes: its share of the global caps). Returns {expired,
-- decisions, runs purged, runs kept for an unacknowledged decision, names evicted}.
local now, before, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])

local expired = redis.call('ZRANGEBYSCORE', K.expiry(), '-inf', '(' .. now, 'LIMIT', 0, limit)
for _, member in ipairs(expired) do
  local slash = string.find(member, '/', 1, true)
  local run, field = string.sub(member, 1, slash - 1), 'l' .. string.sub(member, slash + 1)
  local rk = K.run(run)
  local v = redis.call('HGET', rk, field)
  redis.call('ZREM', K.expiry(), member)
  if v then
    local name = parse_listener(v)
    redis.call('HDEL', rk, field)
    LISTENERS = LISTENERS - 1
    -- Not logged: every replica drops expired listeners by time on its own.
    local bk = K.bucket(name)
    local left = {}
    for i in string.gmatch(redis.call('HGET', bk, run) or '', '[^,]+') do
      if 'l' .. i ~= field then left[#left + 1] = i end
    end
    if #left > 0 then
      redis.call('HSET', bk, run, table.concat(left, ','))
    else
      redis.call('HDEL', bk, run)
      if redis.call('HLEN', bk) == 0 then
        redis.call('DEL', K.log(name))
        redis.call('HDEL', K.log_epochs(), name)
      end
    end
  end
end

flush_counts()

local acked = redis.call('ZRANGEBYSCORE', K.acked(), '-inf', '(' .. before, 'LIMIT', 0, limit)
for _, id in ipairs(acked) do
  redis.call('HDEL', K.decisions(), id)
  redis.call('ZREM', K.acked(), id)
end

-- Runs with a decision nobody acknowledged yet stay (the runner has not heard of it).
local purged, offset = 0, 0
local ended = redis.call('ZRANGEBYSCORE', K.ended(), '-inf', '(' .. before, 'LIMIT', 0, limit)
for _, run in ipairs(ended) do
  local rk = K.run(run)
  local h = redis.call('HMGET', rk, 'd', 'a', 'f')
  if h[1] and redis.call('ZSCORE', K.unacked(), h[1]) then
    offset = offset + 1
  else
    if h[2] then
      local fk = K.function_key(h[2], h[3])
      if redis.call('HINCRBY', K.function_runs(), fk, -1) <= 0 then
        redis.call('HDEL', K.function_runs(), fk)
      end
    end
    redis.call('DEL', rk)
    redis.call('ZREM', K.ended(), run)
    purged = purged + 1
  end
end

local stale = redis.call('ZRANGEBYSCORE', K.window_names(), '-inf',
                         '(' .. string.format('%.0f', tonumber(now) - tonumber(ARGV[5])),
                         'LIMIT', 0, limit)
for _, name in ipairs(stale) do window_drop(name) end

-- Over its share of the global caps: the least recently appended names go first.
local evicted = 0
while evicted < limit do
  local m = redis.call('HMGET', K.meta(), 'wev', 'wby')
  if tonumber(m[1] or '0') <= tonumber(ARGV[6]) and tonumber(m[2] or '0') <= tonumber(ARGV[7]) then
    break
  end
  local oldest = redis.call('ZRANGE', K.window_names(), 0, 0)[1]
  if not oldest then break end
  window_drop(oldest)
  evicted = evicted + 1
end
return {#expired, #acked, purged, offset, evicted}
