--- Review of proposals (DESIGN §4): a tab per proposal, a vertical diff split per file.
---
--- The tab has a file list on top and, below it, the current content (left) against the
--- proposed one (right) of one file at a time, both read-only scratch buffers in diff mode.
--- :SamokoderAccept / :SamokoderReject answer the server and close the tab.
local lsp = require("samokoder.lsp")
local views = require("samokoder.views")

local M = {}

--- proposalId -> {id, run_id, title, files, client_id, views, current, tab, wins, bufs}
M.proposals = {}
--- Plugin options (review_keys), set by setup().
M.options = { review_keys = require("samokoder.config").defaults.review_keys }

local KIND_MARK = { create = "A", modify = "M", delete = "D" }
local SUMMARY_HEADER = 2

local function valid_tab(tab)
  return tab and vim.api.nvim_tabpage_is_valid(tab)
end

--- The proposal of the current review tab, else the latest pending one.
--- @return table|nil
function M.current()
  local ok, id = pcall(vim.api.nvim_tabpage_get_var, 0, "samokoder_proposal")
  if ok and M.proposals[id] then
    return M.proposals[id]
  end
  local latest
  for _, p in pairs(M.proposals) do
    if not latest or p.seq > latest.seq then
      latest = p
    end
  end
  return latest
end

local function file_paths(p)
  return vim.tbl_map(function(f)
    return f.path
  end, p.files)
end

