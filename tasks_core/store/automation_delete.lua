-- automation_delete.lua: remove one automation, its name and owner index entries, and
-- announce the change, atomically.
-- KEYS[1]   automation names            p:automations              HASH name -> id
-- KEYS[2]   the automation              p:automation:<id>          STRING (JSON)
-- KEYS[3]   (optional) owner index      p:automations:owned:<dep>  SET of ids
-- ARGV[1]   id
-- ARGV[2]   the change channel          p:automations:changes
-- ARGV[3]   the change message (JSON)
-- Returns 1 when it was deleted, 0 when there was no such automation (nothing published).
local old = redis.call('GET', KEYS[2])
if not old then
  return 0
end
local name = cjson.decode(old)['name']
if redis.call('HGET', KEYS[1], name) == ARGV[1] then
  redis.call('HDEL', KEYS[1], name)
end
redis.call('DEL', KEYS[2])
if KEYS[3] then
  redis.call('SREM', KEYS[3], ARGV[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
