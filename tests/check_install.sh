#!/usr/bin/env bash
# Installs a build into a throwaway prefix, then builds the consumer program
# from that prefix alone, with pkg-config (shared and static) and with CMake's
# find_package, and runs each against a throwaway redis-server.
source "$(dirname "$0")/../scripts/lib.sh"
build=${1:-build}
prefix=$(mktemp -d /tmp/redisx-prefix-XXXXXX)
work=$(mktemp -d /tmp/redisx-consumer-XXXXXX)
unset REDISX_URL
start_redis_if_needed
on_exit 'rm -rf "$prefix" "$work"'
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name redisx.pc)")/..
export PKG_CONFIG_PATH=$libdir/pkgconfig
src=$REDISX_ROOT/tests/install

cc -o "$work/consumer_pc" "$src/consumer.c" $(pkg-config --cflags --libs redisx) -Wl,-rpath,"$libdir"
"$work/consumer_pc" "$REDISX_URL"
cc -o "$work/consumer_pc_static" "$src/consumer.c" $(pkg-config --static --cflags redisx) \
  "$libdir/libredisx.a" $(pkg-config --static --libs-only-l redisx | sed 's/-lredisx//') -pthread
"$work/consumer_pc_static" "$REDISX_URL"
if ldd "$work/consumer_pc_static" | grep -q libredisx; then
  echo "static consumer still links libredisx.so"; exit 1
fi
cmake -S "$src" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/cmake/consumer_cmake" "$REDISX_URL"
"$work/cmake/consumer_cmake_static" "$REDISX_URL"
echo "check_install: pkg-config (shared, static) and find_package consumers ran"
