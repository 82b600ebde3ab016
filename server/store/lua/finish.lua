-- FinishRun: a pending run ends and loses its listeners; any other status is kept.
-- ARGV: prefix, now, run. Returns {found, listeners removed, {event names}, moves}.
local st = redis.call('HGET', K.run(ARGV[3]), 'st')
if not st then return {0, 0, {}, {}} end
if st ~= 'p' then return {1, 0, {}, {}} end
local _, removed, names = end_run(ARGV[3], 'f', ARGV[2])
flush_counts()
return {1, removed, names, moves()}
