-- wrk script: POST article requests with topics cycling through 1,000 values.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"topic": "benchmark topic %d", "target_length": 300}', n % 1000)
  return wrk.format(nil, nil, nil, body)
end
