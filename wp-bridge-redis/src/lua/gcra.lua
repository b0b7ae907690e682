-- Generic cell rate algorithm: one key per limited target.
-- KEYS: the limiter key    ARGV: now_us, emission interval_us, burst tolerance_us
-- Returns 0 when the call may go now, else how many microseconds to wait.
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local allow_at = tat - tolerance
if now < allow_at then
  return allow_at - now
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.floor((new_tat - now + tolerance) / 1000) + 1000)
return 0
