-- metrics_duration.lua: count one finished run's duration into the histogram of `/metrics`,
-- prepended to transition.lua when it is loaded (store/runs.py); two writes per run.
-- KEYS[] none: no script of its own, a function of its arguments:
--   hist_key   the histogram hash (p:metrics:durations)
--   bounds     upper bounds in seconds, ascending, comma-separated ("0.1,1,10")
--   kind       task | flow;  queue: the run's queue ('' when it ran in-process)
--   state      the terminal state entered
--   start_iso  the run's start_time (ISO 8601 with an offset, as Python's isoformat
--              writes it); false or unreadable: the run never started, nothing is counted
--   end_epoch  the end time, epoch seconds
-- Fields: "<kind>|<pool>|<state>|<i>" (runs in bucket i, not cumulative; i = #bounds for
-- +Inf; their sum is the count) and "...|us" (the durations' sum, microseconds). <pool> is
-- the queue up to its first ':'.
-- Returns nothing.
local function iso_epoch(text)
  local y, mo, d, h, mi, s, rest = string.match(text,
    '^(%d+)-(%d+)-(%d+)T(%d+):(%d+):([%d%.]+)(.*)$')
  if not y then
    return nil
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then
    y = y - 1
  end
  -- days from the civil date (H. Hinnant's algorithm), proleptic Gregorian
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local secs = (era * 146097 + doe - 719468) * 86400 + tonumber(h) * 3600
    + tonumber(mi) * 60 + tonumber(s)
  local sign, oh, om = string.match(rest, '^([+-])(%d+):(%d+)')
  if sign then
    local offset = tonumber(oh) * 3600 + tonumber(om) * 60
    if sign == '+' then secs = secs - offset else secs = secs + offset end
  end
  return secs
end

local function count_duration(hist_key, bounds, kind, queue, state, start_iso, end_epoch)
  if not start_iso or not end_epoch then
    return
  end
  local start = iso_epoch(start_iso)
  if not start then
    return
  end
  local seconds = math.max(0, end_epoch - start)
  local index = 0
  for bound in string.gmatch(bounds, '[^,]+') do
    if seconds <= tonumber(bound) then
      break
    end
    index = index + 1
  end
  local pool = string.match(queue, '^[^:]*')
  local base = kind .. '|' .. pool .. '|' .. state .. '|'
  redis.call('HINCRBY', hist_key, base .. index, 1)
  redis.call('HINCRBY', hist_key, base .. 'us', string.format('%d', seconds * 1e6 + 0.5))
end
