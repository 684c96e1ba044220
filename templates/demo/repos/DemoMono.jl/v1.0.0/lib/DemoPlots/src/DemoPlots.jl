module DemoPlots

using DemoCore
using DemoTool_jll

"""A one-line "plot": the welcome text and the bundled tool's banner."""
plot() = string(DemoCore.welcome(), " | ", DemoTool_jll.banner())

end
