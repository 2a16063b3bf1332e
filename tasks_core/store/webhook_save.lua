-- webhook_save.lua: create or update one webhook with its name and slug indexes, atomically.
-- KEYS[1]   webhook names               p:webhooks                 HASH name -> id
-- KEYS[2]   webhook slugs               p:webhooks:slugs           HASH slug -> id
-- KEYS[3]   the webhook                 p:webhook:<id>             STRING (JSON)
-- ARGV[1]   mode: "create" (refused when the name, the slug or the id exists) | "update"
--           (refused when the id does not exist, or the new name or slug is another's)
-- ARGV[2]   id
-- ARGV[3]   name
-- ARGV[4]   slug
-- ARGV[5]   the webhook's JSON (its "name" is ARGV[3], its "slug" ARGV[4])
-- Returns {"ok"}, {"duplicate-name", <id holding it>}, {"duplicate-slug", <id holding it>}
-- or {"missing"}.
local holder = redis.call('HGET', KEYS[1], ARGV[3])
if holder and holder ~= ARGV[2] then
  return {'duplicate-name', holder}
end
local slug_holder = redis.call('HGET', KEYS[2], ARGV[4])
if slug_holder and slug_holder ~= ARGV[2] then
  return {'duplicate-slug', slug_holder}
end
local old = redis.call('GET', KEYS[3])
if ARGV[1] == 'create' then
  if old then
    return {'duplicate-name', ARGV[2]}
  end
else
  if not old then
    return {'missing'}
  end
  local before = cjson.decode(old)
  if before['name'] ~= ARGV[3] and redis.call('HGET', KEYS[1], before['name']) == ARGV[2] then
    redis.call('HDEL', KEYS[1], before['name'])
  end
  if before['slug'] ~= ARGV[4] and redis.call('HGET', KEYS[2], before['slug']) == ARGV[2] then
    redis.call('HDEL', KEYS[2], before['slug'])
  end
end
redis.call('SET', KEYS[3], ARGV[5])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[2])
return {'ok'}
