-- wrk script: 16 pipelined GET /plaintext per write (used by test_syscalls.py).
-- wrk counts each of the 16 responses as one request.
init = function(args)
   local depth = tonumber(args[1]) or 16
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format("GET", "/plaintext")
   end
   req = table.concat(r)
end

request = function()
   return req
end
