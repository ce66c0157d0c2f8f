-- The summary is stale or missing: want = "accept" or "tempfail" is what
-- the configured fail_mode should give SMTP mail; sendmail(1) mail is
-- never tempfailed.
dofile(dir .. "/lib.lua")

local w = want == "tempfail" and FAILMODE or ACCEPT
check("(" .. label .. ") throttled domain: " .. want,
      { from = "<spam@flood.example>" }, w)
check("(" .. label .. ") unthrottled domain: " .. want,
      { from = "<a@other.example>" }, w)
check("(" .. label .. ") sendmail(1) mail: accept",
      { host = "localhost", ip = "127.0.0.1", from = "spam@flood.example" },
      ACCEPT)
