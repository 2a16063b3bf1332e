-- deadletter_add.lua: set a message aside, and keep the dead-letter list within its bound
-- (the oldest entries go first); atomic, so the hash and its time index never disagree.
-- KEYS[1]  the entries             p:deadletter          HASH id -> JSON entry
-- KEYS[2]  the time index          p:deadletter:by-time  ZSET id by epoch seconds
-- ARGV[1]  the entry's id
-- ARGV[2]  the entry (JSON)
-- ARGV[3]  when it was set aside   epoch seconds (the score)
-- ARGV[4]  the most entries kept   an integer >= 1
-- Returns the number of old entries removed to stay within the bound.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over <= 0 then
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[2], 0, over - 1)
redis.call('ZREM', KEYS[2], unpack(oldest))
redis.call('HDEL', KEYS[1], unpack(oldest))
return over
