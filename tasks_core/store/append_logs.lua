-- append_logs.lua: append log entries to a run's log list and (re)set its TTL, as one
-- command, so that every write of a reporter batch has exactly one reply.
-- KEYS[1]   the log list            p:run:<id>:logs
-- ARGV[1]   TTL seconds             (settings.run_ttl_seconds; refreshed by every write)
-- ARGV[2..] log entries (JSON), oldest first
-- Returns the length of the list.
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
