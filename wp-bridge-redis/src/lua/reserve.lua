-- KEYS: ready, delayed, leased, tokens, jobs, counts
-- ARGV: now_ms, lease_ms, token nonce
-- Promotes due delayed jobs and expired leases, then leases one job.
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('LPUSH', KEYS[1], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('LPUSH', KEYS[1], id)
end
while true do
  local id = redis.call('RPOP', KEYS[1])
  if not id then
    return false
  end
  local payload = redis.call('HGET', KEYS[5], id)
  -- An id whose payload is gone was settled meanwhile: skip it.
  if payload then
    local token = id .. ':' .. ARGV[3]
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
    redis.call('HSET', KEYS[4], id, token)
    local n = redis.call('HINCRBY', KEYS[6], id, 1)
    return {token, payload, n}
  end
end
