--- The :Samokoder* user commands: each turns its arguments into one server command.
local lsp = require("samokoder.lsp")
local review = require("samokoder.review")
local runs = require("samokoder.runs")
local views = require("samokoder.views")

local M = {}

--- Start a run and remember it; the server answers {runId} at once.
local function start_run(client, command, argument, title, bufnr)
  lsp.execute(client, command, argument, function(result)
    local run_id = type(result) == "table" and result.runId or nil
    runs.track(client.id, run_id, title)
  end, bufnr)
end

--- Ask for a description when the command got none, then call `with(text)`.
local function description_or_prompt(args, prompt, with)
  if args ~= "" then
    with(args)
    return
  end
  vim.ui.input({ prompt = prompt }, function(text)
    if text and text ~= "" then
      with(text)
    end
  end)
end

--- Length of a line in UTF-16 code units (the server's position encoding).
local function utf16_length(line)
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_utfindex(line, "utf-16")
  end
  local _, units = vim.str_utfindex(line)
  return units
end

--- LSP range for buffer lines line1..line2 (1-based, inclusive), whole lines.
--- @return table
function M.line_range(bufnr, line1, line2)
  local count = vim.api.nvim_buf_line_count(bufnr)
  local finish
  if line2 < count or vim.bo[bufnr].eol then
    finish = { line = line2, character = 0 }
  else -- no final newline: end at the end of the last line
    local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, true)[1]
    finish = { line = line2 - 1, character = utf16_length(last) }
  end
  return { start = { line = line1 - 1, character = 0 }, ["end"] = finish }
end

