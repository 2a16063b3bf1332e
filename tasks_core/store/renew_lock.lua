-- renew_lock.lua: keep a leader lock, or take it when it is free; atomic, so two
-- contenders can never both hold it.
-- KEYS[1]  the lock                p:lock:<name>
-- ARGV[1]  the contender           its id (host:pid), the lock's value while it holds it
-- ARGV[2]  TTL milliseconds        the lock expires unless renewed within it
-- ARGV[3]  '1' to take the lock when it is free, '0' to only renew it when held already
-- Returns 1 when the contender holds the lock now (renewed or taken), else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if ARGV[3] == '1' then
  return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
end
return 0
