--- Runs as the user sees them: started, progressing, asking, finished.
---
--- A run answers its command at once with {runId}; everything after arrives as
--- `$/progress` (the LspProgress autocmd), `samokoder/ask` and `samokoder/runFinished`.
local lsp = require("samokoder.lsp")

local M = {}

--- runId -> {client_id, title, started}
M.active = {}
--- The latest progress line, for statuslines (require("samokoder").status()).
M.status_text = ""

local ASK_TIMEOUT_MS = 600000

--- Remember a run started by a command, so :SamokoderCancel can find it.
function M.track(client_id, run_id, title)
  if type(run_id) == "string" then
    M.active[run_id] = { client_id = client_id, title = title, started = vim.uv.now() }
  end
end

--- The most recently started active run (nil when none).
function M.latest()
  local best, best_id
  for id, run in pairs(M.active) do
    if not best or run.started >= best.started then
      best, best_id = run, id
    end
  end
  return best_id, best
end

local LEVELS = {
  succeeded = vim.log.levels.INFO,
  rejected = vim.log.levels.WARN,
  cancelled = vim.log.levels.WARN,
  failed = vim.log.levels.ERROR,
}

--- One line for a finished run: status, summary, tokens and cost.
--- @param params table runFinished payload
--- @return string
function M.describe_finished(params)
  local parts = { params.status or "finished" }
  if type(params.summary) == "string" and params.summary ~= "" then
    parts[#parts + 1] = params.summary
  end
  local text = table.concat(parts, ": ")
  if params.error and params.error ~= vim.NIL and params.error ~= params.summary then
    text = text .. " (" .. tostring(params.error) .. ")"
  end
  local usage = type(params.usage) == "table" and params.usage or {}
  local extras = {}
  local tokens = (tonumber(usage.promptTokens) or 0) + (tonumber(usage.completionTokens) or 0)
  if tokens > 0 then
    extras[#extras + 1] = ("%d tokens"):format(tokens)
  end
  local cost = tonumber(usage.costUsd)
  if cost then
    extras[#extras + 1] = ("$%.4f"):format(cost)
  end
  if #extras > 0 then
    text = text .. " [" .. table.concat(extras, ", ") .. "]"
  end
  return text
end

--- `samokoder/runFinished`: tell the user, close the run's review tab, show any text.
function M.on_run_finished(_, params)
  if type(params) ~= "table" then
    return
  end
  M.active[params.runId] = nil
  M.status_text = ""
  require("samokoder.review").close_run(params.runId)
  lsp.notify("run " .. M.describe_finished(params), LEVELS[params.status] or vim.log.levels.INFO)
  if type(params.text) == "string" and params.text ~= "" then
    require("samokoder.views").show("samokoder://run/" .. params.runId, params.text, "markdown")
  end
  vim.api.nvim_exec_autocmds("User", {
    pattern = "SamokoderRunFinished",
    modeline = false,
    data = params,
  })
  return vim.NIL
end

--- Wait for a vim.ui callback without blocking: yields when called from the coroutine that
--- Neovim runs server requests in, else waits in the event loop (bounded).
--- @param start fun(done: fun(value: any))
--- @return any
local function await_ui(start)
  local finished, value = false, nil
  local co = coroutine.running()
  local yielded = false
  start(function(v)
    if finished then
      return
    end
    finished, value = true, v
    if yielded then
      yielded = false
      local ok, err = coroutine.resume(co)
      if not ok then
        lsp.notify("answering a question failed: " .. tostring(err), vim.log.levels.ERROR)
      end
    end
  end)
  if finished then
    return value
  end
  if co and coroutine.isyieldable and coroutine.isyieldable() then
    yielded = true
    coroutine.yield()
    return value
  end
  vim.wait(ASK_TIMEOUT_MS, function()
    return finished
  end, 50)
  return value
end

local OTHER = "Other…"

--- Ask the user: vim.ui.select for choices, vim.ui.input for free text; nil when dismissed.
--- @param params table {question, choices?, freeText}
--- @return string|nil
function M.ask_user(params)
  local question = tostring(params.question or "Samokoder asks")
  local choices = type(params.choices) == "table" and params.choices or {}
  local free = params.freeText == true
  if #choices > 0 then
    local items = vim.list_extend({}, choices)
    if free then
      items[#items + 1] = OTHER
    end
    local picked = await_ui(function(done)
      vim.ui.select(items, { prompt = question }, function(item)
        done(item)
      end)
    end)
    if picked ~= OTHER then
      return picked
    end
  end
  if not free and #choices > 0 then
    return nil
  end
  local answer = await_ui(function(done)
    vim.ui.input({ prompt = question .. " " }, function(input)
      done(input)
    end)
  end)
  if answer == nil or answer == "" then
    return nil
  end
  return answer
end

--- `samokoder/ask` request: answer {answer} (null when dismissed).
function M.on_ask(_, params)
  local ok, answer = pcall(M.ask_user, type(params) == "table" and params or {})
  if not ok then
    lsp.notify("could not ask: " .. tostring(answer), vim.log.levels.ERROR)
    answer = nil
  end
  if answer == nil then
    return { answer = vim.NIL }
  end
  return { answer = answer }
end

--- LspProgress autocmd for Samokoder clients: begin via vim.notify, reports echoed.
--- @param mode string|false options.progress
function M.watch_progress(mode)
  local group = vim.api.nvim_create_augroup("samokoder.progress", { clear = true })
  if not mode then
    return
  end
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    callback = function(args)
      local data = args.data or {}
      local client = vim.lsp.get_client_by_id(data.client_id)
      if not client or client.name ~= lsp.NAME then
        return
      end
      local value = (data.params or {}).value
      if type(value) ~= "table" then
        return
      end
      local line = value.title or "Samokoder"
      if value.message and value.message ~= "" then
        line = line .. ": " .. value.message
      end
      if value.kind == "end" then
        M.status_text = ""
        return -- runFinished says how it ended
      end
      M.status_text = line
      if value.kind == "begin" and mode == "notify" then
        vim.notify(line, vim.log.levels.INFO, { title = "Samokoder" })
      else
        vim.api.nvim_echo({ { line } }, false, {})
      end
    end,
  })
end

return M