function M.edit(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.client(bufnr)
  if not client then
    return
  end
  if not vim.lsp.buf_is_attached(bufnr, client.id) then
    lsp.notify("this buffer is not part of a Samokoder workspace.", vim.log.levels.ERROR)
    return
  end
  local argument = {
    uri = vim.uri_from_bufnr(bufnr),
    range = M.line_range(bufnr, opts.line1, opts.line2),
  }
  if opts.args ~= "" then
    argument.instruction = opts.args
  end -- else the server asks for one (samokoder/ask)
  start_run(client, "samokoder.editSelection", argument, "edit", bufnr)
end

--- Start samokoder.generate / samokoder.implement; prompts for a missing description.
--- @param command string
--- @param argument table {description?, folder?} or {description?, files?}
function M.start(command, argument)
  local client = lsp.ensure_client()
  if not client then
    return
  end
  local what = command == "samokoder.generate" and "the application" or "the feature"
  description_or_prompt(argument.description or "", "Describe " .. what .. ": ", function(text)
    local arg = vim.tbl_extend("force", argument, { description = text })
    start_run(client, command, arg, command:match("%.(%w+)$"))
  end)
end

function M.generate(opts)
  M.start("samokoder.generate", { description = opts.args })
end

function M.implement(opts)
  local argument = { description = opts.args }
  if opts.bang and vim.api.nvim_buf_get_name(0) ~= "" then
    argument.files = { vim.uri_from_bufnr(0) } -- :SamokoderImplement! starts from this file
  end
  M.start("samokoder.implement", argument)
end

function M.accept(opts)
  local p = review.current()
  if not p then
    lsp.notify("no proposal is waiting for review.", vim.log.levels.WARN)
    return
  end
  review.accept(p, opts.fargs)
end

function M.reject(opts)
  local p = review.current()
  if not p then
    lsp.notify("no proposal is waiting for review.", vim.log.levels.WARN)
    return
  end
  review.reject(p, opts.args)
end

function M.review()
  local p = review.current()
  if not p then
    lsp.notify("no proposal is waiting for review.", vim.log.levels.WARN)
    return
  end
  review.open(p)
end

local function walk(command, verb)
  local client = lsp.ensure_client()
  if not client then
    return
  end
  lsp.execute(client, command, {}, function(result)
    local files = type(result) == "table" and result.files or {}
    lsp.notify(("%s: %s"):format(verb, table.concat(files, ", ")))
  end)
end

function M.undo()
  walk("samokoder.undo", "undone")
end

function M.redo()
  walk("samokoder.redo", "redone")
end

function M.cancel(opts)
  local run_id, run = opts.args, nil
  if run_id == "" then
    run_id, run = runs.latest()
  else
    run = runs.active[run_id]
  end
  if not run_id then
    lsp.notify("no run is in progress.", vim.log.levels.WARN)
    return
  end
  local client = run and vim.lsp.get_client_by_id(run.client_id) or lsp.client()
  if client then
    lsp.execute(client, "samokoder.cancel", { runId = run_id })
  end
end

local function when(created)
  local seconds = tonumber(created)
  if seconds then
    return os.date("%Y-%m-%d %H:%M:%S", math.floor(seconds))
  end
  return tostring(created or "")
end

--- History lines, newest first: when, what, summary, files.
function M.history_lines(steps)
  local lines = {}
  for _, s in ipairs(steps) do
    local files = vim.tbl_map(function(f)
      return (f.change == "create" and "+" or f.change == "delete" and "-" or "~") .. f.path
    end, s.files or {})
    lines[#lines + 1] = ("%s  %-5s %-8s %s  [%s]  %s"):format(
      when(s.createdAt),
      tostring(s.kind or ""),
      tostring(s.stepId or ""):sub(1, 8),
      tostring(s.summary or ""),
      table.concat(files, " "),
      s.model and s.model ~= vim.NIL and tostring(s.model) or ""
    )
  end
  if #lines == 0 then
    lines[1] = "No steps yet."
  end
  return lines
end

function M.history(opts)
  local client = lsp.ensure_client()
  if not client then
    return
  end
  local argument = {}
  if opts.args ~= "" then
    argument.limit = tonumber(opts.args)
  end
  lsp.execute(client, "samokoder.history", argument, function(result)
    local steps = type(result) == "table" and result.steps or {}
    views.show("samokoder://history", M.history_lines(steps), "samokoder-history")
  end)
end

local function usage_line(name, u)
  return ("%s: %d+%d tokens, %d requests, $%.4f"):format(
    name,
    tonumber(u.promptTokens) or 0,
    tonumber(u.completionTokens) or 0,
    tonumber(u.requests) or 0,
    tonumber(u.costUsd) or 0
  )
end

--- Usage lines: the total, then by model.
function M.usage_lines(result)
  local lines = { usage_line("total", type(result.total) == "table" and result.total or {}) }
  local by_model = type(result.byModel) == "table" and result.byModel or {}
  if vim.islist(by_model) then
    for _, entry in ipairs(by_model) do
      lines[#lines + 1] = usage_line(tostring(entry.model or "?"), entry)
    end
  else
    for model, entry in pairs(by_model) do
      lines[#lines + 1] = usage_line(model, entry)
    end
  end
  return lines
end

function M.usage(opts)
  local client = lsp.ensure_client()
  if not client then
    return
  end
  local argument = {}
  if opts.args ~= "" then
    argument.runId = opts.args
  end
  lsp.execute(client, "samokoder.usage", argument, function(result)
    lsp.notify("usage\n" .. table.concat(M.usage_lines(result or {}), "\n"))
  end)
end

local function complete_runs(arg_lead)
  return vim.tbl_filter(function(id)
    return id:sub(1, #arg_lead) == arg_lead
  end, vim.tbl_keys(runs.active))
end

--- Create every :Samokoder* command.
function M.create()
  local function cmd(name, fn, spec)
    vim.api.nvim_create_user_command(name, fn, spec)
  end
  cmd("SamokoderGenerate", M.generate, { nargs = "*", desc = "Samokoder: generate an app" })
  cmd("SamokoderImplement", M.implement, {
    nargs = "*",
    bang = true,
    desc = "Samokoder: implement a feature (! starts from the current file)",
  })
  cmd("SamokoderEdit", M.edit, { nargs = "*", range = true, desc = "Samokoder: edit the lines" })
  cmd("SamokoderAccept", M.accept, {
    nargs = "*",
    complete = review.complete_files,
    desc = "Samokoder: accept the proposal (all files or the ones named)",
  })
  cmd("SamokoderReject", M.reject, { nargs = "*", desc = "Samokoder: reject [with feedback]" })
  cmd("SamokoderReview", M.review, { desc = "Samokoder: reopen the pending proposal" })
  cmd("SamokoderUndo", M.undo, { desc = "Samokoder: undo the last step" })
  cmd("SamokoderRedo", M.redo, { desc = "Samokoder: redo the last undone step" })
  cmd("SamokoderHistory", M.history, { nargs = "?", desc = "Samokoder: list steps" })
  cmd(
    "SamokoderUsage",
    M.usage,
    { nargs = "?", complete = complete_runs, desc = "Samokoder: usage" }
  )
  cmd(
    "SamokoderCancel",
    M.cancel,
    { nargs = "?", complete = complete_runs, desc = "Samokoder: cancel a run" }
  )
end

return M
