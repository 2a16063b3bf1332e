-- pause_take.lua: take an open pause of a flow run, the one step that settles a resume against a timeout
-- (or two resumes): whoever takes it first acts, the others see it gone.
--
-- KEYS[1]  p:pause:<run id>          STRING  the open pause (JSON)
-- KEYS[2]  p:pauses                  ZSET    open pauses by deadline
-- KEYS[3]  p:pause:<run id>:input    LIST    input for the paused process
-- KEYS[4]  p:pause:<run id>:resumed  HASH    pause key -> input JSON (a suspended flow's
--                                            rerun reads it: no TTL while the run has not
--                                            ended, however long it waits; transition.lua
--                                            sets the run's TTL on it when it ends)
-- KEYS[5]  p:run:<run id>            HASH    the run's record (its TTL: has it ended?)
-- ARGV[1]  run id
-- ARGV[2]  input JSON to hand over ("" for none: a timeout takes it)
-- ARGV[3]  push: "1" pushes the input onto KEYS[3] (a process waits for it), "0" does not
-- ARGV[4]  the pause key ("" : do not record it as resumed)
-- ARGV[5]  TTL seconds of KEYS[3] (the run TTL), and of KEYS[4] when the record is gone
--
-- Returns the pause's JSON when taken, false when there was no open pause.
local pause = redis.call('GET', KEYS[1])
if not pause then
  return false
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[3] == '1' then
  redis.call('RPUSH', KEYS[3], ARGV[2])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]))
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[4], ARGV[2])
  local left = redis.call('TTL', KEYS[5])
  if left == -2 then
    redis.call('EXPIRE', KEYS[4], tonumber(ARGV[5]))
  elseif left >= 0 then
    redis.call('EXPIRE', KEYS[4], math.max(left, 1))
  end
end
return pause
