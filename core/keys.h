/* Key layout of the interop contract (docs/KEYS.md): where a user-supplied
 * name goes into a key, and how it is encoded so that every key of one
 * script shares one Redis Cluster slot. */
#ifndef REDISX_CORE_KEYS_H
#define REDISX_CORE_KEYS_H

#include <stddef.h>

/* The byte that starts an encoded hash tag; a raw tag never starts with it. */
#define REDISX__TAG_ENCODED '~'

/* Length of the hash tag for `name` (the text between the braces). */
size_t redisx__tag_len(const char *name);
/* Writes the hash tag for `name` into out (redisx__tag_len(name) bytes, no
 * NUL). The tag is never empty and never contains '}', so Redis hashes
 * exactly it; distinct names give distinct tags. */
void redisx__tag_write(char *out, const char *name);
/* "<prefix>:<kind>:{<tag of name>}<suffix>", malloc'ed; NULL on OOM. The
 * prefix and kind must not contain '{' or '}' (refused where they are set). */
char *redisx__key_build(const char *prefix, const char *kind, const char *name, const char *suffix);

#endif
