-- Server-function writes: each request creates a vehicle with a VIN no other request uses
-- (thread number + counter), so the rows can be counted against the 2xx answers afterwards.
dofile("load/report.lua")
local n = 0
local team = os.getenv("TEAM")

function init_scenario(args)
  n = 0
end

function request()
  n = n + 1
  -- 17 characters: "9" + thread (2 digits) + counter (14 digits); digits only, always valid.
  local vin = string.format("9%02d%014d", id, n)
  local body = "team=" .. team .. "&name=Load+" .. vin .. "&vin=" .. vin ..
    "&make=Ford&model=Transit&year=2023&plate=LOAD&odometer=1"
  return wrk.format("POST", "/api/vehicles/create", {
    ["Cookie"] = os.getenv("COOKIE"),
    ["Origin"] = os.getenv("ORIGIN"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
