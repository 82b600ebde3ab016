-- Publish step: append the events to the late window, THEN read the named buckets'
-- change logs after each cursor (the order is what closes the late-listener race).
-- ARGV: prefix, now, window ms, max events per name, max events, max bytes,
--   e, e × (name, event JSON, size), b, b × (name, cursor or "").
-- Returns b × {name, "ok" or "more", cursor, added, removed} | {name, "reset", cursor} |
--   {name, "reload"}.
local now = tonumber(ARGV[2])
local window_ms, per_name = tonumber(ARGV[3]), tonumber(ARGV[4])
local cap_events, cap_bytes = tonumber(ARGV[5]), tonumber(ARGV[6])
-- Log entries read per bucket per call: bounds this script's time; a replica further
-- behind calls again ("more").
local CATCH_UP = 2000

-- One name's events of this batch: ONE stream entry (fields n = events, b = bytes,
-- e = a JSON array of the events), so the window costs Redis a few calls per name and
-- batch, not per event. Ids are "<received ms>-<n>", never below the name's last id
-- (replica clocks differ). Trimmed here, oldest entry first, by age and by the per-name
-- event count; the counters stay exact. Returns the changes of the environment's totals.
local function window_add(name, jsons, size)
  local wk = K.window(name)
  local ms = math.max(now, tonumber(redis.call('ZSCORE', K.window_names(), name) or '0'))
  local count = tonumber(redis.call('HGET', K.window_counts(), name) or '0') + #jsons
  local bytes = tonumber(redis.call('HGET', K.window_bytes(), name) or '0') + size
  local d_events, d_bytes = #jsons, size
  redis.call('XADD', wk, string.format('%.0f', ms) .. '-*', 'n', #jsons, 'b', size,
             'e', '[' .. table.concat(jsons, ',') .. ']')
  local cutoff = now - window_ms
  while true do
    local first = redis.call('XRANGE', wk, '-', '+', 'COUNT', 1)[1]
    if not first then break end
    local at = tonumber(string.sub(first[1], 1, string.find(first[1], '-', 1, true) - 1))
    if at >= cutoff and (count <= per_name or redis.call('XLEN', wk) <= 1) then break end
    local n, b = tonumber(first[2][2]), tonumber(first[2][4])
    redis.call('XDEL', wk, first[1])
    count, bytes = count - n, bytes - b
    d_events, d_bytes = d_events - n, d_bytes - b
  end
  redis.call('HSET', K.window_counts(), name, count)
  redis.call('HSET', K.window_bytes(), name, bytes)
  redis.call('ZADD', K.window_names(), ms, name)
  return d_events, d_bytes
end

-- Names nobody appended to within the window, then the oldest names while over a cap.
local function window_evict()
  local stale = redis.call('ZRANGEBYSCORE', K.window_names(), '-inf',
                           '(' .. string.format('%.0f', now - window_ms), 'LIMIT', 0, 32)
  for _, name in ipairs(stale) do window_drop(name) end
  for _ = 1, 32 do
    local m = redis.call('HMGET', K.meta(), 'wev', 'wby')
    if tonumber(m[1] or '0') <= cap_events and tonumber(m[2] or '0') <= cap_bytes then return end
    local oldest = redis.call('ZRANGE', K.window_names(), 0, 0)[1]
    if not oldest then return end
    window_drop(oldest)
  end
end

local function seq_of(id)
  return tonumber(string.sub(id, string.find(id, '-', 1, true) + 1))
end

local function bucket_changes(name, cursor)
  local epoch = redis.call('HGET', K.log_epochs(), name)
  if not epoch then
    if redis.call('HLEN', K.bucket(name)) == 0 then return {name, 'reset', '0-0'} end
    return {name, 'reload'}
  end
  if cursor == '' or string.sub(cursor, 1, string.find(cursor, '-', 1, true) - 1) ~= epoch then
    return {name, 'reload'}
  end
  local lk = K.log(name)
  local first = redis.call('XRANGE', lk, '-', '+', 'COUNT', 1)[1]
  if first and seq_of(first[1]) > seq_of(cursor) + 1 then return {name, 'reload'} end
  local added, removed, last = {}, {}, cursor
  local entries = redis.call('XRANGE', lk, '(' .. cursor, '+', 'COUNT', CATCH_UP)
  for _, e in ipairs(entries) do
    last = e[1]
    if e[2][2] == '+' then
      bucket_run(e[2][4], name, added)
    else
      removed[#removed + 1] = e[2][4]
    end
  end
  return {name, #entries == CATCH_UP and 'more' or 'ok', last, added, removed}
end

local pos = 7
local names, order = {}, {}
for _ = 1, tonumber(ARGV[pos]) do
  local name = ARGV[pos + 1]
  if not names[name] then
    names[name] = {{}, 0}
    order[#order + 1] = name
  end
  local slot = names[name]
  slot[1][#slot[1] + 1] = ARGV[pos + 2]
  slot[2] = slot[2] + tonumber(ARGV[pos + 3])
  pos = pos + 3
end
local events, bytes = 0, 0
for _, name in ipairs(order) do
  local e, b = window_add(name, names[name][1], names[name][2])
  events, bytes = events + e, bytes + b
end
if #order > 0 then
  redis.call('HINCRBY', K.meta(), 'wev', events)
  redis.call('HINCRBY', K.meta(), 'wby', bytes)
  window_evict()
end
pos = pos + 1
local out = {}
for j = 1, tonumber(ARGV[pos]) do
  out[j] = bucket_changes(ARGV[pos + 2 * j - 1], ARGV[pos + 2 * j])
end
return out
