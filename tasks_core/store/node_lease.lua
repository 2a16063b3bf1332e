-- node_lease.lua: take or keep the lease on a Celery node name, and record the holder's
-- description; atomic, so two workers can never both hold one name.
-- KEYS[1]  the lease              p:node:<node>          (STRING: the holder's token, TTL)
-- KEYS[2]  the node index         p:nodes                (ZSET: node -> last heartbeat)
-- KEYS[3]  the node descriptions  p:nodes:info           (HASH: node -> JSON)
-- ARGV[1]  the contender's token  host:pid:random
-- ARGV[2]  TTL milliseconds       the lease expires unless renewed within it
-- ARGV[3]  the node name          name@host
-- ARGV[4]  the description        JSON (tasks_core.nodes.NodeInfo)
-- ARGV[5]  now                    epoch seconds
-- ARGV[6]  a stale token          the lease is taken over when held by it ('' for none)
-- Returns the token holding the lease afterwards: ARGV[1] when the contender holds it now
-- (taken, renewed or taken over), else the other holder's token (nothing is written).
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and (ARGV[6] == '' or holder ~= ARGV[6]) then
  return holder
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return ARGV[1]
