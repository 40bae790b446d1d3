-- :checkhealth samokoder after setup{}; records the report's lines. Driven by test_nvim.py.
local T = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/common.lua")

T.run(function()
  require("samokoder").setup({ cmd = T.params.cmd, apiKeys = { openai = T.params.secret } })
  vim.cmd("checkhealth samokoder")
  T.wait("the health report", 30000, function()
    return vim.bo.filetype == "checkhealth" and #T.lines(0) > 5
  end)
  T.result.report = T.lines(0)
end)
