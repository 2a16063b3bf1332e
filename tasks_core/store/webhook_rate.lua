-- webhook_rate.lua: count one request against a webhook's fixed-window rate limit.
-- KEYS[1]   the window's counter        p:webhook:<id>:rate:<n>    STRING (INCR)
-- ARGV[1]   the window's length, milliseconds (the counter's TTL, set on its first count)
-- Returns the count in this window, this request included.
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
