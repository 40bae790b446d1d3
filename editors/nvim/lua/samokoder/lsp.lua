--- Starting the client and talking to it, on Neovim 0.10 and 0.11+.
---
--- 0.11+ registers the server with vim.lsp.config + vim.lsp.enable; 0.10 starts it with
--- vim.lsp.start from a FileType autocmd. Requests go through one helper because the
--- client's methods became `client:request(...)` in 0.11.
local M = {}

M.NAME = "samokoder"
local has_011 = vim.fn.has("nvim-0.11") == 1

--- The root folder for a buffer: the nearest root marker, else the working directory when the
--- file lies under it; nil for buffers that are not files (review and history scratch buffers).
--- @param bufnr integer
--- @param markers string[]
--- @return string|nil
function M.find_root(bufnr, markers)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or name:match("^%a[%w+.-]*://") then
    return nil
  end
  local root = vim.fs.root(bufnr, markers)
  if root then
    return root
  end
  local cwd = vim.fs.normalize(vim.fn.getcwd())
  local path = vim.fs.normalize(vim.fn.fnamemodify(name, ":p"))
  if path:sub(1, #cwd + 1) == cwd .. "/" then
    return cwd
  end
  return nil
end

--- Client capabilities: Neovim's own plus Samokoder's review and ask extensions.
--- @return table
function M.capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.experimental = vim.tbl_extend("force", caps.experimental or {}, {
    samokoderReview = true,
    samokoderAsk = true,
  })
  return caps
end

--- The vim.lsp client config (without root_dir) built from the options.
--- @param options table plugin options
--- @param settings table server settings
--- @param handlers table<string, function>
--- @return table
function M.client_config(options, settings, handlers)
  local object = require("samokoder.config").as_object
  return {
    name = M.NAME,
    cmd = options.cmd,
    cmd_env = options.cmd_env,
    filetypes = options.filetypes,
    capabilities = M.capabilities(),
    init_options = object(vim.deepcopy(settings)),
    settings = { samokoder = object(vim.deepcopy(settings)) },
    handlers = handlers,
    on_attach = options.on_attach,
  }
end

local function start_for_buffer(bufnr, config, markers)
  local root = M.find_root(bufnr, markers)
  if not root then
    return
  end
  local ft = vim.bo[bufnr].filetype
  if config.filetypes and not vim.tbl_contains(config.filetypes, ft) then
    return
  end
  local cfg = vim.deepcopy(config)
  cfg.root_dir = root
  cfg.workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } }
  vim.lsp.start(cfg, { bufnr = bufnr })
end

--- What register() was given, for starting a client without a file (ensure_client).
local registered = nil

--- Register the server so it starts for file buffers inside a workspace root.
--- @param options table
--- @param settings table
--- @param handlers table<string, function>
function M.register(options, settings, handlers)
  local config = M.client_config(options, settings, handlers)
  local markers = options.root_markers
  registered = { config = config, markers = markers }
  if has_011 and vim.lsp.config and vim.lsp.enable then
    local cfg = vim.deepcopy(config)
    cfg.root_dir = function(bufnr, on_dir)
      local root = M.find_root(bufnr, markers)
      if root then
        on_dir(root)
      end
    end
    vim.lsp.config(M.NAME, cfg)
    vim.lsp.enable(M.NAME)
    -- vim.lsp.enable only looks at buffers already open once startup has finished.
    if vim.v.vim_did_enter == 0 then
      for _, buf in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype ~= "" then
          start_for_buffer(buf, config, markers)
        end
      end
    end
    return
  end
  local group = vim.api.nvim_create_augroup("samokoder.start", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    callback = function(args)
      start_for_buffer(args.buf, config, markers)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype ~= "" then
      start_for_buffer(buf, config, markers)
    end
  end
end

--- All running Samokoder clients.
--- @param filter table|nil extra vim.lsp.get_clients filter (e.g. {bufnr = 0})
--- @return table[]
function M.clients(filter)
  local f = vim.tbl_extend("force", { name = M.NAME }, filter or {})
  return vim.lsp.get_clients(f)
end

--- The client for a buffer, else any Samokoder client; nil (with a message) when none runs.
--- @param bufnr integer|nil
--- @param quiet boolean|nil
--- @return table|nil
function M.client(bufnr, quiet)
  local found = M.clients({ bufnr = bufnr or vim.api.nvim_get_current_buf() })[1] or M.clients()[1]
  if not found and not quiet then
    M.notify(
      "Samokoder is not running: open a file inside a Git repository (see :checkhealth samokoder).",
      vim.log.levels.ERROR
    )
  end
  return found
end

local START_TIMEOUT_MS = 15000

--- A running client, started for the working directory's root when none runs (to generate
--- into an empty folder, no file needs to be open). Waits for it to initialize (bounded).
--- @return table|nil
function M.ensure_client()
  local client = M.client(nil, true)
  if client or not registered then
    return client or M.client()
  end
  local cwd = vim.fn.getcwd()
  local root = vim.fs.root(cwd, registered.markers) or cwd
  local cfg = vim.deepcopy(registered.config)
  cfg.root_dir = root
  cfg.workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } }
  local id
  if has_011 then
    id = vim.lsp.start(cfg, { attach = false })
  else
    id = vim.lsp.start_client(cfg)
  end
  client = id and vim.lsp.get_client_by_id(id)
  if not client then
    M.notify("could not start " .. table.concat(cfg.cmd, " "), vim.log.levels.ERROR)
    return nil
  end
  local ready = vim.wait(START_TIMEOUT_MS, function()
    return client.initialized == true or client.is_stopped and client:is_stopped()
  end, 20)
  if not ready or not client.initialized then
    M.notify("the server did not start; see :checkhealth samokoder", vim.log.levels.ERROR)
    return nil
  end
  return client
end

--- Send a request (0.10 and 0.11+ call conventions).
--- @return boolean sent
function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return (client:request(method, params, handler, bufnr))
  end
  return (client.request(method, params, handler, bufnr))
end

--- A person-readable text for a JSON-RPC error (message, and the files of a conflict).
--- @param err table
--- @return string
function M.describe_error(err)
  local message = type(err) == "table" and (err.message or vim.inspect(err)) or tostring(err)
  local data = type(err) == "table" and err.data or nil
  if type(data) == "table" and type(data.files) == "table" and #data.files > 0 then
    local files = table.concat(data.files, ", ")
    if not message:find(files, 1, true) then
      message = message .. " (" .. files .. ")"
    end
  end
  return message
end

--- vim.notify with the plugin's title.
function M.notify(message, level)
  vim.notify("Samokoder: " .. message, level or vim.log.levels.INFO, { title = "Samokoder" })
end

--- Run `workspace/executeCommand`; errors are shown with vim.notify, results go to on_result.
--- @param client table
--- @param command string
--- @param argument table
--- @param on_result fun(result: any)|nil
--- @param bufnr integer|nil
function M.execute(client, command, argument, on_result, bufnr)
  local params = { command = command, arguments = { M.object(argument) } }
  local sent = M.request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      M.notify(command .. ": " .. M.describe_error(err), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, bufnr)
  if not sent then
    M.notify(command .. ": the server has stopped.", vim.log.levels.ERROR)
  end
end

--- A table that encodes as a JSON object even when empty.
function M.object(t)
  return require("samokoder.config").as_object(t or {})
end

return M
