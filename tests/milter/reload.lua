-- SIGHUP: phase "pin" opens a connection, runs the hook (which rewrites
-- the configuration, sends SIGHUP and waits for the reload), then sends a
-- message on the old connection and one on a new connection.  Phases
-- "exempt" and "plain" check one sender against each configuration.
dofile(dir .. "/lib.lua")

if phase == "pin" then
    local ok, got = pcall(function()
	local conn = open_conn({})
	if os.execute(hook) ~= true then
	    error("hook failed: " .. hook)
	end
	local r = message(conn, { from = "<spam@flood.example>" })
	mt.disconnect(conn)
	return r
    end)
    report("SIGHUP: an open connection keeps its configuration", ok, got,
	   TEMPFAIL)
    check("SIGHUP: the next connection sees the new exempt sender",
	  { from = "<spam@flood.example>" }, ACCEPT)
elseif phase == "exempt" then
    check("(" .. label .. ") exempt sender of the reloaded configuration",
	  { from = "<spam@flood.example>" }, ACCEPT)
    check("(" .. label .. ") other senders at the domain still tempfail",
	  { from = "<other@flood.example>" }, TEMPFAIL)
elseif phase == "plain" then
    check("(" .. label .. ") the exemption is gone",
	  { from = "<spam@flood.example>" }, TEMPFAIL)
else
    print("not ok - reload.lua: unknown phase " .. tostring(phase))
end
