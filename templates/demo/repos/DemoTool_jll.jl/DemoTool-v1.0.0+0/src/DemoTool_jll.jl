module DemoTool_jll

using Artifacts

# The platform's build of DemoTool, installed by Pkg from the URL in Artifacts.toml (which
# julia-airgap rewrites to the internal mirror).
const artifact_dir = artifact"DemoTool"

banner() = strip(read(joinpath(artifact_dir, "share", "demotool", "banner.txt"), String))

end
