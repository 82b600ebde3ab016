-- One chunk of a bucket load. The first chunk (scan cursor "0", ARGV[5] = "first") also
-- returns the change log's position, read before any run: replaying the log from it
-- after the last chunk makes the replica's copy exact.
-- ARGV: prefix, event name, scan cursor, count, "first" or "".
-- Returns {next scan cursor ("0" when done), log cursor or "", runs (flat, see bucket_run)}.
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
local scan = redis.call('SSCAN', K.bucket(name), ARGV[3], 'COUNT', ARGV[4])
local runs = {}
for _, run in ipairs(scan[2]) do bucket_run(run, name, runs) end
return {scan[1], log_cursor, runs}
