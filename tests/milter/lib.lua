-- Helpers for the qshape-milter scripts, loaded with dofile() by each.
--
-- miltertest -D socket=inet:PORT@127.0.0.1 -D dir=tests/milter -s X.lua
--
-- A message's outcome is one string of words:
--   "mail=replycode"                       tempfail with the policy's reply
--   "mail=tempfail"                        tempfail without a reply
--   "mail=accept"                          accepted at MAIL FROM
--   "mail=continue eom=accept quarantine"  held (quarantined; with
--                                          t.reason, exactly that reason:
--                                          "qshape-milter policy=NAME
--                                          key=KIND:KEY")
-- and each check prints "ok - NAME" or "not ok - NAME: why".  Every call
-- into miltertest runs under pcall: a Lua error would end miltertest with
-- status 1 and no message.

TEMPFAIL = "mail=replycode"
FAILMODE = "mail=tempfail"
ACCEPT = "mail=accept"
HOLD = "mail=continue eom=accept quarantine"

local names = {}
for _, n in ipairs({"ACCEPT", "CONTINUE", "TEMPFAIL", "REPLYCODE",
		    "REJECT", "DISCARD"}) do
    names[_G["SMFIR_" .. n]] = n:lower()
end

local function word(r)
    return names[r] or ("code " .. tostring(r))
end

-- Connect and send the connection details: t.host, t.ip ("unspec" for a
-- client of unknown family).
function open_conn(t)
    local conn = mt.connect(socket, 50, 0.1)
    if conn == nil then
	error("cannot connect to " .. socket)
    end
    local err = mt.conninfo(conn, t.host or "client.example",
			    t.ip or "192.0.2.10")
    if err ~= nil then
	error("conninfo: " .. err)
    end
    if mt.getreply(conn) ~= SMFIR_CONTINUE then
	error("conninfo: " .. word(mt.getreply(conn)))
    end
    -- HELO before any MAIL-stage macro, as Postfix does: the milter
    -- answers HELO, and libmilter clears later stages' macros at it.
    err = mt.helo(conn, "helo.example")
    if err ~= nil then
	error("helo: " .. err)
    end
    if mt.getreply(conn) ~= SMFIR_CONTINUE then
	error("helo: " .. word(mt.getreply(conn)))
    end
    return conn
end

-- One message on an open connection: t.from (a string, or a list of
-- MAIL FROM arguments), t.sasl (the {auth_authen} macro), t.reason (the
-- quarantine reason a hold must carry; nil: any).  Ends at MAIL
-- FROM unless the milter said continue; then end of message.
function message(conn, t)
    if t.sasl ~= nil then
	mt.macro(conn, SMFIC_MAIL, "{auth_authen}", t.sasl)
    end
    local from = type(t.from) == "table" and t.from or { t.from }
    local err = mt.mailfrom(conn, table.unpack(from))
    if err ~= nil then
	error("mailfrom: " .. err)
    end
    local r = "mail=" .. word(mt.getreply(conn))
    if mt.getreply(conn) == SMFIR_CONTINUE then
	err = mt.eom(conn)
	if err ~= nil then
	    error("eom: " .. err)
	end
	r = r .. " eom=" .. word(mt.getreply(conn))
	if t.reason == nil and mt.eom_check(conn, MT_QUARANTINE) then
	    r = r .. " quarantine"
	elseif t.reason ~= nil
	       and mt.eom_check(conn, MT_QUARANTINE, t.reason) then
	    r = r .. " quarantine"
	elseif mt.eom_check(conn, MT_QUARANTINE) then
	    r = r .. " quarantine(another reason)"
	end
    end
    return r
end

function report(name, ok, got, want)
    if not ok then
	print("not ok - " .. name .. ": " .. tostring(got))
    elseif got == want then
	print("ok - " .. name)
    else
	print("not ok - " .. name .. ": got \"" .. got .. "\", want \""
	      .. want .. "\"")
    end
end

-- One connection, one message: is the outcome want?
function check(name, t, want)
    local ok, got = pcall(function()
	local conn = open_conn(t)
	local r = message(conn, t)
	mt.disconnect(conn)
	return r
    end)
    report(name, ok, got, want)
end

-- Does the message get any verdict (hostile input)?  The outcome must be
-- one of the four above.
function check_any(name, t)
    local ok, got = pcall(function()
	local conn = open_conn(t)
	local r = message(conn, t)
	mt.disconnect(conn)
	return r
    end)
    if ok and (got == TEMPFAIL or got == FAILMODE or got == ACCEPT
	       or got == HOLD) then
	print("ok - " .. name .. " (" .. got .. ")")
    else
	print("not ok - " .. name .. ": " .. tostring(got))
    end
end

-- Several messages on one connection: outcomes joined with " | ".
function check_conn(name, t, list, want)
    local ok, got = pcall(function()
	local conn = open_conn(t)
	local out = {}
	for _, m in ipairs(list) do
	    out[#out + 1] = message(conn, m)
	end
	mt.disconnect(conn)
	return table.concat(out, " | ")
    end)
    report(name, ok, got, want)
end
