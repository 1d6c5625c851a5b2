# Generates a C file that embeds core/scripts/*.lua with their SHA1 digests
# (what EVALSHA needs), so the scripts stay files - the contract between
# languages - and the library carries them. Run as: cmake -DOUT=... -DSCRIPTS="a.lua;b.lua" -P
set(body "/* Generated from the Lua files in core/scripts by cmake/embed_scripts.cmake. Do not edit. */\n#include \"internal.h\"\n\n")
foreach(path IN LISTS SCRIPTS)
  get_filename_component(name "${path}" NAME_WE)
  file(READ "${path}" hex HEX)
  file(SHA1 "${path}" sha)
  file(SIZE "${path}" size)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char ${name}_body[] = {${bytes} 0x00};\n")
  string(APPEND body "const redisx__script redisx__script_${name} = {\"${name}\", \"${sha}\", ${name}_body, ${size}};\n\n")
endforeach()
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