local function key_help()
  local keys = M.options.review_keys
  if not keys then
    return ":SamokoderAccept [file…] · :SamokoderReject [feedback]"
  end
  local parts = {}
  for _, item in ipairs({
    { keys.accept, "accept all" },
    { keys.accept_file, "accept this file" },
    { keys.reject, "reject" },
    { keys.next_file, "next file" },
    { keys.prev_file, "previous file" },
    { keys.close, "close" },
  }) do
    if item[1] and item[1] ~= "" then
      parts[#parts + 1] = item[1] .. " " .. item[2]
    end
  end
  return table.concat(parts, " · ")
end

local function summary_lines(p)
  local lines = { "Samokoder proposal: " .. (p.title or p.id), key_help() }
  for i, f in ipairs(p.files) do
    lines[#lines + 1] = ("%s %s %s  +%d -%d"):format(
      i == p.current and ">" or " ",
      KIND_MARK[f.kind] or "?",
      f.path,
      tonumber(f.additions) or 0,
      tonumber(f.deletions) or 0
    )
  end
  return lines
end

local function map_keys(p, buf)
  local keys = M.options.review_keys
  if not keys then
    return
  end
  local function map(lhs, fn, desc)
    if lhs and lhs ~= "" then
      vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
    end
  end
  map(keys.accept, function()
    M.accept(p, nil)
  end, "Samokoder: accept all files")
  map(keys.accept_file, function()
    local shown = p.files[p.current]
    if shown then
      M.accept(p, { shown.path })
    end
  end, "Samokoder: accept the file shown")
  map(keys.reject, function()
    vim.ui.input({ prompt = "Feedback for another attempt (empty: reject): " }, function(text)
      if text ~= nil then
        M.reject(p, text)
      end
    end)
  end, "Samokoder: reject")
  map(keys.next_file, function()
    M.show_file(p, p.current % #p.files + 1)
  end, "Samokoder: next file")
  map(keys.prev_file, function()
    M.show_file(p, (p.current - 2) % #p.files + 1)
  end, "Samokoder: previous file")
  map(keys.close, function()
    M.close(p)
  end, "Samokoder: close the review (the proposal stays pending)")
  if buf == p.bufs.summary then
    map(keys.show_file, function()
      local index = vim.api.nvim_win_get_cursor(0)[1] - SUMMARY_HEADER
      if p.files[index] then
        M.show_file(p, index)
      end
    end, "Samokoder: show this file")
  end
end

local function set_summary(p)
  local buf = p.bufs.summary
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    return
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, summary_lines(p))
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
end

--- The two scratch buffers of one file (made on first show).
local function file_buffers(p, index)
  local f = p.files[index]
  local pair = p.bufs[f.path]
  if pair and vim.api.nvim_buf_is_valid(pair[1]) and vim.api.nvim_buf_is_valid(pair[2]) then
    return pair
  end
  local view = p.views[f.path] or {}
  local ft = vim.filetype.match({ filename = f.path }) or ""
  local base = ("samokoder://%s/%s"):format(p.id, f.path)
  pair = {
    views.scratch(base .. " (current)", views.lines(view.original), ft),
    views.scratch(base .. " (proposed)", views.lines(view.proposed), ft),
  }
  p.bufs[f.path] = pair
  for _, buf in ipairs(pair) do
    map_keys(p, buf)
  end
  return pair
end

--- Show file `index` of the proposal in the diff split.
function M.show_file(p, index)
  if not (valid_tab(p.tab) and p.files[index]) then
    return
  end
  p.current = index
  local left, right = p.wins.left, p.wins.right
  if
    not (left and right and vim.api.nvim_win_is_valid(left) and vim.api.nvim_win_is_valid(right))
  then
    return
  end
  local pair = file_buffers(p, index)
  local path = p.files[index].path
  for i, win in ipairs({ left, right }) do
    vim.api.nvim_win_call(win, function()
      vim.cmd("diffoff")
    end)
    vim.api.nvim_win_set_buf(win, pair[i])
    vim.wo[win].winbar = (i == 1 and "Current: " or "Proposed: ") .. path:gsub("%%", "%%%%")
  end
  for _, win in ipairs({ left, right }) do
    vim.api.nvim_win_call(win, function()
      vim.cmd("diffthis")
    end)
  end
  set_summary(p)
end

--- Open the review tab of a proposal (its file views must be loaded).
function M.open(p)
  if valid_tab(p.tab) then
    vim.api.nvim_set_current_tabpage(p.tab)
    return
  end
  p.bufs = {}
  p.bufs.summary = views.scratch(("samokoder://%s/files"):format(p.id), {}, "samokoder-review")
  map_keys(p, p.bufs.summary)
  vim.cmd("tab sbuffer " .. p.bufs.summary)
  p.tab = vim.api.nvim_get_current_tabpage()
  vim.api.nvim_tabpage_set_var(p.tab, "samokoder_proposal", p.id)
  local top = vim.api.nvim_get_current_win()
  p.wins = { top = top }
  if #p.files == 0 then
    return
  end
  local pair = file_buffers(p, 1)
  local left = vim.api.nvim_open_win(pair[1], true, { split = "below", win = top })
  local right = vim.api.nvim_open_win(pair[2], false, { split = "right", win = left })
  vim.api.nvim_win_set_height(top, math.min(#p.files, 8) + SUMMARY_HEADER)
  vim.wo[top].winfixheight = true
  p.wins = { top = top, left = left, right = right }
  M.show_file(p, 1)
  vim.api.nvim_set_current_win(right)
end

--- Close the review tab and drop its buffers; the proposal itself stays as it is.
function M.close(p)
  if valid_tab(p.tab) then
    local tabs = vim.api.nvim_list_tabpages()
    if #tabs > 1 then
      vim.cmd("tabclose " .. vim.api.nvim_tabpage_get_number(p.tab))
    else
      vim.api.nvim_set_current_tabpage(p.tab)
      vim.cmd("silent! only | enew")
    end
  end
  p.tab = nil
  for key, value in pairs(p.bufs or {}) do
    local bufs = key == "summary" and { value } or value
    for _, buf in ipairs(bufs) do
      if vim.api.nvim_buf_is_valid(buf) then
        pcall(vim.api.nvim_buf_delete, buf, { force = true })
      end
    end
  end
  p.bufs = {}
end

--- Forget a proposal and close its tab.
local function finish(p)
  M.close(p)
  M.proposals[p.id] = nil
end

--- The run ended (accepted, rejected, cancelled, failed): its proposals are gone.
function M.close_run(run_id)
  for _, p in pairs(M.proposals) do
    if p.run_id == run_id then
      finish(p)
    end
  end
end

local seq = 0

--- `samokoder/proposal`: load every file's contents, then open the review tab.
function M.on_proposal(_, params, ctx)
  if type(params) ~= "table" or type(params.files) ~= "table" then
    return vim.NIL
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return vim.NIL
  end
  seq = seq + 1
  local p = {
    id = params.proposalId,
    run_id = params.runId,
    title = params.title,
    files = params.files,
    client_id = ctx.client_id,
    views = {},
    current = 1,
    seq = seq,
    bufs = {},
  }
  M.proposals[p.id] = p
  local pending = #p.files
  local function loaded()
    pending = pending - 1
    if pending == 0 and M.proposals[p.id] == p then
      M.open(p)
      lsp.notify(
        ("%s: review %d file(s); :SamokoderAccept or :SamokoderReject"):format(
          p.title or "proposal",
          #p.files
        )
      )
      vim.api.nvim_exec_autocmds("User", {
        pattern = "SamokoderProposal",
        modeline = false,
        data = params,
      })
    end
  end
  if pending == 0 then
    pending = 1
    loaded()
  end
  for _, f in ipairs(p.files) do
    local args = { proposalId = p.id, path = f.path }
    lsp.request(client, "samokoder/proposalFile", args, function(err, result)
      if err then
        lsp.notify(f.path .. ": " .. lsp.describe_error(err), vim.log.levels.ERROR)
        result = { original = "", proposed = "", diff = "" }
      end
      p.views[f.path] = result
      loaded()
    end)
  end
  return vim.NIL
end

local function client_of(p)
  local client = vim.lsp.get_client_by_id(p.client_id)
  if not client then
    lsp.notify("the server that made this proposal has stopped.", vim.log.levels.ERROR)
  end
  return client
end

--- Accept all files (files nil or empty) or the named ones, then close the tab.
function M.accept(p, files)
  local client = p and client_of(p)
  if not client then
    return
  end
  local arg = { proposalId = p.id }
  if files and #files > 0 then
    arg.files = files
  end
  lsp.execute(client, "samokoder.review.accept", arg, function(result)
    finish(p)
    local applied = type(result) == "table" and result.applied or {}
    lsp.notify("accepted " .. table.concat(applied, ", "))
  end)
end

--- Reject; non-empty feedback asks the model for another attempt.
function M.reject(p, feedback)
  local client = p and client_of(p)
  if not client then
    return
  end
  local arg = { proposalId = p.id }
  if feedback and feedback ~= "" then
    arg.feedback = feedback
  end
  lsp.execute(client, "samokoder.review.reject", arg, function()
    finish(p)
    lsp.notify(arg.feedback and "rejected; asking for another attempt" or "rejected")
  end)
end

--- Completion for :SamokoderAccept: the files of the current proposal.
function M.complete_files(arg_lead)
  local p = M.current()
  if not p then
    return {}
  end
  return vim.tbl_filter(function(path)
    return path:sub(1, #arg_lead) == arg_lead
  end, file_paths(p))
end

return M
