-- emit_events.lua: append a batch of events to the stream, each at most once by id.
-- KEYS[1]        event stream                 p:events
-- KEYS[2..n+1]   one dedup mark per event      p:event:<id>
-- ARGV[1]        most entries kept (approximate MAXLEN, settings.event_retention)
-- ARGV[2]        oldest age kept, seconds (approximate MINID from Redis' clock,
--                settings.event_retention_seconds); also the marks' TTL
-- ARGV[3..n+2]   the events' JSON, in the order of KEYS[2..]
-- Returns the number of events appended (an id already marked is skipped: a re-sent
-- batch, or the same id emitted twice, stores the event once).
local written = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[2]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i + 1])
    written = written + 1
  end
end
if written > 0 then
  local now = redis.call('TIME')
  local oldest = (tonumber(now[1]) - tonumber(ARGV[2])) * 1000
  if oldest > 0 then
    redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', oldest))
  end
end
return written
