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
-- KEYS[6]  p:pause:<run id>:taken     STRING  "<token>\n<pause JSON>" of the last take, kept
--                                            ARGV[7] seconds
-- ARGV[1]  run id
-- ARGV[2]  input JSON to hand over ("" for none: a timeout takes it)
-- ARGV[3]  push: "1" pushes the input onto KEYS[3] (a process waits for it), "0" does not
-- ARGV[4]  the pause key ("" : do not record it as resumed)
-- ARGV[5]  TTL seconds of KEYS[3] (the run TTL), and of KEYS[4] when the record is gone
-- ARGV[6]  this take's token (unique per call)
-- ARGV[7]  seconds KEYS[6] is kept
--
-- Returns the pause's JSON when taken, false when there was no open pause. The same take
-- sent again after it applied (redis-py sends a command again when its reply was lost
-- with the connection) finds its own token in KEYS[6] and gets the pause's JSON again,
-- changing nothing: its caller then does what follows the take (a resumed run moved on or
-- sent again, an expired one failed) instead of leaving the run Paused with no pause.
local pause = redis.call('GET', KEYS[1])
if not pause then
  local taken = redis.call('GET', KEYS[6])
  local mine = ARGV[6] .. '\n'
  if taken and string.sub(taken, 1, #mine) == mine then
    return string.sub(taken, #mine + 1)
  end
  return false
end
redis.call('SET', KEYS[6], ARGV[6] .. '\n' .. pause, 'EX', tonumber(ARGV[7]))
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
