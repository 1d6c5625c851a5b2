# The addon: the SWIG-generated wrapper (made by the swig_wrapper action under
# build/, never committed) plus the hand-written src/loop.cc, linked against
# the installed libredisx through pkg-config.
{
  "targets": [
    {
      "target_name": "redisx",
      "sources": ["src/loop.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags": ["<!@(pkg-config --cflags redisx)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fexceptions", "-std=c++17", "-Wno-unused-function", "-Wno-unused-label"],
      "libraries": ["<!@(pkg-config --libs redisx)"],
      "defines": ["NAPI_VERSION=8"],
      "actions": [
        {
          "action_name": "swig_wrapper",
          "inputs": ["<!@(node scripts/swig.js --inputs)", "scripts/swig.js"],
          "outputs": ["<(INTERMEDIATE_DIR)/redisx_wrap.cxx"],
          "action": ["node", "scripts/swig.js", "<@(_outputs)"],
          "process_outputs_as_sources": 1,
          "message": "SWIG (javascript -napi) swig/redisx.i"
        }
      ]
    }
  ]
}
