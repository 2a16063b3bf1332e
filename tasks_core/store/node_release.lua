-- node_release.lua: a stopping worker gives its node name back (only if it still holds it).
-- KEYS[1]  the lease              p:node:<node>
-- KEYS[2]  the node index         p:nodes
-- KEYS[3]  the node descriptions  p:nodes:info
-- ARGV[1]  the holder's token     host:pid:random
-- ARGV[2]  the node name          name@host
-- Returns 1 when released, 0 when the lease was not the holder's (left alone).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return 1
