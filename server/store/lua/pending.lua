-- A chunk of one function's pending runs by start time (bulk cancellation reads these).
-- ARGV: prefix, function key, BYLEX start (exclusive "(" member or inclusive "["), BYLEX
--   end, count. Returns {{member, run, started, trigger id, name, ts, data}...}.
local members = redis.call('ZRANGE', K.pending_by_function(ARGV[2]), ARGV[3], ARGV[4],
                           'BYLEX', 'LIMIT', 0, ARGV[5])
local out = {}
for _, m in ipairs(members) do
  local run = string.sub(m, string.find(m, ':', 1, true) + 1)
  local h = redis.call('HMGET', K.run(run), 's', 'ti', 'tn', 'tt', 'td', 'st')
  if h[6] == 'p' then out[#out + 1] = {m, run, h[1], h[2], h[3], h[4], h[5]} end
end
return {members[#members] or '', out}
