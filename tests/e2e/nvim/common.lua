-- Shared by the headless Neovim scripts of tests/e2e/test_nvim.py.
--
-- pytest passes a JSON file in $SAMOKODER_E2E_PARAMS ({result, file, cmd, budget_ms, ...});
-- a script records what it saw into `T.result` and `T.run(fn)` writes it as JSON to
-- params.result, with the error, :messages and the LSP log tail when something failed.
local T = {}

T.params = vim.json.decode(table.concat(vim.fn.readfile(vim.env.SAMOKODER_E2E_PARAMS), "\n"))
T.result = { notifications = {}, error = vim.NIL }

local deadline = vim.uv.now() + (T.params.budget_ms or 40000)

-- Record notifications (and still echo them, so :messages shows them on failure).
local original_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(
    T.result.notifications,
    { msg = tostring(msg), level = level or vim.log.levels.INFO }
  )
  return original_notify(msg, level, opts)
end

--- Wait until `predicate()` is true; error naming `what` when the time (bounded by the
--- script's overall budget) runs out.
function T.wait(what, ms, predicate)
  local left = math.max(0, deadline - vim.uv.now())
  if not vim.wait(math.min(ms, left), predicate, 20) then
    error("timed out waiting for " .. what, 2)
  end
end

local started = vim.uv.now()
T.result.timeline = {}

--- Record how long the script has run when it reaches `name` (read when a test is slow).
function T.mark(name)
  table.insert(T.result.timeline, { name, vim.uv.now() - started })
end

--- Notifications whose text contains `needle`.
function T.notified(needle)
  local found = {}
  for _, n in ipairs(T.result.notifications) do
    if n.msg:find(needle, 1, true) then
      found[#found + 1] = n
    end
  end
  return found
end

function T.lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, true)
end

local function tail(path, n)
  if vim.fn.filereadable(path) ~= 1 then
    return {}
  end
  local lines = vim.fn.readfile(path)
  return vim.list_slice(lines, math.max(1, #lines - n + 1), #lines)
end

--- Run the test body, write the result file and quit Neovim whatever happens.
function T.run(body)
  local ok, err = xpcall(body, debug.traceback)
  T.mark("done")
  if not ok then
    T.result.error = tostring(err)
    T.result.messages = vim.split(vim.fn.execute("messages"), "\n", { plain = true })
    T.result.lsp_log = tail(vim.lsp.get_log_path(), 60)
  end
  vim.fn.writefile({ vim.json.encode(T.result) }, T.params.result)
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop()
  end
  vim.wait(math.max(0, math.min(3000, deadline + 5000 - vim.uv.now())), function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  vim.cmd("qa!")
end

return T
