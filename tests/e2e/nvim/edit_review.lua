-- Edit a selection, review it in a diff tab, accept, undo; then the ask / reject path,
-- cancel, errors, what generate/implement send, history and usage.
-- Driven by tests/e2e/test_nvim.py.
local T = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/common.lua")
local R = T.result

local finished = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "SamokoderRunFinished",
  callback = function(args)
    finished[#finished + 1] = args.data
  end,
})
local proposals = 0
vim.api.nvim_create_autocmd("User", {
  pattern = "SamokoderProposal",
  callback = function()
    proposals = proposals + 1
  end,
})

--- The review tab as the user sees it: each window's buffer name, lines, diff flag, winbar.
local function snapshot_review()
  local tab = vim.api.nvim_get_current_tabpage()
  local ok, id = pcall(vim.api.nvim_tabpage_get_var, tab, "samokoder_proposal")
  local windows = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
    local buf = vim.api.nvim_win_get_buf(win)
    windows[#windows + 1] = {
      name = vim.api.nvim_buf_get_name(buf),
      lines = T.lines(buf),
      diff = vim.wo[win].diff,
      winbar = vim.wo[win].winbar,
      modifiable = vim.bo[buf].modifiable,
    }
  end
  local tabs = #vim.api.nvim_list_tabpages()
  return { proposal = ok and id or vim.NIL, tabs = tabs, windows = windows }
end

local function wait_finished(n)
  T.wait("run " .. n .. " to finish", 20000, function()
    return #finished >= n
  end)
  return finished[n]
end

T.run(function()
  if T.params.registration == "start" then
    vim.lsp.enable = nil -- take the Neovim 0.10 path: a FileType autocmd and vim.lsp.start
  end
  require("samokoder").setup({ cmd = T.params.cmd })
  vim.cmd.edit(vim.fn.fnameescape(T.params.file))
  local buf = vim.api.nvim_get_current_buf()
  R.original = T.lines(buf)
  T.wait("the samokoder client to attach", 20000, function()
    local client = vim.lsp.get_clients({ name = "samokoder", bufnr = buf })[1]
    return client ~= nil and client.initialized == true
  end)
  local client = vim.lsp.get_clients({ name = "samokoder", bufnr = buf })[1]
  R.experimental = client.config.capabilities.experimental
  R.workspace_folders = vim.tbl_map(function(f)
    return f.uri
  end, client.workspace_folders or {})

  -- 1. Edit lines 4-5 with an instruction; the proposal opens a review tab.
  vim.cmd("4,5SamokoderEdit use an f-string")
  T.wait("the review tab", 20000, function()
    return proposals >= 1 and #vim.api.nvim_list_tabpages() == 2
  end)
  R.review = snapshot_review()

  -- 2. Accept: the tab closes, the run finishes, the open buffer holds the edit (unsaved).
  vim.cmd("SamokoderAccept")
  R.accepted_run = wait_finished(1)
  R.tabs_after_accept = #vim.api.nvim_list_tabpages()
  R.after_accept = T.lines(buf)
  R.modified_after_accept = vim.bo[buf].modified

  -- 3. Undo restores the buffer.
  vim.api.nvim_set_current_buf(buf)
  vim.cmd("SamokoderUndo")
  T.wait("the undo", 20000, function()
    return #T.notified("undone") > 0
  end)
  R.after_undo = T.lines(buf)

  -- 4. No instruction: the server asks through vim.ui.input; reject with feedback gets a
  --    second proposal in a new tab; reject without feedback ends the run.
  R.asked = {}
  local answers = { "shout the greeting", "" }
  vim.ui.input = function(opts, on_confirm)
    R.asked[#R.asked + 1] = opts.prompt
    on_confirm(table.remove(answers, 1))
  end
  vim.cmd("4,5SamokoderEdit")
  T.wait("the second proposal", 20000, function()
    return proposals >= 2 and #vim.api.nvim_list_tabpages() == 2
  end)
  R.second_review = snapshot_review()
  vim.cmd("SamokoderReject use upper()")
  T.wait("the third proposal", 20000, function()
    return proposals >= 3 and #vim.api.nvim_list_tabpages() == 2
  end)
  R.third_review = snapshot_review()
  vim.cmd("normal r") -- the review key; empty feedback rejects
  R.rejected_run = wait_finished(2)
  R.tabs_after_reject = #vim.api.nvim_list_tabpages()
  R.after_reject = T.lines(buf)

  -- 5. Cancel a run while the model is still thinking.
  vim.cmd("4,5SamokoderEdit take your time")
  T.wait("the slow run to start", 10000, function()
    return next(require("samokoder.runs").active) ~= nil
  end)
  vim.cmd("SamokoderCancel")
  R.cancelled_run = wait_finished(3)
  R.active_after_cancel = vim.tbl_count(require("samokoder.runs").active)

  -- 6. Errors reach the user through vim.notify: nothing is left to undo.
  vim.cmd("SamokoderUndo")
  T.wait("the undo error", 10000, function()
    return #T.notified("samokoder.undo:") > 0
  end)
  -- What :SamokoderGenerate and :SamokoderImplement! send (recorded, not sent: their runs
  -- are test_generate_multi_file_review's business).
  local lsp = require("samokoder.lsp")
  local execute = lsp.execute
  R.sent = {}
  lsp.execute = function(_, command, argument)
    R.sent[#R.sent + 1] = { command = command, argument = argument }
  end
  vim.cmd("SamokoderGenerate a todo app")
  vim.cmd("SamokoderImplement! dark mode")
  lsp.execute = execute

  -- 7. History in a scratch split, usage through vim.notify.
  vim.cmd("SamokoderHistory")
  T.wait("the history view", 10000, function()
    return vim.api.nvim_buf_get_name(0):find("samokoder://history", 1, true) ~= nil
  end)
  R.history = T.lines(0)
  vim.cmd("close")
  vim.cmd("SamokoderUsage")
  T.wait("the usage", 10000, function()
    return #T.notified("Samokoder: usage\n") > 0
  end)
end)
