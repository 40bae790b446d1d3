--- Samokoder for Neovim: AI agents propose changes, you review them as diffs, every
--- accepted step is a Git commit you can undo.
---
--- require("samokoder").setup{ model = "openai/gpt-4o-mini" }
local config = require("samokoder.config")

local M = {}

--- Handlers for Samokoder's own messages, per client.
local function handlers()
  local review = require("samokoder.review")
  local runs = require("samokoder.runs")
  return {
    ["samokoder/proposal"] = review.on_proposal,
    ["samokoder/runFinished"] = runs.on_run_finished,
    ["samokoder/ask"] = runs.on_ask,
  }
end

--- Register the server and the :Samokoder* commands.
--- @param user table|nil plugin options (cmd, root_markers, …) and server settings (model, …)
function M.setup(user)
  if vim.fn.has("nvim-0.10") ~= 1 then
    vim.notify("Samokoder needs Neovim 0.10 or newer.", vim.log.levels.ERROR)
    return
  end
  local options, settings = config.resolve(user)
  config.options = options
  config.settings = settings
  require("samokoder.review").options = options
  require("samokoder.runs").watch_progress(options.progress)
  require("samokoder.commands").create()
  require("samokoder.lsp").register(options, settings, handlers())
end

--- Generate an application: {description, folder?} (folder: workspace-relative, absolute or a
--- file:// URI; default the workspace root). Prompts when description is missing.
--- @param args table|nil
function M.generate(args)
  require("samokoder.commands").start("samokoder.generate", args or {})
end

--- Implement a feature: {description, files?} (files: workspace paths or file:// URIs the
--- agents start from). Prompts when description is missing.
--- @param args table|nil
function M.implement(args)
  require("samokoder.commands").start("samokoder.implement", args or {})
end

--- The latest progress line of a running run ("" when idle), for a statusline.
--- @return string
function M.status()
  return require("samokoder.runs").status_text
end

return M
