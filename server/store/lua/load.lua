-- Where a bucket load starts: the change log's position, read before any run is (the
-- replica then reads the bucket's runs with plain HSCAN / HMGET and replays the log from
-- here, which makes its copy exact). ARGV: prefix, event name. Returns the cursor.
local name = ARGV[2]
local epoch = redis.call('HGET', K.log_epochs(), name)
if not epoch then return '0-0' end
local last = redis.call('XREVRANGE', K.log(name), '+', '-', 'COUNT', 1)[1]
return last and last[1] or (epoch .. '-0')
