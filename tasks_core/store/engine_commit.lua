-- engine_commit.lua: save one trigger-engine batch's outcome, only while its engine leads;
-- atomic, so a beat that lost the lead mid-pass never overwrites its successor's state.
-- KEYS[1]  the beat lock              p:lock:beat
-- KEYS[2]  evaluator states           p:engine:state (HASH automation id -> JSON)
-- KEYS[3]  entries evaluated          p:engine:evaluated (ZSET entry id, score its ms)
-- KEYS[4]  pending firings            p:engine:pending (HASH key -> JSON)
-- ARGV[1]  the engine's holder id     the lock's value while this beat leads
-- ARGV[2]  states to write            JSON object: id -> JSON text, or false to drop it
-- ARGV[3]  entries of this batch      JSON list of stream entry ids now evaluated
-- ARGV[4]  pending firings to add     JSON object: key -> JSON text
-- Returns 1 when written, 0 when ARGV[1] does not hold the lock (nothing written).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
for id, text in pairs(cjson.decode(ARGV[2])) do
  if text == false then
    redis.call('HDEL', KEYS[2], id)
  else
    redis.call('HSET', KEYS[2], id, text)
  end
end
for _, entry in ipairs(cjson.decode(ARGV[3])) do
  redis.call('ZADD', KEYS[3], tonumber(string.match(entry, '^(%d+)')), entry)
end
for key, text in pairs(cjson.decode(ARGV[4])) do
  redis.call('HSET', KEYS[4], key, text)
end
return 1
