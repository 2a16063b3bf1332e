-- append_logs.lua: append log entries to a run's log list, as one command, so that every
-- write of a reporter batch has exactly one reply. The list's TTL follows the run's record:
-- none while the run has not ended (its record has no TTL: early logs of a run Running for
-- longer than any TTL stay), the record's remaining TTL once it has (transition.lua sets
-- the list's TTL when the run ends, so logs written before the end expire with it too).
-- KEYS[1]   the log list            p:run:<id>:logs
-- KEYS[2]   the run's record        p:run:<id>
-- KEYS[3]   the writes applied      p:run:<id>:logs:writes  SET of write ids (TTL ARGV[3]
--           from the last write)
-- ARGV[1]   TTL seconds when the record is missing (settings.run_ttl_seconds: logs of a
--           run that expired, or was never created, do not stay forever)
-- ARGV[2]   this write's id: its reporter's (one per process) and its number there
-- ARGV[3]   seconds a run's write ids are kept (a write is sent again within them)
-- ARGV[4..] log entries (JSON), oldest first
-- Returns the length of the list. A write sent again after it applied (its reply lost with
-- the connection: redis-py, or the reporter once Redis is back, sends the batch again) is
-- known by its id and appends nothing, whatever was written between.
if redis.call('SADD', KEYS[3], ARGV[2]) == 0 then  -- this write, sent again
  return redis.call('LLEN', KEYS[1])
end
redis.call('EXPIRE', KEYS[3], ARGV[3])
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
local left = redis.call('TTL', KEYS[2])
if left == -2 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
elseif left >= 0 then
  redis.call('EXPIRE', KEYS[1], math.max(left, 1))
end
return n
