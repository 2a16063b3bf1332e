-- set_looks.lua: after the scheduler created a chunk's runs, move each deployment it read
-- from the schedule index to its next look (or out of the index when its schedules ended)
-- and store its new schedule mark; only where the entry is unchanged since the read, so a
-- deploy, pause or delete that changed it meanwhile wins.
-- KEYS[1]         the schedule index    p:schedules
-- KEYS[i + 1]     deployment i's mark   p:schedule-mark:<dep id>          (i = 1 .. n)
-- ARGV[4i - 3]    deployment i's id
-- ARGV[4i - 2]    its score as read, exactly as Redis wrote it (raw text)
-- ARGV[4i - 1]    its next look (epoch seconds); '' = remove it from the index
-- ARGV[4i]        its new mark (ISO 8601); '' = keep the mark
-- Returns 0.
for i = 1, #KEYS - 1 do
  local at = 4 * (i - 1)
  local id = ARGV[at + 1]
  if redis.call('ZSCORE', KEYS[1], id) == ARGV[at + 2] then
    if ARGV[at + 3] == '' then
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('ZADD', KEYS[1], ARGV[at + 3], id)
    end
    if ARGV[at + 4] ~= '' then
      redis.call('SET', KEYS[i + 1], ARGV[at + 4])
    end
  end
end
return 0
