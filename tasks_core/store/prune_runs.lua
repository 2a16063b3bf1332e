-- prune_runs.lua: one bounded batch of beat's index pruning for one kind of run (task or
-- flow): index entries of runs whose records expired leave the indexes. Run records,
-- histories, logs and children indexes expire by their own TTLs (set when the run ended);
-- the indexes hold many runs each, so they cannot, and are pruned here.
-- KEYS[1]     by-creation index       p:<kind>-runs
-- KEYS[2]     the pruning cursor      p:<kind>-runs:prune-at (a rank in KEYS[1])
-- KEYS[3..]   terminal state indexes  p:<kind>-runs:state:<S> (never one of a state a run
--                                     can leave: its runs have no TTL)
-- ARGV[1]     batch size: most entries removed by time from each state index, and most
--             entries of KEYS[1] read, by one call
-- ARGV[2]     creation cut-off (epoch seconds): entries of KEYS[1] scored above it are
--             runs too young to have expired (tasks_core.retention.runs_cutoff)
-- ARGV[3]     run key prefix          p:run:      (a record is p:run:<id>)
-- ARGV[4]     children key suffix     :children   (p:run:<id>:children)
-- ARGV[5..]   per state index of KEYS[3..], its entry-time cut-off (epoch seconds:
--             tasks_core.retention.state_cutoffs)
-- Steps:
-- 1. each terminal state index: its oldest entries scored at or below the cut-off are
--    removed (at most ARGV[1]); the score is when the run entered the state, when its TTL
--    was set, so these are exactly the runs whose records expired. ZCOUNT, then
--    ZREMRANGEBYRANK 0..n-1: O(log N + n).
-- 2. KEYS[1], from the cursor's rank: up to ARGV[1] entries scored at or below ARGV[2] are
--    each checked with EXISTS on the record; a missing one leaves KEYS[1] (one ZREM of the
--    batch's ids), and its children index is deleted (a child created after its parent
--    ended has no TTL otherwise). A run still there (not ended, or kept longer) stays, and
--    the cursor moves past it, so long-running runs never stall the pass; reaching an
--    entry above ARGV[2] or the end of KEYS[1] resets the cursor. Its state index entry
--    went by time in step 1 (a run expires only in a terminal state); removing the batch
--    from every state index as well would cost more than the rest of the batch.
-- Keys read by name inside (p:run:<id>, p:run:<id>:children) are built from ARGV[3..4] as
-- store/keys.py builds them; single Redis only (not one cluster slot).
-- Returns {removed by time, entries of KEYS[1] checked, removed from KEYS[1], more}: more
-- is 1 when a limit was reached (a state index had more expired entries, or KEYS[1] has
-- unchecked candidates), 0 when this kind is pruned up to now.
local batch = tonumber(ARGV[1])
local cutoff = tonumber(ARGV[2])
local run_prefix, children_suffix = ARGV[3], ARGV[4]
local more = 0

local by_time = 0
for i = 3, #KEYS do
  local n = redis.call('ZCOUNT', KEYS[i], '-inf', ARGV[i + 2])
  if n > batch then
    n = batch
    more = 1
  end
  if n > 0 then
    by_time = by_time + redis.call('ZREMRANGEBYRANK', KEYS[i], 0, n - 1)
  end
end

local start = tonumber(redis.call('GET', KEYS[2]) or '0')
local page = redis.call('ZRANGE', KEYS[1], start, start + batch - 1, 'WITHSCORES')
local gone, kept, checked, finished = {}, 0, 0, #page < 2 * batch
for j = 1, #page, 2 do
  if tonumber(page[j + 1]) > cutoff then
    finished = true
    break
  end
  checked = checked + 1
  if redis.call('EXISTS', run_prefix .. page[j]) == 1 then
    kept = kept + 1
  else
    gone[#gone + 1] = page[j]
  end
end
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  local children = {}
  for _, id in ipairs(gone) do
    children[#children + 1] = run_prefix .. id .. children_suffix
  end
  redis.call('UNLINK', unpack(children))
end
if finished then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], start + kept)
  more = 1
end
return {by_time, checked, #gone, more}
