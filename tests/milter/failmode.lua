-- The summary is stale or missing: want = "accept" or "tempfail" is what
-- the configured fail_mode should give SMTP mail.  sendmail(1) mail is
-- never tempfailed: run checks that with mtraw (port 0).
dofile(dir .. "/lib.lua")

local w = want == "tempfail" and FAILMODE or ACCEPT
check("(" .. label .. ") throttled domain: " .. want,
      { from = "<spam@flood.example>" }, w)
check("(" .. label .. ") unthrottled domain: " .. want,
      { from = "<a@other.example>" }, w)
