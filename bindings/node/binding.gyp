# The addon: the SWIG-generated wrapper (gen/redisx_wrap.cxx), the
# hand-written src/loop.cc and the core's own C sources (csrc/, written by
# scripts/core-sources, compiled with REDISX_WITH_TLS), linked with the
# static libhiredis.a of Debian's libhiredis-dev and the static libssl.a and
# libcrypto.a of libssl-dev (symbols hidden by --exclude-libs, so the
# addon's OpenSSL is its own, not Node's). Nothing of an installed libredisx
# is used. csrc/ and gen/
# are generated from the repository (scripts/generate.js) and shipped in the
# tarball; only the Node-API entry points are exported (src/exports.map).
{
  "targets": [
    {
      "target_name": "redisx",
      "sources": ["src/loop.cc", "src/stream.cc", "gen/redisx_wrap.cxx", "<!@(node scripts/gyp.js sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "csrc/ffi/include",
        "csrc/core",
        "csrc/ffi",
        "<!(node scripts/gyp.js hiredis-include)",
        "<!(node scripts/gyp.js openssl-include)"
      ],
      "defines": ["NAPI_VERSION=8", "REDISX_BUILDING", "REDISX_WITH_TLS", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_c": ["-std=gnu11", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fexceptions", "-std=c++17", "-fvisibility-inlines-hidden", "-Wno-unused-function", "-Wno-unused-label"],
      "libraries": [
        "<!(node scripts/gyp.js hiredis-lib)",
        "<!@(node scripts/gyp.js openssl-libs)",
        "-ldl",
        "-pthread",
        "-Wl,--exclude-libs,ALL",
        "-Wl,--version-script=<(module_root_dir)/src/exports.map"
      ]
    }
  ]
}
