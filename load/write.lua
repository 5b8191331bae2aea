-- Server-function writes: each request creates a vehicle with a VIN no other request uses
-- (series + thread number + counter), so the rows can be counted against the 2xx answers
-- afterwards. VIN_SERIES (one digit, 0 unless set) keeps concurrent or successive wrk runs apart:
-- each numbers its threads from 1 and its counters from 1.
dofile("load/report.lua")
local n = 0
local team = os.getenv("TEAM")
local series = math.floor(tonumber(os.getenv("VIN_SERIES") or "0") or 0) % 10

function init_scenario(args)
  n = 0
end

function request()
  n = n + 1
  -- 17 characters: "9" + series (1 digit) + thread (2 digits) + counter (13 digits); digits
  -- only, always valid.
  local vin = string.format("9%d%02d%013d", series, id, n)
  local body = "team=" .. team .. "&name=Load+" .. vin .. "&vin=" .. vin ..
    "&make=Ford&model=Transit&year=2023&plate=LOAD&odometer=1"
  return wrk.format("POST", "/api/vehicles/create", {
    ["Cookie"] = os.getenv("COOKIE"),
    ["Origin"] = os.getenv("ORIGIN"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
