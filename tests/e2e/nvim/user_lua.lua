-- Calls made the way a user's own Lua (a keymap, a snippet from the README) makes them:
-- plain tables straight to workspace/executeCommand, `arguments = { {} }` included, which
-- Neovim encodes as `[[]]` (an empty Lua table is a JSON array). Driven by test_nvim.py.
local T = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/common.lua")
local R = T.result

local finished = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "SamokoderRunFinished",
  callback = function(args)
    finished[#finished + 1] = args.data
  end,
})

T.run(function()
  require("samokoder").setup({ cmd = T.params.cmd })
  vim.cmd.edit(vim.fn.fnameescape(T.params.file))
  local buf = vim.api.nvim_get_current_buf()
  T.wait("the samokoder client to attach", 20000, function()
    local client = vim.lsp.get_clients({ name = "samokoder", bufnr = buf })[1]
    return client ~= nil and client.initialized == true
  end)
  local client = vim.lsp.get_clients({ name = "samokoder", bufnr = buf })[1]

  R.calls = {}
  --- workspace/executeCommand with a plain table, as a user writes it; records what went
  --- on the wire and what came back.
  local function exec(name, command, arguments)
    local params = { command = command, arguments = arguments }
    local response, err = client:request_sync("workspace/executeCommand", params, 15000, buf)
    local call = {
      name = name,
      wire = vim.json.encode(params),
      result = response and response.result or vim.NIL,
      error = response and response.err and response.err.message or err or vim.NIL,
    }
    R.calls[#R.calls + 1] = call
    return call
  end

  exec("edit", "samokoder.editSelection", {
    {
      uri = vim.uri_from_bufnr(buf),
      range = { start = { line = 3, character = 0 }, ["end"] = { line = 5, character = 0 } },
      instruction = "use an f-string",
    },
  })
  T.wait("the review tab", 20000, function()
    return #vim.api.nvim_list_tabpages() == 2
  end)
  vim.cmd("SamokoderAccept")
  T.wait("the edit run to finish", 20000, function()
    return #finished >= 1
  end)
  vim.api.nvim_set_current_buf(buf)
  R.after_accept = T.lines(buf)

  exec("undo", "samokoder.undo", { {} })
  R.after_undo = T.lines(buf)
  exec("redo", "samokoder.redo", { {} })
  R.after_redo = T.lines(buf)
  exec("history", "samokoder.history", { {} })
  exec("history_no_arguments", "samokoder.history", {})
  exec("history_limit", "samokoder.history", { { limit = 1 } })
  exec("usage", "samokoder.usage", { {} })

  -- The 0.11+ method a user may reach for: Client:exec_cmd with the same plain table.
  local answered = nil
  client:exec_cmd(
    { title = "Samokoder history", command = "samokoder.history", arguments = { {} } },
    { bufnr = buf },
    function(err, result)
      answered = { error = err and err.message or vim.NIL, result = result or vim.NIL }
    end
  )
  T.wait("exec_cmd's answer", 10000, function()
    return answered ~= nil
  end)
  R.exec_cmd = answered
end)
