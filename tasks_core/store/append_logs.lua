-- append_logs.lua: append log entries to a run's log list, as one command, so that every
-- write of a reporter batch has exactly one reply. The list's TTL follows the run's record:
-- none while the run has not ended (its record has no TTL: early logs of a run Running for
-- longer than any TTL stay), the record's remaining TTL once it has (transition.lua sets
-- the list's TTL when the run ends, so logs written before the end expire with it too).
-- KEYS[1]   the log list            p:run:<id>:logs
-- KEYS[2]   the run's record        p:run:<id>
-- ARGV[1]   TTL seconds when the record is missing (settings.run_ttl_seconds: logs of a
--           run that expired, or was never created, do not stay forever)
-- ARGV[2..] log entries (JSON), oldest first
-- Returns the length of the list. The same call sent again after it applied (its reply lost
-- with the connection: redis-py, or the reporter once Redis is back, sends it again) is known
-- by the list's last entry, which is then this call's last (an entry holds its time in
-- microseconds), and appends nothing.
if redis.call('LINDEX', KEYS[1], -1) == ARGV[#ARGV] then  -- this call, sent again
  return redis.call('LLEN', KEYS[1])
end
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
local left = redis.call('TTL', KEYS[2])
if left == -2 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
elseif left >= 0 then
  redis.call('EXPIRE', KEYS[1], math.max(left, 1))
end
return n
