--- Read-only scratch buffers: review sides, history, text a run returns.
local M = {}

--- Lines of a text as Neovim holds them (a final newline ends the last line, not a new one).
--- @param text string
--- @return string[]
function M.lines(text)
  if text == nil or text == vim.NIL or text == "" then
    return {}
  end
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    lines[#lines] = nil
  end
  return lines
end

--- A fresh, unlisted, read-only scratch buffer with the given name and lines.
--- @param name string
--- @param lines string[]
--- @param filetype string|nil
--- @return integer bufnr
function M.scratch(name, lines, filetype)
  local old = vim.fn.bufnr("^" .. vim.fn.escape(name, "^$.*~[]\\/") .. "$")
  if old > 0 and vim.api.nvim_buf_is_valid(old) then
    pcall(vim.api.nvim_buf_delete, old, { force = true })
  end
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  if filetype and filetype ~= "" then
    vim.bo[buf].filetype = filetype
  end
  return buf
end

--- Show text in a split below; `q` closes it.
--- @param name string
--- @param text string|string[]
--- @param filetype string|nil
--- @return integer bufnr
function M.show(name, text, filetype)
  local lines = type(text) == "table" and text or M.lines(text)
  local buf = M.scratch(name, lines, filetype)
  vim.bo[buf].bufhidden = "wipe"
  vim.api.nvim_open_win(buf, true, { split = "below", win = -1 })
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = buf, nowait = true, silent = true })
  return buf
end

return M
