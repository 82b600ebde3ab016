-- Shared by every script (after the generated key prelude): run hashes, change logs.

-- A change log keeps at least this many entries, and at most about as many as its bucket
-- has runs: a replica further behind than that reloads the bucket, which costs no more
-- than replaying the log would.
local LOG_MIN = 256

-- A run hash keeps each stored listener in a field l<rule index> = "<expires>:<n>:<event
-- name of n bytes><expression>" (length-prefixed: names may hold any character).
local function parse_listener(v)
  local c1 = string.find(v, ':', 1, true)
  local c2 = string.find(v, ':', c1 + 1, true)
  local n = tonumber(string.sub(v, c1 + 1, c2 - 1))
  return string.sub(v, c2 + 1, c2 + n), string.sub(v, 1, c1 - 1), string.sub(v, c2 + n + 1)
end

local function hash(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- Where this script found each log it appended to, and where it left it: the calling
-- replica skips its own entries when its cursor is the first ("" = the log is new).
local MOVES = {}

local function moves()
  local out = {}
  for name, m in pairs(MOVES) do
    out[#out + 1] = name
    out[#out + 1] = m[1]
    out[#out + 1] = m[2]
  end
  return out
end

-- Per log touched by this script: its epoch and trim length, read once.
local EPOCHS, CAPS = {}, {}

-- Append to a bucket's change log. Ids are "<epoch>-<n>": the epoch is new each time the
-- log is created, so a replica holding a cursor into a deleted log notices and reloads.
local function log_add(name, op, run)
  local epoch = EPOCHS[name]
  if epoch == nil then
    epoch = redis.call('HGET', K.log_epochs(), name)
    local before = ''
    if epoch then before = redis.call('XREVRANGE', K.log(name), '+', '-', 'COUNT', 1)[1][1] end
    MOVES[name] = {before, before}
    CAPS[name] = math.max(LOG_MIN, redis.call('HLEN', K.bucket(name)))
  end
  if not epoch then
    epoch = redis.call('HINCRBY', K.meta(), 'lepoch', 1)
    redis.call('HSET', K.log_epochs(), name, epoch)
  end
  EPOCHS[name] = epoch
  MOVES[name][2] = redis.call('XADD', K.log(name), 'MAXLEN', '~', CAPS[name], epoch .. '-*',
                              'o', op, 'r', run)
end

-- A run leaves a bucket: logged, or — the bucket now empty — the log goes with it.
local function bucket_remove(name, run)
  redis.call('HDEL', K.bucket(name), run)
  if redis.call('HLEN', K.bucket(name)) == 0 then
    redis.call('DEL', K.log(name))
    redis.call('HDEL', K.log_epochs(), name)
    MOVES[name], EPOCHS[name], CAPS[name] = nil, nil, nil
  else
    log_add(name, '-', run)
  end
end

-- Counters a script changes, written once at its end (flush_counts).
local LISTENERS = 0

local function flush_counts()
  if LISTENERS ~= 0 then redis.call('HINCRBY', K.meta(), 'listeners', LISTENERS) end
end

-- pending -> status: every listener removed (from its bucket, the expiry index and the
-- run hash), the run out of its function's pending index and into the ended index.
-- ``extra`` are more fields to set on the run in the same HSET (a decision's).
local function end_run(run, status, now, extra)
  local rk = K.run(run)
  local fields = hash(redis.call('HGETALL', rk))
  local names, drop, removed = {}, {}, 0
  for f, v in pairs(fields) do
    if string.sub(f, 1, 1) == 'l' then
      names[(parse_listener(v))] = true
      redis.call('ZREM', K.expiry(), run .. '/' .. string.sub(f, 2))
      drop[#drop + 1] = f
      removed = removed + 1
    end
  end
  if #drop > 0 then redis.call('HDEL', rk, unpack(drop)) end
  local out = {}
  for name in pairs(names) do
    bucket_remove(name, run)
    out[#out + 1] = name
  end
  local set = {'st', status, 'ea', now}
  for _, v in ipairs(extra or {}) do set[#set + 1] = v end
  redis.call('HSET', rk, unpack(set))
  redis.call('ZREM', K.pending_by_function(K.function_key(fields.a, fields.f)),
             K.start_member(fields.s, run))
  redis.call('ZADD', K.ended(), now, run)
  LISTENERS = LISTENERS - removed
  return fields, removed, out
end

-- A pending run's listeners on one event name, as a replica's index adds them, appended
-- flat to ``out`` (flat arrays are the cheapest reply to build and to parse; the
-- listener values are decoded by the replica, not here: Redis's time is shared by all):
-- run, started, trigger id, name, ts, data, k, then k × (rule, stored l<rule> value).
local function bucket_run(run, name, out)
  local rules = redis.call('HGET', K.bucket(name), run)
  if not rules then return end
  local fields = {'st', 's', 'ti', 'tn', 'tt', 'td'}
  local idx = {}
  for i in string.gmatch(rules, '[^,]+') do
    idx[#idx + 1] = i
    fields[#fields + 1] = 'l' .. i
  end
  local h = redis.call('HMGET', K.run(run), unpack(fields))
  if h[1] ~= 'p' then return end
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = run, h[2], h[3], h[4]
  out[n + 5], out[n + 6], out[n + 7] = h[5], h[6], #idx
  for j, i in ipairs(idx) do
    out[n + 6 + 2 * j] = i
    out[n + 7 + 2 * j] = h[6 + j] or ''
  end
end

-- Forget one late-window name (idle past the window, or evicted to stay under a cap).
local function window_drop(name)
  local wk = K.window(name)
  local n = tonumber(redis.call('HGET', K.window_counts(), name) or '0')
  local b = tonumber(redis.call('HGET', K.window_bytes(), name) or '0')
  redis.call('DEL', wk)
  redis.call('HDEL', K.window_counts(), name)
  redis.call('HDEL', K.window_bytes(), name)
  redis.call('ZREM', K.window_names(), name)
  redis.call('HINCRBY', K.meta(), 'wev', -n)
  redis.call('HINCRBY', K.meta(), 'wby', -b)
end
