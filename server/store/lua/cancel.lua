-- The cancel step: each run still pending becomes cancelled, loses its listeners and
-- gets one decision, atomically; a run no longer pending is skipped (exactly one
-- decision per run, whatever races for it).
-- ARGV: prefix, now, n, n × (run, cause, rule, event id, event name, cancellation, decision id).
-- Returns per decided run {run, decision id, seq, app, fn, trigger id, name, ts, data, names}.
local now = ARGV[2]
local out = {}
local pos = 4
for _ = 1, tonumber(ARGV[3]) do
  local run, did = ARGV[pos], ARGV[pos + 6]
  local rk = K.run(run)
  if redis.call('HGET', rk, 'st') == 'p' then
    local fields, _, names = end_run(run, 'c', now)
    local seq = redis.call('HINCRBY', K.meta(), 'dseq', 1)
    redis.call('HSET', rk, 'd', did, 'dq', seq, 'dc', ARGV[pos + 1], 'dr', ARGV[pos + 2],
               'de', ARGV[pos + 3], 'dn', ARGV[pos + 4], 'dx', ARGV[pos + 5], 'dt', now)
    redis.call('ZADD', K.unacked(), seq, did)
    redis.call('HSET', K.decisions(), did, run)
    redis.call('XADD', K.decision_log(), 'MAXLEN', '~', 1000, '*', 'q', seq)
    out[#out + 1] = {run, did, seq, fields.a, fields.f, fields.ti, fields.tn, fields.tt,
                     fields.td, names}
  end
  pos = pos + 7
end
return out
