-- A sign-in storm: correct passwords for the demo users in turn (argon2id each), so every
-- request does the full hash and opens a session; no throttle is tripped by design.
dofile("load/report.lua")
local users = { "dan@acme.test", "tina@acme.test", "maria@acme.test", "olga@acme.test",
  "gary@globex.test", "admin@fleetgate.test", "support@fleetgate.test" }
local i = 0

function request()
  i = i + 1
  local email = users[(i + id) % #users + 1]
  return wrk.format("POST", "/api/login", {
    ["Origin"] = os.getenv("ORIGIN"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "email=" .. email:gsub("@", "%%40") .. "&password=fleetgate-demo&next=")
end
