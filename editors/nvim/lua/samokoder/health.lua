--- :checkhealth samokoder. Reports what is configured; never prints a key.
local config = require("samokoder.config")

local M = {}

local HELP_TIMEOUT_MS = 30000
--- Provider key variables whose presence (never value) is reported.
local KEY_VARIABLES = {
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GEMINI_API_KEY",
  "MISTRAL_API_KEY",
  "GROQ_API_KEY",
  "DEEPSEEK_API_KEY",
  "OPENROUTER_API_KEY",
  "AZURE_API_KEY",
  "LITELLM_PROXY_API_KEY",
}

--- A URL without any user:password part.
local function without_credentials(url)
  return (tostring(url):gsub("^(%a[%w+.-]*://)[^/@]*@", "%1"))
end

local function check_nvim()
  vim.health.start("Neovim")
  local v = vim.version()
  local text = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") ~= 1 then
    vim.health.error(
      "Neovim " .. text .. " is too old",
      { "Samokoder needs Neovim 0.10 or newer." }
    )
  elseif vim.fn.has("nvim-0.11") == 1 then
    vim.health.ok(
      "Neovim " .. text .. ": the server is registered with vim.lsp.config/vim.lsp.enable"
    )
  else
    vim.health.ok("Neovim " .. text .. ": the server is started with vim.lsp.start")
  end
  if config.options then
    vim.health.ok("require('samokoder').setup() was called")
  else
    vim.health.warn("require('samokoder').setup() was not called", {
      "Call it from your config; the checks below use the defaults.",
    })
  end
end

local function check_command(options)
  vim.health.start("Server command")
  local cmd = options.cmd
  if type(cmd) ~= "table" or #cmd == 0 then
    vim.health.info("cmd is not a list (" .. type(cmd) .. "); not checked")
    return
  end
  local shown = table.concat(cmd, " ")
  if vim.fn.executable(cmd[1]) ~= 1 then
    local advice = { "Install Samokoder so that `samokoder` is on PATH, or set cmd in setup{}." }
    if vim.fn.executable("uv") == 1 then
      advice[#advice + 1] = "uv is installed: cmd = { "
        .. '"uv", "run", "--project", "/path/to/samokoder", "samokoder", "serve" }'
    end
    vim.health.error("`" .. cmd[1] .. "` is not executable (cmd: " .. shown .. ")", advice)
    return
  end
  vim.health.ok("found " .. vim.fn.exepath(cmd[1]))
  local argv = vim.list_extend(vim.deepcopy(cmd), { "--help" })
  local ok, result = pcall(function()
    return vim.system(argv, { text = true, env = options.cmd_env }):wait(HELP_TIMEOUT_MS)
  end)
  if not ok then
    vim.health.error("`" .. shown .. " --help` could not start: " .. tostring(result))
  elseif result.code ~= 0 then
    local err = vim.trim(result.stderr or "")
    vim.health.error(("`%s --help` exited with %d"):format(shown, result.code), {
      err ~= "" and err:sub(-400) or "No output on stderr.",
    })
  else
    local first = vim.split(vim.trim(result.stdout or ""), "\n", { plain = true })[1] or ""
    vim.health.ok(("`%s --help` runs: %s"):format(shown, first))
  end
end

local function check_model(settings)
  vim.health.start("Model")
  local model, source = settings.model, "setup{ model = … }"
  if model == nil or model == "" then
    model, source = vim.env.SAMOKODER_MODEL, "$SAMOKODER_MODEL"
  end
  if model == nil or model == "" then
    vim.health.error("no model configured", {
      "Set SAMOKODER_MODEL (e.g. openai/gpt-4o-mini) or setup{ model = … }.",
    })
  else
    vim.health.ok(("model %s (from %s)"):format(model, source))
  end
  local base = settings.apiBase or settings.api_base or vim.env.SAMOKODER_API_BASE
  if base and base ~= "" then
    vim.health.info("API base " .. without_credentials(base))
  end
  local keys = {}
  if type(settings.apiKeys) == "table" then
    for provider in pairs(settings.apiKeys) do
      keys[#keys + 1] = "apiKeys." .. provider
    end
  end
  for _, name in ipairs(KEY_VARIABLES) do
    if vim.env[name] and vim.env[name] ~= "" then
      keys[#keys + 1] = "$" .. name
    end
  end
  table.sort(keys)
  if #keys > 0 then
    vim.health.ok("keys set (values not shown): " .. table.concat(keys, ", "))
  else
    vim.health.info("no provider key found; fine for Ollama and local servers")
  end
end

local function check_git()
  vim.health.start("Git")
  if vim.fn.executable("git") == 1 then
    vim.health.ok("git found: checkpoints and undo work")
  else
    vim.health.error("git is not on PATH", { "Samokoder records every step as a Git commit." })
  end
end

local function check_clients()
  vim.health.start("Running")
  local clients = require("samokoder.lsp").clients()
  if #clients == 0 then
    vim.health.info("no Samokoder client is running (open a file inside a Git repository)")
  end
  for _, client in ipairs(clients) do
    local folders = vim.tbl_map(function(f)
      return vim.uri_to_fname(f.uri)
    end, client.workspace_folders or {})
    vim.health.ok(("client %d, workspace %s"):format(client.id, table.concat(folders, ", ")))
  end
  local active = vim.tbl_count(require("samokoder.runs").active)
  local pending = vim.tbl_count(require("samokoder.review").proposals)
  vim.health.info(
    ("%d run(s) in progress, %d proposal(s) waiting for review"):format(active, pending)
  )
end

function M.check()
  local options, settings = config.options, config.settings
  if not options then
    options, settings = config.resolve({})
  end
  check_nvim()
  check_command(options)
  check_model(settings or {})
  check_git()
  check_clients()
end

return M
