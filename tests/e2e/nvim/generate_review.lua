-- Generate an app, with no file open, several files per proposal: walk the files of the
-- review tab with the keys, accept each task's proposal, reject the rest.
-- Driven by test_nvim.py.
local T = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/common.lua")
local R = T.result

local proposals, done = 0, nil -- proposals announced; the runFinished payload
vim.api.nvim_create_autocmd("User", {
  pattern = "SamokoderProposal",
  callback = function()
    proposals = proposals + 1
  end,
})
vim.api.nvim_create_autocmd("User", {
  pattern = "SamokoderRunFinished",
  callback = function(args)
    done = args.data
  end,
})

--- The windows of the review tab: the file list, then the current and proposed sides.
local function review_state()
  local wins = vim.api.nvim_tabpage_list_wins(0)
  local function lines(i)
    return T.lines(vim.api.nvim_win_get_buf(wins[i]))
  end
  return {
    title = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(wins[1]), 0, 1, true)[1],
    files = vim.list_slice(lines(1), 3),
    current = lines(2),
    proposed = lines(3),
    winbar = vim.wo[wins[3]].winbar,
  }
end

T.run(function()
  require("samokoder").setup({ cmd = T.params.cmd })
  -- The developer's commands are asked about with vim.ui.select (headless, it would wait
  -- for a key): answer Skip, as a user who does not want them run.
  R.command_questions = {}
  vim.ui.select = function(items, opts, on_choice)
    R.command_questions[#R.command_questions + 1] = { prompt = opts.prompt, items = items }
    on_choice("Skip")
  end
  -- No file is open: generate starts the client for the working directory itself.
  R.clients_before = #vim.lsp.get_clients({ name = "samokoder" })
  require("samokoder").generate({ description = "a command line greeter", folder = "app" })

  local book = require("samokoder.review").proposals
  local function shown_proposal()
    local ok, id = pcall(vim.api.nvim_tabpage_get_var, 0, "samokoder_proposal")
    return ok and book[id] and id or nil
  end
  R.reviews = {}
  local last
  while true do
    T.wait("a proposal or the end of the run", 20000, function()
      local id = shown_proposal()
      return done ~= nil or (id ~= nil and id ~= last)
    end)
    if done then
      break
    end
    last = shown_proposal()
    T.mark("proposal")
    local review = { first = review_state() }
    if #review.first.files > 1 then
      vim.cmd("normal ]f") -- next file, with the review key
      review.second = review_state()
    end
    R.reviews[#R.reviews + 1] = review
    if review.first.title:find("Task", 1, true) then
      vim.cmd("normal a") -- accept all, with the review key
    else
      vim.cmd("SamokoderReject")
    end
    T.wait("the answer to the proposal", 20000, function()
      return book[last] == nil
    end)
  end
  R.proposals = proposals
  R.workspace_folders = vim.tbl_map(function(f)
    return f.uri
  end, vim.lsp.get_clients({ name = "samokoder" })[1].workspace_folders)
  R.tabs = #vim.api.nvim_list_tabpages()
  R.finished = done
end)
