-- fetch_batch.lua: record the message a worker's BRPOP just took as unacknowledged, and take
-- up to ARGV[2] more off its queues, recording each, in one atomic step (the worker's fetch:
-- tasks_core/store/batch_fetch.py). A message taken here is never in no list: it moves from
-- its queue list straight into kombu's ack emulation, written as kombu.transport.redis.QoS
-- .append writes it (`unacked`: delivery tag -> [envelope, exchange, routing_key]; and
-- `unacked_index`: delivery tag -> time), so kombu's restore (visibility timeout, worker
-- shutdown) and ack work on it unchanged.
-- KEYS[1]    unacked_index (sorted set), with the stack's global_keyprefix
-- KEYS[2]    unacked (hash), with the prefix
-- KEYS[3..]  the queue lists in BRPOP's order: priority step by priority step, each step's
--            lists in the consumer's queue order (ARGV[3] lists per step), with the prefix
-- ARGV[1]    the time (epoch seconds), the unacked_index score
-- ARGV[2]    most messages to take off the lists (0: only record ARGV[4])
-- ARGV[3]    lists per priority step (the number of queues consumed)
-- ARGV[4]    the envelope BRPOP took, to record ('' = none)
-- Within a step the lists are taken from in turn, one message each, as kombu's queue
-- rotation does across successive BRPOPs; a higher step only once the lower ones are empty.
-- No error stops the script half-way: every message it popped is in its reply. A record
-- write that fails (Redis full under noeviction refuses it: OOM) stops it taking more: the
-- message is returned unrecorded (tag ''), and the rest stay on their queues.
-- Returns {tag, list, envelope, tag, list, envelope, ...}: first ARGV[4]'s delivery tag
-- (no list, no envelope: '' and ''), then each message taken with its list and tag. A tag is
-- '' when the envelope is not one kombu can take (not JSON, no properties.delivery_tag or
-- delivery_info): such a message is not recorded, and the caller sets it aside.
local now, limit, width = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local refused = false  -- a record write failed (Redis full: OOM): take no more

local function record(envelope)
  local ok, message = pcall(cjson.decode, envelope)
  if not ok or type(message) ~= 'table' or type(message['properties']) ~= 'table' then
    return ''
  end
  local tag = message['properties']['delivery_tag']
  local info = message['properties']['delivery_info']
  if type(tag) ~= 'string' or tag == '' or type(info) ~= 'table' then
    return ''
  end
  local exchange, routing_key = info['exchange'], info['routing_key']
  if type(exchange) ~= 'string' or type(routing_key) ~= 'string' then
    return ''
  end
  -- pcall: a failing write (a key of another type) leaves the message unrecorded, returned
  -- to the caller, never popped and dropped by an error half-way through the script
  local added = redis.pcall('ZADD', KEYS[1], now, tag)
  if type(added) == 'table' and added['err'] then
    refused = true
    return ''
  end
  local set = redis.pcall('HSET', KEYS[2], tag, '[' .. envelope .. ','
    .. cjson.encode(exchange) .. ',' .. cjson.encode(routing_key) .. ']')
  if type(set) == 'table' and set['err'] then
    redis.pcall('ZREM', KEYS[1], tag)
    refused = true
    return ''
  end
  return tag
end

local out = {'', '', ''}
if ARGV[4] ~= '' then
  out[1] = record(ARGV[4])
end
local taken, first = 0, 3
while first <= #KEYS and taken < limit and not refused do
  local last = math.min(first + width - 1, #KEYS)
  local more = true
  while more and taken < limit and not refused do
    more = false
    for i = first, last do
      if taken >= limit or refused then
        break
      end
      local envelope = redis.pcall('RPOP', KEYS[i])  -- not a list: nothing taken from it
      if type(envelope) == 'string' then
        more = true
        taken = taken + 1
        out[#out + 1] = record(envelope)
        out[#out + 1] = KEYS[i]
        out[#out + 1] = envelope
      end
    end
  end
  first = last + 1
end
return out
