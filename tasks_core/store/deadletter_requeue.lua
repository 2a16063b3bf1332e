-- deadletter_requeue.lua: put a set-aside message back on its broker list and forget the
-- entry, in one step: an entry requeued twice at once is pushed once.
-- KEYS[1]  the entries             p:deadletter          HASH id -> JSON entry
-- KEYS[2]  the time index          p:deadletter:by-time  ZSET
-- KEYS[3]  the broker list         p:q:<queue>[<sep><step>] (kombu's, see keys.py)
-- ARGV[1]  the entry's id
-- ARGV[2]  the raw message         exactly as the broker held it
-- Returns 1 when the message was pushed, 0 when the entry was gone already.
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
return 1
