-- A watcher's page: unacknowledged decisions after a sequence, oldest first, each with
-- its run's fields (a decision is rebuilt from them), and the highest sequence so far.
-- ARGV: prefix, after, limit. Returns {head, {seq, decision id, run id, run hash}...}.
local head = redis.call('HGET', K.meta(), 'dseq') or '0'
local ids = redis.call('ZRANGEBYSCORE', K.unacked(), '(' .. ARGV[2], '+inf', 'WITHSCORES',
                       'LIMIT', 0, ARGV[3])
local rows = {}
for i = 1, #ids, 2 do
  local run = redis.call('HGET', K.decisions(), ids[i])
  rows[#rows + 1] = {ids[i + 1], ids[i], run, redis.call('HGETALL', K.run(run))}
end
return {head, rows}
