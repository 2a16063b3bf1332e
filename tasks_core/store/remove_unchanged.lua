-- remove_unchanged.lua: remove entries of the due set whose due time is still the one read,
-- after their messages were sent; an entry given a new due time since the read (a run that
-- failed again and waits for its next retry) stays.
-- KEYS[1]           the due set         p:due
-- ARGV[2i-1]        entry i's member    a run id
-- ARGV[2i]          entry i's score as read, exactly as Redis wrote it (raw text)
-- Returns 0.
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 0
