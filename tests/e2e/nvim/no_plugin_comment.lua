-- Neovim without the plugin: a plain vim.lsp.start, the built-in code action menu, the
-- instruction written as a comment (`# samokoder: …`), the edit (confirmed, if it comes
-- annotated, as Neovim asks), then undo with a plain table. Driven by test_nvim.py.
local T = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/common.lua")
local R = T.result

T.run(function()
  vim.cmd.edit(vim.fn.fnameescape(T.params.file))
  local buf = vim.api.nvim_get_current_buf()
  R.original = T.lines(buf)
  local finished = {}
  local root = vim.fs.dirname(T.params.file)
  local id = vim.lsp.start({
    name = "samokoder-plain",
    cmd = T.params.cmd,
    root_dir = root,
    handlers = {
      ["samokoder/runFinished"] = function(_, params)
        finished[#finished + 1] = params
      end,
    },
  }, { bufnr = buf })
  local client = assert(vim.lsp.get_client_by_id(assert(id)))
  T.wait("the client to initialize", 20000, function()
    return client.initialized == true
  end)

  -- What the code action menu lists for lines 5-6 (the function under the comment).
  local range = { start = { line = 4, character = 0 }, ["end"] = { line = 6, character = 0 } }
  local listed = client:request_sync("textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = range,
    context = { diagnostics = {} },
  }, 10000, buf)
  R.titles = vim.tbl_map(function(a)
    return a.title
  end, listed and listed.result or {})

  -- Neovim asks with confirm() before applying an annotated edit; the user says Yes.
  -- The edits are recorded to see which form arrived.
  R.confirmations = {}
  vim.fn.confirm = function(message)
    R.confirmations[#R.confirmations + 1] = message
    return 1
  end
  R.edits = {}
  local apply_workspace_edit = vim.lsp.util.apply_workspace_edit
  vim.lsp.util.apply_workspace_edit = function(edit, ...)
    R.edits[#R.edits + 1] = vim.json.encode(edit)
    return apply_workspace_edit(edit, ...)
  end
  vim.lsp.buf.code_action({
    range = { start = { 5, 0 }, ["end"] = { 7, 0 } },
    filter = function(action)
      return action.title == T.params.pick
    end,
    apply = true,
  })
  T.wait("the run to finish", 30000, function()
    return #finished >= 1
  end)
  R.finished = finished[1]
  T.wait("the edit in the buffer", 5000, function()
    return not vim.deep_equal(T.lines(buf), R.original)
  end)
  R.after_edit = T.lines(buf)

  local undone = client:request_sync(
    "workspace/executeCommand",
    { command = "samokoder.undo", arguments = { {} } },
    15000,
    buf
  )
  R.undo = undone and (undone.err and undone.err.message or undone.result) or vim.NIL
  T.wait("the undo in the buffer", 5000, function()
    return vim.deep_equal(T.lines(buf), R.original)
  end)
  R.after_undo = T.lines(buf)
end)
