-- KEYS: jobs, ready, delayed    ARGV: id, payload, due_ms (0: visible now)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
else
  redis.call('LPUSH', KEYS[2], ARGV[1])
end
return 1
