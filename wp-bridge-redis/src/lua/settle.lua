-- KEYS: leased, tokens, jobs, counts, ready, delayed, dead
-- ARGV: token, now_ms, action (ack | retry | dead), due_ms (retry), reason (dead)
-- Returns 1 when settled, 0 when the lease is no longer held.
local id = string.match(ARGV[1], '^([^:]+):')
if not id or redis.call('HGET', KEYS[2], id) ~= ARGV[1] then
  return 0
end
local now = tonumber(ARGV[2])
local deadline = tonumber(redis.call('ZSCORE', KEYS[1], id) or '0')
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
if deadline <= now then
  -- Expired: the job belongs to the queue again, not to this caller.
  redis.call('LPUSH', KEYS[5], id)
  return 0
end
if ARGV[3] == 'ack' then
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
elseif ARGV[3] == 'retry' then
  local due = tonumber(ARGV[4])
  if due > now then
    redis.call('ZADD', KEYS[6], due, id)
  else
    redis.call('LPUSH', KEYS[5], id)
  end
else
  local payload = redis.call('HGET', KEYS[3], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HSET', KEYS[7], id, cjson.encode({payload = payload, reason = ARGV[5], at = now}))
end
return 1
