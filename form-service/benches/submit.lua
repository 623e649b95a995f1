-- wrk script: durable consultation posts, each with different answers so the
-- double-click filter stores every one. Answers 201 JSON after the commit.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local n = 0
request = function()
  n = n + 1
  local who = tid .. "-" .. n
  local body = "name=Bench+" .. who .. "&email=bench" .. who .. "%40example.com&phone=&contact_method=email"
    .. "&availability=&service=laser-hair-removal&message=Benchmark+request&consent=yes&website="
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }, body)
end
