-- Registration step (a): insert new runs with their listeners, all or nothing; then read
-- the late window and the functions' bulk cancellations (after the writes: the ordering
-- argument of server/README.md needs listeners durable before the window is read).
-- ARGV: prefix, now, n, n × (run, app, fn, started, trigger id, name, ts, data,
--   fingerprint, k, k × (rule, event, expires, expression)), w, w × (name, XRANGE start),
--   f, f × function key.
-- Returns {conflict index} (0-based, nothing written) or {-1, existing, windows, cx, moves}.
local now = ARGV[2]
local pos = 4  -- the next unread argument
local runs = {}
for k = 1, tonumber(ARGV[3]) do
  local r = {id = ARGV[pos], a = ARGV[pos + 1], f = ARGV[pos + 2], s = ARGV[pos + 3],
             ti = ARGV[pos + 4], tn = ARGV[pos + 5], tt = ARGV[pos + 6], td = ARGV[pos + 7],
             fp = ARGV[pos + 8], listeners = {}}
  local n = tonumber(ARGV[pos + 9])
  pos = pos + 10
  for j = 1, n do
    r.listeners[j] = {ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3]}
    pos = pos + 4
  end
  runs[k] = r
end

-- Pass 1: a run id stored (or earlier in this batch) with another fingerprint is a
-- conflict, unless that run was cancelled (then it answers with its decision).
local seen, stored = {}, {}
for k, r in ipairs(runs) do
  if not seen[r.id] then
    local h = redis.call('HMGET', K.run(r.id), 'st', 'fp')
    stored[r.id] = h[1] and true or false
    seen[r.id] = h[1] and {h[1], h[2]} or {'p', r.fp}
  end
  if seen[r.id][2] ~= r.fp and seen[r.id][1] ~= 'c' then return {k - 1} end
end

-- Pass 2: insert.
local function_runs = {}
local function insert(r)
  local args = {'a', r.a, 'f', r.f, 's', r.s, 'ti', r.ti, 'tn', r.tn, 'tt', r.tt, 'td', r.td,
                'fp', r.fp, 'st', 'p', 'ra', now}
  local names, order = {}, {}
  for _, l in ipairs(r.listeners) do
    args[#args + 1] = 'l' .. l[1]
    args[#args + 1] = l[3] .. ':' .. #l[2] .. ':' .. l[2] .. l[4]
    redis.call('ZADD', K.expiry(), l[3], r.id .. '/' .. l[1])
    if names[l[2]] then
      names[l[2]] = names[l[2]] .. ',' .. l[1]
    else
      names[l[2]] = l[1]
      order[#order + 1] = l[2]
    end
  end
  redis.call('HSET', K.run(r.id), unpack(args))
  for _, name in ipairs(order) do
    redis.call('HSET', K.bucket(name), r.id, names[name])  -- its rule indices on that name
    log_add(name, '+', r.id)
  end
  local fk = K.function_key(r.a, r.f)
  redis.call('ZADD', K.pending_by_function(fk), 0, K.start_member(r.s, r.id))
  function_runs[fk] = (function_runs[fk] or 0) + 1
  LISTENERS = LISTENERS + #r.listeners
end

local existing = {}
for k, r in ipairs(runs) do
  if stored[r.id] then
    existing[k] = redis.call('HGETALL', K.run(r.id))
  else
    insert(r)
    stored[r.id] = true  -- a second copy in this batch finds the first
    existing[k] = 0
  end
end
for fk, n in pairs(function_runs) do redis.call('HINCRBY', K.function_runs(), fk, n) end
flush_counts()

local windows = {}
for j = 1, tonumber(ARGV[pos]) do
  windows[j] = redis.call('XRANGE', K.window(ARGV[pos + 2 * j - 1]), ARGV[pos + 2 * j], '+')
end
pos = pos + 1 + 2 * tonumber(ARGV[pos])

local cx = {}
for j = 1, tonumber(ARGV[pos]) do
  local rows = {}
  for _, id in ipairs(redis.call('SMEMBERS', K.cancellations_of(ARGV[pos + j]))) do
    rows[#rows + 1] = redis.call('HGET', K.cancellations(), id)
  end
  cx[j] = rows
end
return {-1, existing, windows, cx, moves()}
