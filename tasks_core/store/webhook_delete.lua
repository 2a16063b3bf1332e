-- webhook_delete.lua: remove one webhook and its name and slug index entries, atomically.
-- KEYS[1]   webhook names               p:webhooks                 HASH name -> id
-- KEYS[2]   webhook slugs               p:webhooks:slugs           HASH slug -> id
-- KEYS[3]   the webhook                 p:webhook:<id>             STRING (JSON)
-- ARGV[1]   id
-- Returns 1 when the webhook existed, else 0.
local old = redis.call('GET', KEYS[3])
if not old then
  return 0
end
local before = cjson.decode(old)
if redis.call('HGET', KEYS[1], before['name']) == ARGV[1] then
  redis.call('HDEL', KEYS[1], before['name'])
end
if redis.call('HGET', KEYS[2], before['slug']) == ARGV[1] then
  redis.call('HDEL', KEYS[2], before['slug'])
end
redis.call('DEL', KEYS[3])
return 1
