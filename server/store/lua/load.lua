-- One chunk of a bucket load: HSCAN of the bucket, then each run's fields by HMGET, raw
-- (the replica decodes them; Redis's time is shared by all replicas, so nothing is parsed
-- here). The first chunk (ARGV[5] = "first") also returns the change log's position, read
-- before any run: replaying the log from it afterwards makes the replica's copy exact.
-- ARGV: prefix, event name, scan cursor, count, "first" or "".
-- Returns {next scan cursor ("0": done), log cursor or "", flat records: run id, its rule
--   indices, m, then the m HMGET values st s ti tn tt td l<i>...}.
local name = ARGV[2]
local log_cursor = ''
if ARGV[5] == 'first' then
  local epoch = redis.call('HGET', K.log_epochs(), name)
  log_cursor = '0-0'
  if epoch then
    local last = redis.call('XREVRANGE', K.log(name), '+', '-', 'COUNT', 1)[1]
    log_cursor = last and last[1] or (epoch .. '-0')
  end
end
local scan = redis.call('HSCAN', K.bucket(name), ARGV[3], 'COUNT', ARGV[4])
local out, pairs_ = {}, scan[2]
for j = 1, #pairs_, 2 do
  local run, rules = pairs_[j], pairs_[j + 1]
  local fields = {'st', 's', 'ti', 'tn', 'tt', 'td'}
  for i in string.gmatch(rules, '[^,]+') do fields[#fields + 1] = 'l' .. i end
  local h = redis.call('HMGET', K.run(run), unpack(fields))
  local n = #out
  out[n + 1], out[n + 2], out[n + 3] = run, rules, #fields
  for k = 1, #fields do out[n + 3 + k] = h[k] or '' end
end
return {scan[1], log_cursor, out}
