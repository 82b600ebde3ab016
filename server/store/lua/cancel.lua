-- The cancel step: each run still pending becomes cancelled, loses its listeners and
-- gets one decision, atomically; a run no longer pending is skipped (exactly one
-- decision per run, whatever races for it).
-- ARGV: prefix, now, n, n × (run, cause, rule, event id, event name, cancellation, decision id).
-- Returns {per decided run {run, decision id, seq, app, fn, trigger id, name, ts, data,
--   names}, moves}.
local now = ARGV[2]
local out = {}
local pos = 4
local seq = nil
for _ = 1, tonumber(ARGV[3]) do
  local run, did = ARGV[pos], ARGV[pos + 6]
  if redis.call('HGET', K.run(run), 'st') == 'p' then
    seq = redis.call('HINCRBY', K.meta(), 'dseq', 1)
    local fields, _, names = end_run(run, 'c', now, {
      'd', did, 'dq', seq, 'dc', ARGV[pos + 1], 'dr', ARGV[pos + 2], 'de', ARGV[pos + 3],
      'dn', ARGV[pos + 4], 'dx', ARGV[pos + 5], 'dt', now})
    redis.call('ZADD', K.unacked(), seq, did)
    redis.call('HSET', K.decisions(), did, run)
    out[#out + 1] = {run, did, seq, fields.a, fields.f, fields.ti, fields.tn, fields.tt,
                     fields.td, names}
  end
  pos = pos + 7
end
flush_counts()
-- One wake-up for the whole step: watchers read every decision up to ``seq``.
if seq then redis.call('XADD', K.decision_log(), 'MAXLEN', '~', 1000, '*', 'q', seq) end
return {out, moves()}
