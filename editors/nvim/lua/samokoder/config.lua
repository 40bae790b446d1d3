--- Options of `require("samokoder").setup{}`: the plugin's own, and the server settings.
---
--- Everything that is not a plugin option is a server setting (docs/protocol.md): it is sent
--- as `initializationOptions` and answered to `workspace/configuration` (section `samokoder`).
local M = {}

--- Plugin options and their defaults; any other key is a server setting.
M.defaults = {
  --- Command that starts the language server (stdio).
  cmd = { "samokoder", "serve" },
  --- Extra environment for the server process (e.g. provider keys); never printed.
  cmd_env = nil,
  --- Files or folders that mark a workspace root; the nearest one above the file wins.
  root_markers = { ".git" },
  --- Filetypes to attach to; nil attaches to every file buffer.
  filetypes = nil,
  --- Buffer-local keys in review tabs; false disables them.
  review_keys = {
    accept = "a",
    accept_file = "A",
    reject = "r",
    next_file = "]f",
    prev_file = "[f",
    show_file = "<CR>",
    close = "q",
  },
  --- Show run progress: "notify" (begin through vim.notify, reports echoed), "echo", or false.
  progress = "notify",
  --- Called as on_attach(client, bufnr) after the client attaches to a buffer.
  on_attach = nil,
}

--- Server settings the plugin knows about (any other key is passed through unchanged).
M.server_settings = {
  "model",
  "apiBase",
  "apiKeys",
  "agentModels",
  "fallbackModels",
  "review",
  "checkpoints",
  "commands",
  "maxParallel",
  "budgetUsd",
  "cache",
  "temperature",
  "requestTimeout",
}

--- The current options (after setup); `nil` until setup() runs.
M.options = nil

--- Split user options into plugin options and server settings.
--- @param user table|nil
--- @return table options, table settings
function M.resolve(user)
  user = user or {}
  local options = vim.deepcopy(M.defaults)
  local settings = {}
  for key, value in pairs(user) do
    if M.defaults[key] ~= nil or key == "cmd_env" or key == "filetypes" or key == "on_attach" then
      if key == "review_keys" and type(value) == "table" then
        options.review_keys = vim.tbl_extend("force", M.defaults.review_keys, value)
      else
        options[key] = value
      end
    elseif key == "settings" and type(value) == "table" then
      settings = vim.tbl_extend("force", settings, value)
    else
      settings[key] = value
    end
  end
  return options, settings
end

--- A settings table that encodes as a JSON object even when empty.
--- @param settings table
--- @return table
function M.as_object(settings)
  if next(settings) == nil then
    return vim.empty_dict()
  end
  return settings
end

return M
